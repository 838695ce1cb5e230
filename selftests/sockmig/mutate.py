#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Broken copies of a crak socket image (uapi/linux/crak_sock.h).

  mutate.py IMAGE DIR N [--seed S]

writes into DIR one file per named defect, "NAME.img", with the text the
kernel's error must contain in "NAME.want", then N fuzzed mutants
"fuzz-K.img" (random bytes, lengths and records changed, the CRC made right
again so that the mutation reaches the parser, or left wrong).
"""

import argparse
import os
import random
import struct
import zlib

HDR = struct.Struct("<IHHII")    # magic version hdr_len len crc
REC = struct.Struct("<HHI")      # type flags len
REC_SOCK, REC_TCP, REC_RECVQ, REC_SENDQ = 1, 2, 3, 4
REC_URG = 8
URG = struct.Struct("<BBBBIII")  # struct crak_sock_rec_urg
URG_ARRIVED = 2
SOCK_STATE_OFF = 3               # in struct crak_sock_rec_sock
SOCK_FAMILY_OFF = 0
SOCK_PROTO_OFF = 2
TCP_MSS_OFF = 48                 # in struct crak_sock_rec_tcp
TCP_SND_WSCALE_OFF = 50
TCP_SND_WND_OFF = 24
TCP_MAX_WINDOW_OFF = 28
TCP_RCV_NXT_OFF = 12
TCP_SND_UNA_OFF = 0
TCP_SND_NXT_OFF = 4
TCP_WRITE_SEQ_OFF = 8
TCP_FIN_WAIT1 = 4
TCP_TIME_WAIT = 6
TCP_LISTEN = 10


def crc(body):
    return zlib.crc32(body) & 0xffffffff


def image(body, hdr=None, fix_crc=True):
    magic, version, hdr_len, length, c = hdr or (0x4b534b43, 1, HDR.size, len(body), 0)
    if fix_crc:
        c = crc(body)
    return HDR.pack(magic, version, hdr_len, length, c) + body


def records(body):
    out, off = [], 0
    while off < len(body):
        t, f, n = REC.unpack_from(body, off)
        out.append([t, f, bytearray(body[off + REC.size:off + REC.size + n])])
        off += REC.size + (n + 7) // 8 * 8
    return out


def pack(recs):
    out = b""
    for t, f, data in recs:
        pad = (len(data) + 7) // 8 * 8 - len(data)
        out += REC.pack(t, f, len(data)) + bytes(data) + b"\0" * pad
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("image")
    p.add_argument("dir")
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    raw = open(a.image, "rb").read()
    magic, version, hdr_len, length, c = HDR.unpack_from(raw)
    body = raw[HDR.size:]
    assert len(body) == length and crc(body) == c, "the input image is not valid"
    os.makedirs(a.dir, exist_ok=True)

    def put(name, data, want):
        with open(os.path.join(a.dir, name + ".img"), "wb") as f:
            f.write(data)
        with open(os.path.join(a.dir, name + ".want"), "w") as f:
            f.write(want + "\n")

    def edited(fn):
        recs = records(body)
        fn(recs)
        return image(pack(recs))

    def setb(rtype, off, fmt, val):
        def fn(recs):
            for r in recs:
                if r[0] == rtype:
                    struct.pack_into(fmt, r[2], off, val)
        return fn

    put("empty", b"", "truncated")
    put("half-header", raw[:7], "truncated")
    put("header-only", raw[:HDR.size], "truncated")
    put("cut-short", raw[:-8], "truncated")
    put("cut-mid-record", raw[:HDR.size + 12], "truncated")
    put("trailing", raw + b"\0" * 8, "longer than")
    put("magic", image(body, (0x12345678, 1, HDR.size, len(body), 0)), "magic")
    put("version", image(body, (magic, 2, HDR.size, len(body), 0)), "version")
    put("hdr-len", image(body, (magic, 1, 20, len(body), 0)), "header")
    put("len-huge", image(body, (magic, 1, HDR.size, 0xfffffff8, 0)), "length")
    put("len-odd", image(body, (magic, 1, HDR.size, len(body) - 3, 0)), "length")
    put("crc", image(body, (magic, 1, HDR.size, len(body), c ^ 1), fix_crc=False), "CRC")
    flipped = bytearray(body)
    flipped[len(flipped) // 2] ^= 0x40
    put("corrupted", image(bytes(flipped), (magic, 1, HDR.size, len(body), c), fix_crc=False),
        "CRC")
    rec_lie = bytearray(body)
    struct.pack_into("<I", rec_lie, 4, len(body))
    put("record-len-lie", image(bytes(rec_lie)), "past the end")
    put("unknown-record", edited(lambda r: r.append([99, 0, bytearray(8)])), "does not know")
    put("optional-unknown-ok-but-no-addr",
        edited(lambda r: r.append([99, 1, bytearray(8)])), "not on this host")
    put("duplicate", edited(lambda r: r.append(list(r[1]))), "twice")
    put("no-tcp", edited(lambda r: r.__delitem__(1)), "no socket, TCP or UDP")
    put("sock-not-first", edited(lambda r: r.reverse()), "not first")
    put("state", edited(setb(REC_SOCK, SOCK_STATE_OFF, "<B", TCP_TIME_WAIT)),
        "TCP state that does not restore")
    put("listen-without-record", edited(setb(REC_SOCK, SOCK_STATE_OFF, "<B", TCP_LISTEN)),
        "listening socket's records")
    def no_fin(recs):
        # FIN_WAIT1 with nothing unacknowledged: where is its FIN?
        setb(REC_SOCK, SOCK_STATE_OFF, "<B", TCP_FIN_WAIT1)(recs)
        for r in recs:
            if r[0] == REC_TCP:
                una = struct.unpack_from("<I", r[2], TCP_SND_UNA_OFF)[0]
                struct.pack_into("<II", r[2], TCP_SND_NXT_OFF, una, una)
            if r[0] == REC_SENDQ:
                r[2] = bytearray()

    put("fin-wait-1-without-fin", edited(no_fin), "TCP state disagree")
    put("family", edited(setb(REC_SOCK, SOCK_FAMILY_OFF, "<H", 99)), "family")
    put("proto", edited(setb(REC_SOCK, SOCK_PROTO_OFF, "<B", 132)), "neither TCP nor UDP")
    put("proto-udp", edited(setb(REC_SOCK, SOCK_PROTO_OFF, "<B", 17)), "UDP socket's records do not fit")
    put("recvq-lie", edited(setb(REC_TCP, TCP_RCV_NXT_OFF, "<I", 12345)), "receive queue")
    put("wscale", edited(setb(REC_TCP, TCP_SND_WSCALE_OFF, "<B", 15)), "window scale")
    put("mss", edited(setb(REC_TCP, TCP_MSS_OFF, "<H", 0)), "MSS")
    put("window", edited(setb(REC_TCP, TCP_MAX_WINDOW_OFF, "<I", 0)), "window")

    def urgent_past_queue(recs):
        # An urgent byte that arrived, a thousand bytes past the queue's end.
        nxt = [struct.unpack_from("<I", r[2], TCP_RCV_NXT_OFF)[0] for r in recs
               if r[0] == REC_TCP][0]
        recs.append([REC_URG, 0, bytearray(URG.pack(URG_ARRIVED, 33, 0, 0,
                                                    (nxt + 1000) & 0xffffffff, 0, 0))])

    put("urgent-outside", edited(urgent_past_queue), "urgent data outside")
    put("intact", raw, "not on this host")

    rnd = random.Random(a.seed)
    for k in range(a.n):
        data = bytearray(body)
        how = rnd.randrange(4)
        if how == 0:            # a few bytes anywhere
            for _ in range(rnd.randint(1, 8)):
                data[rnd.randrange(len(data))] = rnd.randrange(256)
        elif how == 1:          # a record's length
            recs = records(body)
            off = 0
            for t, f, d in recs[:rnd.randrange(len(recs))]:
                off += REC.size + (len(d) + 7) // 8 * 8
            struct.pack_into("<I", data, off + 4, rnd.choice(
                [0, 1, 7, 8, rnd.randrange(1 << 32), len(body), len(body) - off]))
        elif how == 2:          # a field of the socket or TCP record
            data[REC.size + rnd.randrange(120)] ^= 1 << rnd.randrange(8)
        else:                   # cut or extended
            data = data[:rnd.randrange(len(data))] if rnd.random() < 0.5 \
                else data + bytes(rnd.randrange(1, 64))
        fix = rnd.random() < 0.9
        hdr = (magic, 1, HDR.size, len(data), 0) if fix or how == 3 else None
        out = image(bytes(data), hdr, fix_crc=fix) if hdr else \
            image(bytes(data), (magic, 1, HDR.size, len(data), c), fix_crc=False)
        with open(os.path.join(a.dir, "fuzz-%d.img" % k), "wb") as f:
            f.write(out)


if __name__ == "__main__":
    main()
