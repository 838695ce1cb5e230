#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Broken copies of a crak process image (uapi/linux/crak_image.h).

  mutate.py IMAGE DIR N [--seed S] [--live]

writes into DIR one file per named defect, "NAME.img", with the text the
error must contain in "NAME.want" (--live: IMAGE is of crak checkpoint
--live, and the defects are of its AHEAD sections); then N fuzzed mutants
"fuzz-K.img":
random bytes, fields and lengths of a random section changed, most with
their checks made right again so that the change reaches the parsers, some
left wrong.  A fuzzed image may still be a working one (a changed byte of
memory nobody reads); what it must never do is hurt the kernel.
"""

import argparse
import os
import random
import struct

import xxhash

SEC = struct.Struct("<IIQII")        # type flags len seq check
HEAD, PROC, RLIMITS, FILE, SIGACTIONS, THREAD, SIGNAL, MM, VMA, PAGES, END = range(1, 12)
VMA_S = struct.Struct("<QQQIIIIQQ")   # start end pgoff kind prot flags path_len shmid file_size
PAGES_S = struct.Struct("<QQ")        # addr nr_pages
TIMERS = 12
# id clock notify signo sigval tid pad value interval
TIMER_S = struct.Struct("<IIIIQIIQQ")
END_S = struct.Struct("<IIQQ")        # sections pad pages bytes
AHEAD = 18
AHEAD_S = struct.Struct("<IIQ")       # pid nr_pages addr


def parse(data):
    out, off = [], 0
    while off < len(data):
        t, f, n, seq, _ = SEC.unpack_from(data, off)
        payload = bytearray(data[off + SEC.size:off + SEC.size + n])
        out.append([t, f, payload])
        off += SEC.size + n + 8
    return out


def build(secs, fix=True):
    out = bytearray()
    for seq, (t, f, payload) in enumerate(secs):
        hdr = bytearray(SEC.pack(t, f, len(payload), seq, 0))
        struct.pack_into("<I", hdr, 20, xxhash.xxh32(bytes(hdr[:20])).intdigest())
        out += hdr + payload + struct.pack("<Q", xxhash.xxh64(bytes(payload)).intdigest())
    return bytes(out)


def fix_end(secs):
    """END counts what came before it: sections, pages and bytes."""
    t, f, payload = secs[-1]
    if t != END:
        return
    pages = sum(struct.unpack_from("<Q", p, 8)[0] for tt, _, p in secs if tt == PAGES)
    size = sum(SEC.size + len(p) + 8 for _, _, p in secs[:-1])
    struct.pack_into("<IIQQ", payload, 0, len(secs) - 1, 0, pages, size)


def copy(secs):
    return [[t, f, bytearray(p)] for t, f, p in secs]


def first(secs, kind):
    return next(i for i, s in enumerate(secs) if s[0] == kind)


def named(data, secs):
    """(name, image bytes, text the error must contain)."""
    out = []
    n = len(data)
    out.append(("empty", b"", "ends early"))
    out.append(("truncated-head", data[:10], "ends early"))
    vma0 = first(secs, VMA)
    cut = sum(SEC.size + len(p) + 8 for _, _, p in secs[:vma0]) + 30
    out.append(("truncated-memory", data[:cut], "ends before its END"))
    out.append(("truncated-end", data[:n - 12], "ends before its END"))

    bad = bytearray(data)
    bad[SEC.size] ^= 0xff
    out.append(("bad-magic", build_fixed(bad), "not a crak process image"))
    bad = bytearray(data)
    struct.pack_into("<H", bad, SEC.size + 4, 99)
    out.append(("wrong-version", build_fixed(bad), "image version 99"))

    bad = bytearray(data)
    bad[4] ^= 1
    out.append(("header-check", bytes(bad), "header is corrupt"))
    bad = bytearray(data)
    bad[SEC.size + 40] ^= 1
    out.append(("head-checksum", bytes(bad), "fails its checksum"))

    # A payload byte of a section the kernel reads, its hash left wrong.
    off = sum(SEC.size + len(p) + 8 for _, _, p in secs[:vma0])
    img2 = bytearray(data)
    img2[off + SEC.size + 3] ^= 0x40
    out.append(("memory-checksum", bytes(img2), "fails its checksum"))

    s = copy(secs)
    s.insert(1, list(s[1]))
    out.append(("extra-section", build(s), "where"))

    lie = bytearray(data)
    struct.pack_into("<Q", lie, 8, 1 << 40)
    struct.pack_into("<I", lie, 20, xxhash.xxh32(bytes(lie[:20])).intdigest())
    out.append(("lying-length", bytes(lie), "impossible length"))

    s = copy(secs)
    v = s[vma0 + 1][2]
    start = struct.unpack_from("<Q", s[vma0][2], 0)[0]
    struct.pack_into("<Q", v, 0, start)     # overlaps the first mapping
    out.append(("overlapping-vmas", build(s), "out of range or order"))

    s = copy(secs)
    struct.pack_into("<Q", s[vma0][2], 8, 1 << 62)
    out.append(("vma-past-end", build(s), "out of range or order"))

    s = copy(secs)
    pg = first(s, PAGES)
    struct.pack_into("<Q", s[pg][2], 0, 4096)   # no mapping there
    fix_end(s)
    out.append(("pages-outside", build(s), "outside"))

    s = copy(secs)
    struct.pack_into("<Q", s[-1][2], 8, 12345)
    out.append(("end-mismatch", build(s), "END does not match"))

    # A descriptor that says it has a signal owner (CRAK_FILE_OWNED), with
    # none after its data, then with one of an unknown kind.
    s = copy(secs)
    f = first(s, FILE)
    flags = struct.unpack_from("<I", s[f][2], 12)[0] | (1 << 31)
    struct.pack_into("<I", s[f][2], 12, flags)
    out.append(("file-owner-missing", build(s), "its signal owner is malformed"))
    s[f][2] += struct.pack("<IIII", 7, 1, 0, 0)
    out.append(("file-owner-kind", build(s), "its signal owner is malformed"))

    # A descriptor that says a socket's options follow (CRAK_FILE_SOCKOPTS),
    # with none after its data, then with them where it is no unix socket.
    s = copy(secs)
    f = first(s, FILE)
    flags = struct.unpack_from("<I", s[f][2], 12)[0] | (1 << 30)
    struct.pack_into("<I", s[f][2], 12, flags)
    out.append(("file-sockopts-missing", build(s), "its socket's options are malformed"))
    s[f][2] += bytes(8 + 40)
    out.append(("file-sockopts-not-socket", build(s), "its socket's options are malformed"))

    # A unix socket's options that say whom SO_PEERCRED named follows
    # (CRAK_UNIX_OPT_PEER), with nothing after them, then naming no process.
    s = copy(secs)
    f = first(s, FILE)
    plen, dlen = struct.unpack_from("<I", s[f][2], 44)[0], struct.unpack_from("<Q", s[f][2], 48)[0]
    flags = struct.unpack_from("<I", s[f][2], 12)[0] | (1 << 30)
    struct.pack_into("<II", s[f][2], 4, 6, 0)              # CRAK_FILE_UNIX, no open flags
    struct.pack_into("<I", s[f][2], 12, flags & ~(1 << 31))
    at = (96 + plen + dlen + 7) & ~7
    s[f][2] = s[f][2][:at] + bytes(at - len(s[f][2][:at]))
    s[f][2] += struct.pack("<IIIIQQII", 4, 4096, 4096, 0xffffffff, 0, 0, 0, 0)
    out.append(("file-peer-missing", build(s), "its socket's options are malformed"))
    u = copy(s)
    struct.pack_into("<I", u[f][2], 12, flags & ~(3 << 30))
    struct.pack_into("<Q", u[f][2], 72, 1 << 10)         # value[1]: a flag no reader knows
    out.append(("file-unix-flags", build(u), "its unix socket's flags are unknown"))
    s[f][2] += struct.pack("<IIII", 0, 0, 0, 0)
    out.append(("file-peer-no-process", build(s), "its socket's options are malformed"))

    # A unix datagram socket's queue (in place of the first descriptor):
    # more datagrams told peeked (CRAK_UNIX_DGRAM_PEEKED) than a checkpoint
    # takes (CRAK_CKPT_PEEKED_MAX), then a datagram longer than what is left.
    def unix_queue(queue):
        s = copy(secs)
        f = first(s, FILE)
        head = bytearray(s[f][2][:96])
        struct.pack_into("<III", head, 4, 6, 2, 0)          # unix, O_RDWR, no fd flags
        struct.pack_into("<Q", head, 16, 0)                  # pos
        struct.pack_into("<QIIQQ", head, 32, 0, 0o140777, 0, len(queue), 0)
        struct.pack_into("<QQQQ", head, 64, 2, 0, 4242, 0)   # SOCK_DGRAM, no flags, its inode
        s[f][2] = head + queue + bytes(-len(queue) % 8)
        return build(s)
    out.append(("unix-queue-peeked", unix_queue(struct.pack("<I", 0x80000000) * 4097),
                "its unix socket's queue is malformed"))
    out.append(("unix-queue-short", unix_queue(struct.pack("<I", 100) + b"abcd"),
                "its unix socket's queue is malformed"))

    s = copy(secs)
    th = first(s, THREAD)
    struct.pack_into("<I", s[th][2], 8, 7)     # regs_len
    out.append(("thread-regs", build(s), "malformed"))

    # POSIX timers the restart could not make: on the user's name of a
    # CPU-time clock (the kernel keeps another), on a thread's CPU-time clock
    # (the kernel's -2), on another process's, a SIGEV_NONE one on the
    # process's (-6), aimed at a thread the process does not have; fewer
    # than SIGNAL counts.
    def with_timers(count, timers):
        s = copy(secs)
        sig = first(s, SIGNAL)
        struct.pack_into("<I", s[sig][2], 4, count)
        s.insert(sig + 1, [TIMERS, 0, bytearray(b"".join(TIMER_S.pack(*t) for t in timers))])
        fix_end(s)
        return build(s)
    ok = (3, 1, 0, 34, 0, 0, 0, 10**9, 0)
    out.append(("timer-cpu-clock", with_timers(2, [ok, (5, 2, 0, 34, 0, 0, 0, 10**9, 0)]),
                "POSIX timer 5 is malformed"))
    for name, clock, notify in (("timer-thread-clock", -2, 0), ("timer-other-process", (~4194000 << 3) | 2, 0),
                                ("timer-cpu-none", -6, 1)):
        out.append((name, with_timers(2, [ok, (5, clock & 0xffffffff, notify, 34, 0, 0, 0, 10**9, 0)]),
                    "POSIX timer 5 is malformed"))
    out.append(("timer-no-thread", with_timers(1, [(7, 1, 4, 34, 0, 1, 0, 0, 0)]),
                "POSIX timer 7 is malformed"))
    out.append(("timers-short", with_timers(2, [ok]), "POSIX timers are malformed"))
    out.append(("timer-twice", with_timers(2, [ok, ok]), "POSIX timer 3 is malformed"))
    return out


def named_live(secs):
    """(name, image bytes, text the error must contain) of AHEAD sections."""
    out = []
    ahead = [i for i, sec in enumerate(secs) if sec[0] == AHEAD]
    assert ahead and ahead[0] == 1, "no AHEAD section after HEAD"

    s = copy(secs)
    for i in ahead:
        pid = struct.unpack_from("<I", s[i][2], 0)[0]
        struct.pack_into("<I", s[i][2], 0, pid + 1)
    out.append(("ahead-other-pid", build(s), "another process's"))

    s = copy(secs)
    addr = struct.unpack_from("<Q", s[1][2], 8)[0]
    struct.pack_into("<Q", s[1][2], 8, addr + 1)
    out.append(("ahead-misaligned", build(s), "malformed"))

    s = copy(secs)
    nr = struct.unpack_from("<I", s[1][2], 4)[0]
    struct.pack_into("<I", s[1][2], 4, nr + 1)
    out.append(("ahead-short", build(s), "malformed"))

    s = copy(secs)
    last = s.pop(ahead[-1])
    s.insert(ahead[-1] + 1, last)      # after PROC
    out.append(("ahead-after-proc", build(s), "AHEAD"))
    return out


def build_fixed(raw):
    return build(parse(bytes(raw)))


def fuzz(secs, rnd):
    s = [[t, f, bytearray(p)] for t, f, p in secs]
    i = rnd.randrange(len(s))
    t, f, p = s[i]
    what = rnd.choice(["bytes", "field", "length", "drop", "swap", "type"])
    if what == "bytes" and p:
        for _ in range(rnd.randint(1, 8)):
            k = rnd.randrange(min(len(p), 256) if t in (PAGES, AHEAD) else len(p))
            p[k] = rnd.randrange(256)
    elif what == "field" and len(p) >= 8:
        k = rnd.randrange(0, min(len(p), 128) - 7, 4) if len(p) > 8 else 0
        val = rnd.choice([0, 1, 0xffffffff, 1 << 31, rnd.getrandbits(32), 4096, 4095])
        struct.pack_into("<I", p, k, val)
    elif what == "length":
        if rnd.random() < 0.5 and len(p) > 8:
            del p[rnd.randrange(len(p) // 8) * 8:]
        else:
            p += bytes(8 * rnd.randint(1, 64))
    elif what == "drop" and len(s) > 2:
        del s[i]
    elif what == "swap" and len(s) > 2:
        j = rnd.randrange(len(s))
        s[i], s[j] = s[j], s[i]
    else:
        s[i][0] = rnd.randrange(0, AHEAD + 2)
    if rnd.random() < 0.7:
        fix_end(s)
    img = build(s)
    if rnd.random() < 0.1:
        img = bytearray(img)
        img[rnd.randrange(len(img))] ^= 1 << rnd.randrange(8)
    return bytes(img)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("image")
    p.add_argument("dir")
    p.add_argument("n", type=int)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--live", action="store_true")
    a = p.parse_args()
    with open(a.image, "rb") as f:
        data = f.read()
    secs = parse(data)
    os.makedirs(a.dir, exist_ok=True)
    for name, img, want in named_live(secs) if a.live else named(data, secs):
        with open(os.path.join(a.dir, name + ".img"), "wb") as f:
            f.write(img)
        with open(os.path.join(a.dir, name + ".want"), "w") as f:
            f.write(want + "\n")
    rnd = random.Random(a.seed)
    for k in range(a.n):
        with open(os.path.join(a.dir, "fuzz-%d.img" % k), "wb") as f:
            f.write(fuzz(secs, rnd))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
