# Shell side of bench/boot-services.bench.ts: sourced (after NETNS_PRELUDE from
# test/helpers/netns.ts) by the scripts that bench runs in a fresh `unshare -Urn` namespace.
# Nothing here reaches the host's network: servers listen on the veth `srv` (10.77.0.1/16) or
# on the namespace's own loopback, clients run in a nested namespace behind `cli` (10.77.0.2/16).
#
# Needs $NODE and $REPO_ROOT (set by runInNetns) and $BS_OUT (the run's output directory).

BS_SERVER_IP=10.77.0.1
BS_CLIENT_IP=10.77.0.2
BS_POOL_FIRST=10.77.1.0
BS_POOL_LAST=10.77.255.254
BS_TICKS=$(getconf CLK_TCK)

# The client namespace ($BS_CLI) joined to this one by a veth pair.
bs_lab() {
  netns_new BS_CLI
  netns_veth "$BS_CLI" srv cli "$BS_SERVER_IP/16" "$BS_CLIENT_IP/16"
}

# CPU time (user + system, ms) a process has used so far, threads included, and that of its
# children it has reaped (in.tftpd -L forks one per transfer and reaps it when it ends).
bs_cpu_ms() {
  awk -v t="$BS_TICKS" '{ print int(($14 + $15 + $16 + $17) * 1000 / t) }' "/proc/$1/stat" 2>/dev/null || echo 0
}

# How long (ms) the process's main thread has been runnable but waiting for a CPU: the share of
# the run other work on this machine took from it (/proc/PID/schedstat, second field, ns).
bs_runq_ms() {
  awk '{ print int($2 / 1000000) }' "/proc/$1/schedstat" 2>/dev/null || echo 0
}

# CPU time (ms, all CPUs) the hypervisor gave to others while this VM wanted to run: "steal" in
# /proc/stat. Other tenants of the host slow every server alike; this says when they did.
bs_steal_ms() {
  awk -v t="$BS_TICKS" '$1 == "cpu" { print int($9 * 1000 / t) }' /proc/stat
}

# CLOCK_MONOTONIC in microseconds: the clock of V8's --cpu-prof timestamps.
bs_mono_us() {
  python3 -c 'import time; print(time.monotonic_ns() // 1000)'
}

# Waits until something in this namespace listens on UDP port $1 (up to 15 s) and process $2 lives.
bs_wait_udp() {
  local port=$1 pid=$2 i
  for i in $(seq 1 150); do
    if ! kill -0 "$pid" 2>/dev/null; then echo "server (pid $pid) exited before listening on udp/$port" >&2; return 1; fi
    if [ -n "$(ss -Hlun "sport = :$port")" ]; then return 0; fi
    sleep 0.1
  done
  echo "nothing listens on udp/$port after 15 s" >&2
  return 1
}

# rackforge serve, arguments after the common ones; waits for `listening`. Sets BS_PID.
# BS_NODE_FLAGS (e.g. --cpu-prof --cpu-prof-dir DIR) go to node.
bs_start_rackforge() {
  local dir=$1; shift
  mkdir -p "$dir"
  # shellcheck disable=SC2086
  RACKFORGE_ADMIN_PASSWORD=benchpass "$NODE" ${BS_NODE_FLAGS:-} "$REPO_ROOT/bin/rackforge.js" serve --data "$dir/data" \
    --http-port 8080 --log-level warn "$@" >"$dir/serve.out" 2>"$dir/serve.err" &
  BS_PID=$!
  local i
  for i in $(seq 1 300); do
    if grep -q 'listening' "$dir/serve.out" 2>/dev/null; then return 0; fi
    if ! kill -0 "$BS_PID" 2>/dev/null; then echo "rackforge serve exited:" >&2; cat "$dir/serve.err" >&2; return 1; fi
    sleep 0.1
  done
  echo "rackforge serve did not print listening" >&2
  return 1
}

# Kills the server with SIGKILL (nothing gets flushed on the way out) and reaps it.
bs_kill9() {
  kill -9 "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# Stops the server with SIGTERM (lets node write its --cpu-prof file) and reaps it.
bs_term() {
  kill -TERM "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# tftpd-hpa calls initgroups()/setgroups() when it drops privileges; in an unprivileged user
# namespace setgroups(2) is denied, and in.tftpd exits 71 at the first request. This preload
# makes both calls no-ops (it still setuid()s to the namespace's root). Sets BS_SHIM.
bs_build_setgroups_shim() {
  BS_SHIM=$BS_OUT/setgroups-shim.so
  [ -f "$BS_SHIM" ] && return 0
  printf '%s\n' '#include <sys/types.h>' '#include <grp.h>' \
    'int setgroups(size_t n, const gid_t *l) { (void)n; (void)l; return 0; }' \
    'int initgroups(const char *u, gid_t g) { (void)u; (void)g; return 0; }' >"$BS_OUT/setgroups-shim.c"
  gcc -shared -fPIC -O2 -o "$BS_SHIM" "$BS_OUT/setgroups-shim.c"
}

# One timed TFTP download in the client namespace: prints a TSV line
#   label  run  microseconds  sha256  exit-status  server-cpu-ms  client-cpu-ms  steal-ms
# $1 label, $2 run number, $3 server pid, $4 output file, rest: the client command.
bs_tftp_get() {
  local label=$1 run=$2 pid=$3 out=$4; shift 4
  rm -f "$out"
  local c0 c1 t0 t1 s0 s1 rc=0 sum=- cl
  c0=$(bs_cpu_ms "$pid"); s0=$(bs_steal_ms)
  t0=$(date +%s%N)
  in_netns "$BS_CLI" /usr/bin/time -f '%U %S' -o "$BS_OUT/client-time" timeout 90 "$@" >/dev/null 2>>"$BS_OUT/tftp-clients.err" || rc=$?
  t1=$(date +%s%N)
  s1=$(bs_steal_ms)
  sleep 0.1 # in.tftpd reaps its per-transfer child on SIGCHLD: only then its CPU time counts
  c1=$(bs_cpu_ms "$pid")
  cl=$(awk '/^[0-9.]+ [0-9.]+$/ { print int(($1 + $2) * 1000) }' "$BS_OUT/client-time" 2>/dev/null || true)
  if [ -f "$out" ]; then sum=$(sha256sum "$out" | cut -d' ' -f1); fi
  rm -f "$out"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$label" "$run" "$(( (t1 - t0) / 1000 ))" "$sum" "$rc" "$(( c1 - c0 ))" "${cl:--1}" "$(( s1 - s0 ))"
}
