#!/usr/bin/env python3
"""vmlinux signature as BISECTION.md defines it (an independent check of
kbisect-kernel's `signature` module): for each ELF section in header order
that is allocated, has file contents (not NOBITS) and is not a NOTE, the
sha256 of its bytes; the signature is the hex sha256 of those digests
(raw 32 bytes each) concatenated. ELF64 little-endian only."""
import hashlib, struct, sys

SHF_ALLOC, SHT_NOTE, SHT_NOBITS = 0x2, 7, 8

def signature(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit(f"{path}: not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
    outer = hashlib.sha256()
    for i in range(shnum):
        _name, typ, flags, _addr, off, size = struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
        if not flags & SHF_ALLOC or typ in (SHT_NOBITS, SHT_NOTE):
            continue
        outer.update(hashlib.sha256(data[off:off + size]).digest())
    return outer.hexdigest()

if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(signature(p))
