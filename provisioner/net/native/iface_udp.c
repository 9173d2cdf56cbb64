// iface_udp: an IPv4 UDP socket that knows which interface a datagram arrived on and can send
// out of a chosen interface, for the DHCP server (node:dgram can do neither).
//
//   open({address, port, device?, broadcast?, reuseAddr?, peer?}, onMessage, onError) -> handle
//       onMessage(buf, fromAddr, fromPort, toAddr, ifindex, ifname)   (last three from IP_PKTINFO)
//       peer {address, port}: the port is for an exchange with this peer (a TFTP transfer's
//       client): no IP_PKTINFO, and it polls briefly for the peer's answers (see SPIN_NS).
//       It is not connect(2)ed: others' datagrams still arrive (TFTP answers them ERROR 5).
//       onError(err)                                                  (recvmsg / poll failures)
//   address(handle) -> {address, port}                                 (getsockname)
//   send(handle, buf, addr, port, ifname?, hwaddr?) -> undefined
//   close(handle)                                                      (idempotent)
//   ifindex(name) -> number
//
// Socket failures throw an Error whose `code` is the errno name (EADDRINUSE, ENODEV, EPERM...),
// `syscall` the failing call and `errno` the negative errno (as Node's own errors); bad
// arguments throw a TypeError. Linux only: IP_PKTINFO, SO_BINDTODEVICE and SIOCSARP.
#define _GNU_SOURCE
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// The syscall tag of a refused neighbour entry; native-addon.ts matches on it.
#define SYSCALL_SIOCSARP "ioctl(SIOCSARP)"
// Datagrams handled per readiness callback; the poll is level-triggered, so anything left is
// picked up on the next loop iteration instead of starving timers and other I/O.
#define MAX_DRAIN 64
// A port with a peer (a lock-step TFTP transfer: one ACK in, one DATA out) waits for its peer's
// next datagram by polling for up to SPIN_NS after handling one, instead of going back to epoll:
// the round trip then skips a sleep and a wake-up, which on these VMs is most of it (a 16 MiB
// lock-step download at blksize 512 over loopback: 5.0 s without, 1.6-2.3 s with; 95 % of the
// blocks' ACKs were found by polling, and 99.6 % of the polls found one). A miss now and then is forgiven; misses in a row are a slow peer (a
// firmware under emulation, clients of a busy storm), and each further one doubles the number
// of chances to spin that are skipped, up to 1024, so a slow peer costs about one wasted spin
// per 1024 datagrams. MAX_DRAIN still hands the loop back to timers and other sockets every
// 64 datagrams.
#define SPIN_NS 150000

static const napi_type_tag PORT_TAG = {0x72616b666f726765ULL, 0x69666163655f7564ULL};

typedef struct iface_port {
  napi_env env;
  int fd;                 // -1 once closed
  int poll_initialized;   // uv_poll_init succeeded: the handle must be uv_close'd
  int poll_closed;        // the uv close callback ran (or there never was a handle)
  int finalized;          // the JS wrapper is gone: nobody can reach this struct any more
  int hook_added;         // an env cleanup hook is registered for this port
  int has_peer;           // opened for an exchange with one peer: spin for its answers
  int spin_skip;          // has_peer: spin chances still to skip
  int spin_misses;        // has_peer: spins in a row that found nothing
  napi_ref on_message;
  napi_ref on_error;
  napi_async_context async_ctx;
  uv_poll_t poll;
  unsigned char buf[65536];
} iface_port;

// ---------- errors ----------

static void set_named(napi_env env, napi_value obj, const char *name, napi_value v) {
  napi_set_named_property(env, obj, name, v);
}

static napi_value errno_error(napi_env env, int err, const char *syscall, const char *detail) {
  int uverr = uv_translate_sys_error(err);
  const char *code = uv_err_name(uverr);
  char msg[512];
  snprintf(msg, sizeof msg, "%s %s%s%s (%s)", syscall, code, detail && *detail ? " " : "", detail ? detail : "",
           uv_strerror(uverr));
  napi_value code_v, msg_v, e, v;
  napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &code_v);
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &msg_v);
  napi_create_error(env, code_v, msg_v, &e);
  napi_create_int32(env, -err, &v);
  set_named(env, e, "errno", v);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &v);
  set_named(env, e, "syscall", v);
  return e;
}

