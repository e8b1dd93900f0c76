#!/usr/bin/env python3
"""Damages an mm01 engine file in place, for the lit tests.

Reads the layout of docs/engine-format.md independently of the C++ reader:
a 64-byte little-endian header, then 96-byte section table entries.

  edit_engine.py FILE flip-section NAME   flip one bit in the middle of a section
  edit_engine.py FILE flip-manifest       flip one bit in the middle of the manifest
  edit_engine.py FILE truncate N          keep the first N bytes (N < 0: drop -N)
  edit_engine.py FILE set-version V       write V into the format version field
  edit_engine.py FILE set-magic TEXT      overwrite the 8-byte magic
  edit_engine.py FILE sections            print name, kind, offset, size per section
"""
import struct
import sys


def read_layout(data):
    if data[:8] != b"MM01ENGN":
        sys.exit("not an engine")
    (version, header_size, file_size, table_offset, count, entry_size,
     manifest_offset, manifest_size, checksum) = struct.unpack_from("<IIQQIIQQQ", data, 8)
    assert header_size == 64 and entry_size == 96, "unexpected header"
    sections = []
    for i in range(count):
        entry = data[table_offset + 96 * i: table_offset + 96 * (i + 1)]
        name = entry[:64].split(b"\0", 1)[0].decode()
        kind, flags, offset, size, sum_ = struct.unpack_from("<IIQQQ", entry, 64)
        sections.append((name, kind, offset, size))
    return {"manifest": (manifest_offset, manifest_size), "sections": sections}


def main():
    path, command, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(path, "rb") as f:
        data = bytearray(f.read())
    layout = read_layout(data)
    if command == "flip-section":
        for name, _, offset, size in layout["sections"]:
            if name == args[0]:
                assert size > 0, "empty section"
                data[offset + size // 2] ^= 0x01
                break
        else:
            sys.exit("no section " + args[0])
    elif command == "flip-manifest":
        offset, size = layout["manifest"]
        data[offset + size // 2] ^= 0x01
    elif command == "truncate":
        n = int(args[0])
        data = data[:n] if n >= 0 else data[:len(data) + n]
    elif command == "set-version":
        struct.pack_into("<I", data, 8, int(args[0]))
    elif command == "set-magic":
        data[:8] = args[0].encode().ljust(8, b"\0")[:8]
    elif command == "sections":
        for name, kind, offset, size in layout["sections"]:
            print(name, kind, offset, size)
        return
    else:
        sys.exit("unknown command " + command)
    with open(path, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
