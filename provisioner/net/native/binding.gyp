# The interface-aware UDP socket for the DHCP server (see iface_udp.c). Plain C on Node-API and
# libuv only; built by scripts/build-native.mjs. Linux only (IP_PKTINFO, SO_BINDTODEVICE, SIOCSARP).
{
  "targets": [
    {
      "target_name": "iface_udp",
      "sources": ["iface_udp.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}
