#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send numbered TCP or UDP packets as one burst, from a packet socket.

Each packet's payload is "crak SEQ" (SEQ from --first, zero-padded), so that
a receiver or a capture can check that all arrived and in order.  TCP
segments carry PSH|ACK with consecutive sequence numbers, to a port without
a connection: whoever receives them would answer (RST), which is what a
frozen device must not let happen.

The frames are built here rather than with scapy: importing scapy takes
seconds in a TCG guest, and these are five headers.
"""

import os
import struct
import sys

# opts.py, socklite.py: beside this file where it was copied (a pod's /run), or in selftests/.
sys.path[1:1] = [os.path.dirname(os.path.dirname(os.path.abspath(__file__)))]
import opts  # noqa: E402
import socklite as socket  # noqa: E402  (socket.py's calls, lighter: socklite.py)

ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def l4_header(a, i, payload, pseudo):
    if a.proto == "tcp":
        hdr = struct.pack("!HHIIBBHHH", a.sport, a.dport, 1000 + 13 * i, 1,
                          5 << 4, 0x18, 65535, 0, 0)
        proto = socket.IPPROTO_TCP
        off = 16
    else:
        hdr = struct.pack("!HHHH", a.sport, a.dport, 8 + len(payload), 0)
        proto = socket.IPPROTO_UDP
        off = 6
    c = csum(pseudo(proto, len(hdr) + len(payload)) + hdr + payload)
    if proto == socket.IPPROTO_UDP and c == 0:
        c = 0xFFFF
    return proto, hdr[:off] + struct.pack("!H", c) + hdr[off + 2:]


def frame(a, i, smac, dmac):
    payload = ("crak %08d" % i).encode()
    if ":" in a.dst:
        src = socket.inet_pton(socket.AF_INET6, a.src)
        dst = socket.inet_pton(socket.AF_INET6, a.dst)

        def pseudo(proto, length):
            return src + dst + struct.pack("!IxxxB", length, proto)
        proto, l4 = l4_header(a, i, payload, pseudo)
        l3 = struct.pack("!IHBB", 6 << 28, len(l4) + len(payload), proto, 64) + src + dst
        ethertype = ETH_P_IPV6
    else:
        src = socket.inet_pton(socket.AF_INET, a.src)
        dst = socket.inet_pton(socket.AF_INET, a.dst)

        def pseudo(proto, length):
            return src + dst + struct.pack("!xBH", proto, length)
        proto, l4 = l4_header(a, i, payload, pseudo)
        hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(l4) + len(payload), i & 0xFFFF,
                          0, 64, proto, 0) + src + dst
        l3 = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
        ethertype = ETH_P_IP
    return dmac + smac + struct.pack("!H", ethertype) + l3 + l4 + payload


def main():
    a = opts.parse(__doc__, "", "--iface=eth0 --dst! --dmac! --src! --proto:tcp|udp! "
                   "--sport:int! --dport:int! --count:int! --first:int=0")

    with open("/sys/class/net/%s/address" % a.iface) as f:
        smac = bytes.fromhex(f.read().strip().replace(":", ""))
    dmac = bytes.fromhex(a.dmac.replace(":", ""))
    frames = [frame(a, i, smac, dmac) for i in range(a.first, a.first + a.count)]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    for f in frames:
        s.send(f)
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