static void throw_errno(napi_env env, int err, const char *syscall, const char *detail) {
  napi_throw(env, errno_error(env, err, syscall, detail));
}

static void throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
}

// A failed napi call that did not already leave an exception pending becomes a plain Error.
static int napi_failed(napi_env env, napi_status st) {
  if (st == napi_ok) return 0;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    const napi_extended_error_info *info = NULL;
    napi_get_last_error_info(env, &info);
    napi_throw_error(env, NULL, info && info->error_message ? info->error_message : "Node-API call failed");
  }
  return 1;
}

#define NAPI_TRY(call)                    \
  do {                                    \
    if (napi_failed(env, (call))) return NULL; \
  } while (0)

// ---------- argument helpers (each throws a TypeError and returns 0 on a bad value) ----------

static int is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  if (v == NULL || napi_typeof(env, v, &t) != napi_ok) return 1;
  return t == napi_undefined || t == napi_null;
}

static int get_string(napi_env env, napi_value v, char *out, size_t size, const char *what) {
  napi_valuetype t;
  size_t len = 0;
  char msg[128];
  if (v == NULL || napi_typeof(env, v, &t) != napi_ok || t != napi_string) {
    snprintf(msg, sizeof msg, "%s must be a string", what);
    throw_type(env, msg);
    return 0;
  }
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len == 0 || len >= size) {
    snprintf(msg, sizeof msg, "%s must be a non-empty string shorter than %zu bytes", what, size);
    throw_type(env, msg);
    return 0;
  }
  napi_get_value_string_utf8(env, v, out, size, &len);
  if (strlen(out) != len) {
    snprintf(msg, sizeof msg, "%s must not contain NUL", what);
    throw_type(env, msg);
    return 0;
  }
  return 1;
}

static int get_ipv4(napi_env env, napi_value v, struct in_addr *out, const char *what) {
  char s[64], msg[128];
  if (!get_string(env, v, s, sizeof s, what)) return 0;
  if (inet_pton(AF_INET, s, out) != 1) {
    snprintf(msg, sizeof msg, "%s must be a dotted-quad IPv4 address", what);
    throw_type(env, msg);
    return 0;
  }
  return 1;
}

static int get_port(napi_env env, napi_value v, int min, uint16_t *out, const char *what) {
  napi_valuetype t;
  double d;
  char msg[128];
  if (v == NULL || napi_typeof(env, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env, v, &d) != napi_ok ||
      !(d >= min && d <= 65535) || d != (double)(int)d) {  // range first: (int) of NaN/Inf is undefined
    snprintf(msg, sizeof msg, "%s must be an integer from %d to 65535", what, min);
    throw_type(env, msg);
    return 0;
  }
  *out = (uint16_t)d;
  return 1;
}

static int get_function(napi_env env, napi_value v, const char *what) {
  napi_valuetype t;
  char msg[128];
  if (v == NULL || napi_typeof(env, v, &t) != napi_ok || t != napi_function) {
    snprintf(msg, sizeof msg, "%s must be a function", what);
    throw_type(env, msg);
    return 0;
  }
  return 1;
}

// "aa:bb:cc:dd:ee:ff" or "aa-bb-cc-dd-ee-ff" (either case).
static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static int parse_mac(const char *s, unsigned char mac[6]) {
  if (strlen(s) != 17) return 0;
  char sep = s[2];
  if (sep != ':' && sep != '-') return 0;
  for (int i = 0; i < 6; i++) {
    int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
    if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != sep)) return 0;
    mac[i] = (unsigned char)(hi << 4 | lo);
  }
  return 1;
}

