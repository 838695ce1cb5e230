#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Check a capture.

  pcap_check.py FILE seq PROTO FIRST COUNT
      the PROTO (tcp, udp or any) frames carrying send.py payloads are
      exactly numbers FIRST..FIRST+COUNT-1, in order, once each
  pcap_check.py FILE count
      print the number of frames
  pcap_check.py FILE none-from ADDR
      no frame from ADDR (no RST, ACK, ICMP, nothing); lists any found
"""

import sys

# The layers alone: scapy.all costs three times the CPU to import, and a
# test runs this many times, on a host whose cores the guests need.
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw
from scapy.utils import rdpcap


def payload_seqs(frames, proto):
    layers = {"tcp": (TCP,), "udp": (UDP,), "any": (TCP, UDP)}[proto]
    seqs = []
    for f in frames:
        if any(layer in f for layer in layers) and Raw in f:
            data = bytes(f[Raw].load)
            if data.startswith(b"crak "):
                seqs.append(int(data.split()[1]))
    return seqs


def main():
    frames = rdpcap(sys.argv[1])
    what = sys.argv[2]
    if what == "count":
        print(len(frames))
        return 0
    if what == "seq":
        proto, first, count = sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
        got = payload_seqs(frames, proto)
        want = list(range(first, first + count))
        if got == want:
            print("%d %s frames in order" % (count, proto))
            return 0
        print("%s frames: got %d, want %d; first difference at %s" % (
            proto, len(got), count,
            next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), count))))
        return 1
    if what == "none-from":
        addr = sys.argv[3]
        bad = [f for f in frames if (IP in f and f[IP].src == addr) or
               (IPv6 in f and f[IPv6].src == addr)]
        for f in bad[:10]:
            print("from %s: %s" % (addr, f.summary()))
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
