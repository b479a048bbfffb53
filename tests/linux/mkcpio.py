#!/usr/bin/env python3
"""mkcpio.py OUT.cpio.gz SPEC - write a gzip'd newc ("070701") cpio archive.

SPEC has one entry a line (blank lines and '#' comments skipped), in the
spirit of the kernel's gen_init_cpio:
    dir   NAME MODE
    file  NAME MODE HOST-PATH
    slink NAME TARGET
    nod   NAME MODE c|b MAJOR MINOR
MODE is octal permission bits.  Every entry is owned by root, with mtime 0,
so the archive depends only on its inputs.  No root privileges are needed
(device nodes are only described, not created on the host).
"""
import gzip
import os
import stat
import sys


def header(ino, mode, nlink, size, rmaj, rmin, name):
    namesz = len(name) + 1
    fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rmaj, rmin, namesz, 0]
    h = b"070701" + b"".join(b"%08x" % f for f in fields)
    h += name.encode() + b"\0"
    return h + b"\0" * (-len(h) % 4)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkcpio.py OUT.cpio.gz SPEC")
    out, spec = sys.argv[1], sys.argv[2]
    data = bytearray()
    ino = 1
    for lineno, line in enumerate(open(spec), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        kind, name = f[0], f[1].lstrip("/")
        body = b""
        rmaj = rmin = 0
        nlink = 1
        if kind == "dir" and len(f) == 3:
            mode = stat.S_IFDIR | int(f[2], 8)
            nlink = 2
        elif kind == "file" and len(f) == 4:
            mode = stat.S_IFREG | int(f[2], 8)
            body = open(f[3], "rb").read()
        elif kind == "slink" and len(f) == 3:
            mode = stat.S_IFLNK | 0o777
            body = f[2].encode()
        elif kind == "nod" and len(f) == 6 and f[3] in ("c", "b"):
            mode = (stat.S_IFCHR if f[3] == "c" else stat.S_IFBLK) | int(f[2], 8)
            rmaj, rmin = int(f[4]), int(f[5])
        else:
            sys.exit("mkcpio: %s:%d: bad entry: %s" % (spec, lineno, line))
        data += header(ino, mode, nlink, len(body), rmaj, rmin, name)
        data += body + b"\0" * (-len(body) % 4)
        ino += 1
    data += header(0, 0, 1, 0, 0, 0, "TRAILER!!!")
    data += b"\0" * (-len(data) % 512)
    with open(out + ".tmp", "wb") as o:
        with gzip.GzipFile(filename="", mode="wb", fileobj=o, compresslevel=9, mtime=0) as g:
            g.write(bytes(data))
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