static iface_port *get_port_handle(napi_env env, napi_value v) {
  napi_valuetype t;
  bool tagged = false;
  void *p = NULL;
  if (v == NULL || napi_typeof(env, v, &t) != napi_ok || t != napi_object ||
      napi_check_object_type_tag(env, v, &PORT_TAG, &tagged) != napi_ok || !tagged ||
      napi_unwrap(env, v, &p) != napi_ok || p == NULL) {
    throw_type(env, "handle must be a value returned by open()");
    return NULL;
  }
  return (iface_port *)p;
}

// ---------- lifetime ----------
//
// The struct is freed only when both the uv poll handle has finished closing and the JS wrapper
// has been finalized, whichever comes last. Closing happens on close(), in the wrapper's
// finalizer, or in an env cleanup hook at exit/worker termination (registered after Node-API's
// own hook, so it runs before Node-API tears the env down).

static void maybe_free(iface_port *p) {
  if (p->poll_closed && p->finalized) free(p);
}

static void on_poll_closed(uv_handle_t *h) {
  iface_port *p = (iface_port *)h->data;
  p->poll_closed = 1;
  maybe_free(p);
}

static void on_env_cleanup(void *arg);

// env_alive: 0 when called from the env cleanup hook, where the env is being torn down and the
// references go with it.
static void port_close(iface_port *p, int env_alive) {
  if (p->fd < 0) return;
  int fd = p->fd;
  p->fd = -1;
  if (p->poll_initialized)
    uv_close((uv_handle_t *)&p->poll, on_poll_closed);  // stops polling before the fd goes away
  else
    p->poll_closed = 1;
  close(fd);
  if (p->hook_added) {
    p->hook_added = 0;
    napi_remove_env_cleanup_hook(p->env, on_env_cleanup, p);
  }
  if (env_alive) {
    if (p->on_message) napi_delete_reference(p->env, p->on_message);
    if (p->on_error) napi_delete_reference(p->env, p->on_error);
    if (p->async_ctx) napi_async_destroy(p->env, p->async_ctx);
  }
  p->on_message = NULL;
  p->on_error = NULL;
  p->async_ctx = NULL;
}

static void on_env_cleanup(void *arg) {
  iface_port *p = (iface_port *)arg;
  p->hook_added = 0;  // being run: must not be removed again
  port_close(p, 0);
}

static void on_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  iface_port *p = (iface_port *)data;
  p->finalized = 1;
  port_close(p, 1);
  maybe_free(p);
}

// ---------- receive ----------

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void call_js(iface_port *p, napi_ref ref, size_t argc, napi_value *argv) {
  napi_env env = p->env;
  napi_value cb, global, result;
  if (ref == NULL || napi_get_reference_value(env, ref, &cb) != napi_ok || cb == NULL) return;
  if (napi_get_global(env, &global) != napi_ok) return;
  // make_callback (not call_function) so nextTicks and microtasks queued by the handler run
  // right after it, as for any other I/O callback.
  napi_make_callback(env, p->async_ctx, global, cb, argc, argv, &result);
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_value ex;
    napi_get_and_clear_last_exception(env, &ex);
    napi_fatal_exception(env, ex);  // the handler threw: same fate as a throwing 'message' listener
  }
}

static void report_error(iface_port *p, int uverr, const char *syscall) {
  napi_value e = errno_error(p->env, -uverr, syscall, NULL);
  call_js(p, p->on_error, 1, &e);
}

