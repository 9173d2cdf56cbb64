# A scriptable DHCP client for the namespace tests: sends one message with exactly the options
# given and prints each reply as JSON. Written on Python's standard library only, so that what
# the server is tested against is not the project's own codec.
#   dhcp-probe.py IFACE MAC TYPE [--opt CODE=HEX ...] [--giaddr A --bind A --to A] [--port P] [--ciaddr A]
#                 [--wait S] [--count N]
import json, os, random, socket, struct, sys, time

args = sys.argv[1:]
iface, mac, mtype = args[0], args[1], args[2]
opts, giaddr, bind, to, port, ciaddr, wait, count, from_port, then_request = [], '0.0.0.0', '0.0.0.0', '255.255.255.255', 67, '0.0.0.0', 3.0, 1, 68, False
i = 3
while i < len(args):
    a = args[i]; v = args[i + 1]; i += 2
    if a == '--opt':
        code, hexv = v.split('=', 1); opts.append((int(code), bytes.fromhex(hexv)))
    elif a == '--giaddr': giaddr = v
    elif a == '--bind': bind = v
    elif a == '--to': to = v
    elif a == '--port': port = int(v)
    elif a == '--from-port': from_port = int(v)
    elif a == '--ciaddr': ciaddr = v
    elif a == '--then-request': then_request = v == 'yes'
    elif a == '--wait': wait = float(v)
    elif a == '--count': count = int(v)
    else: sys.exit('unknown argument ' + a)

TYPES = {'DISCOVER': 1, 'OFFER': 2, 'REQUEST': 3, 'DECLINE': 4, 'ACK': 5, 'NAK': 6, 'RELEASE': 7, 'INFORM': 8}
NAMES = {v: k for k, v in TYPES.items()}
xid = random.getrandbits(32)
hw = bytes.fromhex(mac.replace(':', ''))
hops = 1 if giaddr != '0.0.0.0' else 0
pkt = struct.pack('!BBBBIHH4s4s4s4s16s64s128sI', 1, 1, 6, hops, xid, 0, 0x8000, socket.inet_aton(ciaddr), b'\0' * 4, b'\0' * 4,
                  socket.inet_aton(giaddr), hw + b'\0' * 10, b'\0' * 64, b'\0' * 128, 0x63825363)
body = bytes([53, 1, TYPES[mtype]])
for code, val in opts:
    body += bytes([code, len(val)]) + val
pkt += body + b'\xff'
pkt += b'\0' * max(0, 300 - len(pkt))

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
if bind == '0.0.0.0':
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
s.bind((bind, from_port))
s.sendto(pkt, (to, port))
s.settimeout(0.2)
deadline = time.time() + wait
got = 0
while time.time() < deadline and got < count:
    try:
        data, src = s.recvfrom(4096)
    except socket.timeout:
        continue
    if len(data) < 240 or data[0] != 2 or struct.unpack('!I', data[4:8])[0] != xid:
        continue
    got += 1
    out = {'from': '%s:%d' % src, 'yiaddr': socket.inet_ntoa(data[16:20]), 'siaddr': socket.inet_ntoa(data[20:24]),
           'giaddr': socket.inet_ntoa(data[24:28]), 'flags': struct.unpack('!H', data[10:12])[0],
           'file': data[108:236].split(b'\0')[0].decode('latin1'), 'options': {}}
    j = 240
    while j < len(data) and data[j] != 255:
        if data[j] == 0:
            j += 1; continue
        c, l = data[j], data[j + 1]
        out['options'][str(c)] = data[j + 2:j + 2 + l].hex()
        j += 2 + l
    out['type'] = NAMES.get(int(out['options'].get('53', '00'), 16), '?')
    print(json.dumps(out), flush=True)
    if then_request and out['type'] == 'OFFER':
        # Take the offer: REQUEST with the same options plus 50 and 54 (RFC 2131 SELECTING).
        req = bytearray(pkt)
        body = bytes([53, 1, TYPES['REQUEST'], 50, 4]) + data[16:20] + bytes([54, 4]) + bytes.fromhex(out['options']['54'])
        for code, val in opts:
            body += bytes([code, len(val)]) + val
        req = bytes(req[:240]) + body + b'\xff'
        req += b'\0' * max(0, 300 - len(req))
        s.sendto(req, (to, port))
        then_request = False
        count += 1
if got == 0:
    print(json.dumps({'type': 'none'}), flush=True)
