#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Send numbered TCP or UDP packets with scapy, as one burst.

Each packet's payload is "crak SEQ" (SEQ from --first, zero-padded), so that
a receiver or a capture can check that all arrived and in order.  TCP
segments carry PSH|ACK with consecutive sequence numbers, to a port without
a connection: whoever receives them would answer (RST), which is what a
frozen device must not let happen.
"""

import argparse
import socket
import sys

from scapy.all import IP, IPv6, TCP, UDP, Ether, Raw, conf, get_if_hwaddr, sendp


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--iface", default="eth0")
    p.add_argument("--dst", required=True, help="IPv4 or IPv6 address")
    p.add_argument("--dmac", required=True)
    p.add_argument("--src", required=True)
    p.add_argument("--proto", choices=("tcp", "udp"), required=True)
    p.add_argument("--sport", type=int, required=True)
    p.add_argument("--dport", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--first", type=int, default=0)
    a = p.parse_args()

    conf.verb = 0
    six = ":" in a.dst
    l3 = IPv6(src=a.src, dst=a.dst) if six else IP(src=a.src, dst=a.dst)
    eth = Ether(src=get_if_hwaddr(a.iface), dst=a.dmac)
    frames = []
    for i in range(a.first, a.first + a.count):
        payload = Raw(("crak %08d" % i).encode())
        if a.proto == "tcp":
            l4 = TCP(sport=a.sport, dport=a.dport, flags="PA", seq=1000 + 13 * i, ack=1)
        else:
            l4 = UDP(sport=a.sport, dport=a.dport)
        frames.append(eth / l3 / l4 / payload)
    s = conf.L2socket(iface=a.iface)
    try:
        for f in frames:
            s.send(f)
    finally:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