static napi_value str_or_undefined(napi_env env, const char *s) {
  napi_value v;
  if (s == NULL)
    napi_get_undefined(env, &v);
  else
    napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static void deliver(iface_port *p, size_t len, const struct sockaddr_in *from, const struct in_pktinfo *pi) {
  napi_env env = p->env;
  napi_value argv[6];
  char from_s[INET_ADDRSTRLEN], to_s[INET_ADDRSTRLEN];
  void *data;
  napi_create_buffer_copy(env, len, p->buf, &data, &argv[0]);
  inet_ntop(AF_INET, &from->sin_addr, from_s, sizeof from_s);
  argv[1] = str_or_undefined(env, from_s);
  napi_create_uint32(env, ntohs(from->sin_port), &argv[2]);
  if (pi) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = pi->ipi_ifindex;
    // SIOCGIFNAME on our own socket: if_indextoname would open a socket per datagram.
    int have_name = ioctl(p->fd, SIOCGIFNAME, &ifr) == 0;
    inet_ntop(AF_INET, &pi->ipi_addr, to_s, sizeof to_s);
    argv[3] = str_or_undefined(env, to_s);
    napi_create_int32(env, pi->ipi_ifindex, &argv[4]);
    argv[5] = str_or_undefined(env, have_name ? ifr.ifr_name : NULL);
  } else {
    argv[3] = argv[4] = argv[5] = str_or_undefined(env, NULL);
  }
  call_js(p, p->on_message, 6, argv);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  iface_port *p = (iface_port *)h->data;
  if (p->fd < 0) return;
  napi_env env = p->env;
  napi_handle_scope outer;
  if (napi_open_handle_scope(env, &outer) != napi_ok) return;
  if (status < 0) {
    report_error(p, status, "poll");
  } else {
    for (int i = 0; i < MAX_DRAIN && p->fd >= 0; i++) {  // a handler may close the port
      struct sockaddr_in from;
      union {
        char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
        struct cmsghdr align;
      } control;
      struct iovec iov = {.iov_base = p->buf, .iov_len = sizeof p->buf};
      struct msghdr msg = {.msg_name = &from,
                           .msg_namelen = sizeof from,
                           .msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = control.buf,
                           .msg_controllen = sizeof control.buf};
      ssize_t n = recvmsg(p->fd, &msg, MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && p->has_peer && i > 0) {
        if (p->spin_skip > 0) {
          p->spin_skip--;
        } else {
          int64_t until = now_ns() + SPIN_NS;
          do n = recvmsg(p->fd, &msg, MSG_DONTWAIT);
          while (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && now_ns() < until);
          if (n >= 0) {
            p->spin_misses = 0;
          } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            // A miss now and then is a peer descheduled once; misses in a row are a slow peer.
            p->spin_misses++;
            p->spin_skip = p->spin_misses < 2 ? 0 : (1 << (p->spin_misses < 12 ? p->spin_misses - 1 : 10));
          }
        }
      }
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) report_error(p, uv_translate_sys_error(errno), "recvmsg");
        break;
      }

      struct in_pktinfo pi;
      int have_pi = 0;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO && c->cmsg_len >= CMSG_LEN(sizeof pi)) {
          memcpy(&pi, CMSG_DATA(c), sizeof pi);
          have_pi = 1;
        }
      }
      napi_handle_scope inner;
      if (napi_open_handle_scope(env, &inner) != napi_ok) break;
      deliver(p, (size_t)n, &from, have_pi ? &pi : NULL);
      napi_close_handle_scope(env, inner);
    }
  }
  napi_close_handle_scope(env, outer);
}

// ---------- open ----------

static int get_prop(napi_env env, napi_value obj, const char *name, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok) return 0;
  if (!has) {
    napi_get_undefined(env, out);
    return 1;
  }
  return napi_get_named_property(env, obj, name, out) == napi_ok;
}

static int get_bool(napi_env env, napi_value v, int dflt, int *out, const char *what) {
  napi_valuetype t;
  bool b;
  char msg[128];
  if (is_nullish(env, v)) {
    *out = dflt;
    return 1;
  }
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_boolean || napi_get_value_bool(env, v, &b) != napi_ok) {
    snprintf(msg, sizeof msg, "%s must be a boolean", what);
    throw_type(env, msg);
    return 0;
  }
  *out = b;
  return 1;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3] = {NULL, NULL, NULL};
  napi_valuetype t;
  NAPI_TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argv[0] == NULL || napi_typeof(env, argv[0], &t) != napi_ok || t != napi_object) {
    throw_type(env, "open: options must be an object");
    return NULL;
  }
  if (!get_function(env, argv[1], "open: onMessage") || !get_function(env, argv[2], "open: onError")) return NULL;

  napi_value v_addr, v_port, v_dev, v_bcast, v_reuse, v_peer;
  if (!get_prop(env, argv[0], "address", &v_addr) || !get_prop(env, argv[0], "port", &v_port) ||
      !get_prop(env, argv[0], "device", &v_dev) || !get_prop(env, argv[0], "broadcast", &v_bcast) ||
      !get_prop(env, argv[0], "reuseAddr", &v_reuse) || !get_prop(env, argv[0], "peer", &v_peer))
    return NULL;
  struct sockaddr_in peer;
  memset(&peer, 0, sizeof peer);
  int has_peer = !is_nullish(env, v_peer);
  if (has_peer) {
    napi_value v_paddr, v_pport;
    uint16_t pport;
    if (napi_typeof(env, v_peer, &t) != napi_ok || t != napi_object) {
      throw_type(env, "open: peer must be an object {address, port}");
      return NULL;
    }
    if (!get_prop(env, v_peer, "address", &v_paddr) || !get_prop(env, v_peer, "port", &v_pport)) return NULL;
    if (!get_ipv4(env, v_paddr, &peer.sin_addr, "open: peer.address") || !get_port(env, v_pport, 1, &pport, "open: peer.port"))
      return NULL;
    peer.sin_family = AF_INET;
    peer.sin_port = htons(pport);
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  uint16_t port;
  char device[IFNAMSIZ] = "";
  int broadcast, reuse;
  if (!get_ipv4(env, v_addr, &sa.sin_addr, "open: address") || !get_port(env, v_port, 0, &port, "open: port")) return NULL;
  sa.sin_port = htons(port);
  if (!is_nullish(env, v_dev) && !get_string(env, v_dev, device, sizeof device, "open: device")) return NULL;
  if (!get_bool(env, v_bcast, 0, &broadcast, "open: broadcast") || !get_bool(env, v_reuse, 1, &reuse, "open: reuseAddr"))
    return NULL;

  char where[96], addr_s[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sa.sin_addr, addr_s, sizeof addr_s);
  snprintf(where, sizeof where, "%s:%u", addr_s, port);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw_errno(env, errno, "socket", NULL);
    return NULL;
  }
  int one = 1;
  const char *failed = NULL;
  const char *detail = where;
  if (reuse && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    failed = "setsockopt(SO_REUSEADDR)";
  else if (broadcast && setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one) < 0)
    failed = "setsockopt(SO_BROADCAST)";
  else if (!has_peer && setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) < 0)
    failed = "setsockopt(IP_PKTINFO)";
  else if (device[0] && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device) + 1) < 0) {
    failed = "setsockopt(SO_BINDTODEVICE)";
    detail = device;
  } else if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
    failed = "bind";
  if (failed) {
    int err = errno;
    close(fd);
    throw_errno(env, err, failed, detail);
    return NULL;
  }

  iface_port *p = calloc(1, sizeof *p);
  if (p == NULL) {
    close(fd);
    throw_errno(env, ENOMEM, "open", NULL);
    return NULL;
  }
  p->env = env;
  p->fd = fd;
  p->poll.data = p;
  p->has_peer = has_peer;

  // Until the wrapper owns p, a failure path closes the port and frees p itself (finalized=1
  // lets the uv close callback free it when a poll handle exists).
  napi_value obj, resource_name;
  uv_loop_t *loop = NULL;
  napi_status st = napi_create_object(env, &obj);
  if (st == napi_ok) st = napi_type_tag_object(env, obj, &PORT_TAG);
  if (st == napi_ok) st = napi_create_reference(env, argv[1], 1, &p->on_message);
  if (st == napi_ok) st = napi_create_reference(env, argv[2], 1, &p->on_error);
  if (st == napi_ok) st = napi_create_string_utf8(env, "rackforge:iface_udp", NAPI_AUTO_LENGTH, &resource_name);
  if (st == napi_ok) st = napi_async_init(env, obj, resource_name, &p->async_ctx);
  if (st == napi_ok) st = napi_get_uv_event_loop(env, &loop);
  if (st != napi_ok) {
    napi_failed(env, st);
    p->finalized = 1;
    port_close(p, 1);
    maybe_free(p);
    return NULL;
  }
  int uverr = uv_poll_init(loop, &p->poll, fd);
  if (uverr == 0) {
    p->poll_initialized = 1;
    uverr = uv_poll_start(&p->poll, UV_READABLE, on_readable);
  }
  if (uverr != 0) {
    p->finalized = 1;
    port_close(p, 1);
    maybe_free(p);
    throw_errno(env, -uverr, "uv_poll", NULL);
    return NULL;
  }
  st = napi_wrap(env, obj, p, on_finalize, NULL, NULL);
  if (st != napi_ok) {
    napi_failed(env, st);
    p->finalized = 1;
    port_close(p, 1);
    maybe_free(p);
    return NULL;
  }
  if (napi_add_env_cleanup_hook(env, on_env_cleanup, p) == napi_ok) p->hook_added = 1;
  return obj;
}

// ---------- address / close / ifindex ----------

static napi_value js_address(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  iface_port *p = get_port_handle(env, argv[0]);
  if (p == NULL) return NULL;
  if (p->fd < 0) {
    throw_errno(env, EBADF, "getsockname", "(port closed)");
    return NULL;
  }
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  if (getsockname(p->fd, (struct sockaddr *)&sa, &len) < 0) {
    throw_errno(env, errno, "getsockname", NULL);
    return NULL;
  }
  char s[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sa.sin_addr, s, sizeof s);
  napi_value obj, v;
  NAPI_TRY(napi_create_object(env, &obj));
  NAPI_TRY(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v));
  NAPI_TRY(napi_set_named_property(env, obj, "address", v));
  NAPI_TRY(napi_create_uint32(env, ntohs(sa.sin_port), &v));
  NAPI_TRY(napi_set_named_property(env, obj, "port", v));
  return obj;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL};
  NAPI_TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  iface_port *p = get_port_handle(env, argv[0]);
  if (p == NULL) return NULL;
  port_close(p, 1);
  return NULL;
}

static napi_value js_ifindex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1] = {NULL}, out;
  char name[IFNAMSIZ];
  NAPI_TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!get_string(env, argv[0], name, sizeof name, "ifindex: name")) return NULL;
  unsigned int idx = if_nametoindex(name);
  if (idx == 0) {
    throw_errno(env, errno ? errno : ENODEV, "if_nametoindex", name);
    return NULL;
  }
  NAPI_TRY(napi_create_uint32(env, idx, &out));
  return out;
}

// ---------- send ----------

static int is_unicast(struct in_addr a) {
  uint32_t h = ntohl(a.s_addr);
  return h != INADDR_BROADCAST && h != INADDR_ANY && !IN_MULTICAST(h);
}

// Installs a complete neighbour entry (dnsmasq does the same) so a unicast reaches a client
// that cannot answer ARP yet because it has no address (RFC 2131 §4.1). Returns 0 or errno.
static int set_neighbour(int fd, const char *ifname, struct in_addr ip, const unsigned char mac[6]) {
  struct arpreq req;
  memset(&req, 0, sizeof req);
  struct sockaddr_in *pa = (struct sockaddr_in *)&req.arp_pa;
  pa->sin_family = AF_INET;
  pa->sin_addr = ip;
  req.arp_ha.sa_family = ARPHRD_ETHER;
  memcpy(req.arp_ha.sa_data, mac, 6);
  req.arp_flags = ATF_COM;
  snprintf(req.arp_dev, sizeof req.arp_dev, "%s", ifname);
  return ioctl(fd, SIOCSARP, &req) < 0 ? errno : 0;
}

static napi_value js_send(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
  NAPI_TRY(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  iface_port *p = get_port_handle(env, argv[0]);
  if (p == NULL) return NULL;

  bool is_buf = false;
  void *data = NULL;
  size_t len = 0;
  if (argv[1] == NULL || napi_is_buffer(env, argv[1], &is_buf) != napi_ok || !is_buf ||
      napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    throw_type(env, "send: data must be a Buffer");
    return NULL;
  }
  struct sockaddr_in to;
  memset(&to, 0, sizeof to);
  to.sin_family = AF_INET;
  uint16_t port;
  if (!get_ipv4(env, argv[2], &to.sin_addr, "send: address") || !get_port(env, argv[3], 1, &port, "send: port"))
    return NULL;
  to.sin_port = htons(port);
  char ifname[IFNAMSIZ] = "", hw_s[32] = "";
  unsigned char mac[6];
  if (!is_nullish(env, argv[4]) && !get_string(env, argv[4], ifname, sizeof ifname, "send: ifname")) return NULL;
  if (!is_nullish(env, argv[5])) {
    if (!get_string(env, argv[5], hw_s, sizeof hw_s, "send: hwaddr")) return NULL;
    if (!parse_mac(hw_s, mac)) {
      throw_type(env, "send: hwaddr must be an Ethernet address like 52:54:00:12:34:56");
      return NULL;
    }
  }
  if (p->fd < 0) {
    throw_errno(env, EBADF, "sendmsg", "(port closed)");
    return NULL;
  }

  // "ADDR:PORT[ dev IF]" for error messages, formatted only when one is thrown.
  char dest[96], to_s[INET_ADDRSTRLEN];
#define FORMAT_DEST()                                                                   \
  do {                                                                                  \
    inet_ntop(AF_INET, &to.sin_addr, to_s, sizeof to_s);                                \
    snprintf(dest, sizeof dest, "%s:%u%s%s", to_s, port, ifname[0] ? " dev " : "", ifname); \
  } while (0)
  union {
    char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct iovec iov = {.iov_base = data, .iov_len = len};
  struct msghdr msg = {.msg_name = &to, .msg_namelen = sizeof to, .msg_iov = &iov, .msg_iovlen = 1};

  if (ifname[0]) {
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (ioctl(p->fd, SIOCGIFINDEX, &ifr) < 0) {
      throw_errno(env, errno, "ioctl(SIOCGIFINDEX)", ifname);
      return NULL;
    }
    int ifindex = ifr.ifr_ifindex;
    if (hw_s[0] && is_unicast(to.sin_addr)) {
      // Loopback and NOARP links never resolve neighbours: nothing to install there.
      if (ioctl(p->fd, SIOCGIFFLAGS, &ifr) < 0) {
        throw_errno(env, errno, "ioctl(SIOCGIFFLAGS)", ifname);
        return NULL;
      }
      if (!(ifr.ifr_flags & (IFF_LOOPBACK | IFF_NOARP))) {
        int err = set_neighbour(p->fd, ifname, to.sin_addr, mac);
        if (err) {
          char detail[128];
          inet_ntop(AF_INET, &to.sin_addr, to_s, sizeof to_s);
          snprintf(detail, sizeof detail, "%s lladdr %s dev %s", to_s, hw_s, ifname);
          throw_errno(env, err, SYSCALL_SIOCSARP, detail);
          return NULL;
        }
      }
    }
    // ipi_ifindex picks the outgoing interface even for 255.255.255.255, which has no route:
    // the kernel sends limited broadcasts straight out of the given device (as dnsmasq relies on).
    msg.msg_control = control.buf;
    msg.msg_controllen = sizeof control.buf;
    struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    pi.ipi_ifindex = ifindex;
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }

  ssize_t n;
  do n = sendmsg(p->fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) {
    int err = errno;
    FORMAT_DEST();
    throw_errno(env, err, "sendmsg", dest);
    return NULL;
  }
  return NULL;
}

// ---------- module ----------

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"address", NULL, js_address, NULL, NULL, NULL, napi_enumerable, NULL},
      {"send", NULL, js_send, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"ifindex", NULL, js_ifindex, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
