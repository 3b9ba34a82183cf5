#!/usr/bin/env python3
"""Searches every file under a data directory for byte strings, in the raw bytes and
inside every zstd frame the file holds (segments compress their columns and payloads
with zstd; the WAL is raw protobuf). Used by redaction.test.js to show that planted
secrets never reach disk while a marker planted beside them does.

Usage: scan_data_dir.py DIR < needles.json   (a JSON list of strings)
Prints JSON: {"files": N, "frames": M, "bytes": B,
              "found": {needle: ["relative/path:raw", "relative/path:zstd@OFFSET", ...]}}
Frames are found by their magic number at every offset and decompressed with the
system's libzstd (ctypes); a false magic inside other data fails to decode and is skipped.
A payload frame that compaction word-coded (docs/segment_format.md, frame codec 2) is
searched again expanded: any frame whose content parses as a word table is (a frame that
is not one expands to noise, which finds nothing).
"""
import ctypes
import ctypes.util
import json
import os
import re
import sys

MAGIC = b"\x28\xb5\x2f\xfd"
UNKNOWN = ctypes.c_ulonglong(-1).value
ERROR = ctypes.c_ulonglong(-2).value

lib = ctypes.CDLL(ctypes.util.find_library("zstd") or "libzstd.so.1")
lib.ZSTD_isError.restype = ctypes.c_uint
lib.ZSTD_isError.argtypes = [ctypes.c_size_t]
lib.ZSTD_findFrameCompressedSize.restype = ctypes.c_size_t
lib.ZSTD_findFrameCompressedSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
lib.ZSTD_getFrameContentSize.restype = ctypes.c_ulonglong
lib.ZSTD_getFrameContentSize.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
lib.ZSTD_decompress.restype = ctypes.c_size_t
lib.ZSTD_decompress.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]


def frames(data):
    """(offset, decompressed bytes) of every decodable zstd frame in data."""
    i = data.find(MAGIC)
    while i >= 0:
        src = data[i:]
        n = lib.ZSTD_findFrameCompressedSize(src, len(src))
        if not lib.ZSTD_isError(n):
            size = lib.ZSTD_getFrameContentSize(src, n)
            cap = 256 << 20 if size in (UNKNOWN, ERROR) else max(int(size), 1)
            if cap <= 256 << 20:
                buf = ctypes.create_string_buffer(cap)
                r = lib.ZSTD_decompress(buf, cap, src, n)
                if not lib.ZSTD_isError(r):
                    yield i, buf.raw[:r]
        i = data.find(MAGIC, i + 1)


def word_expand(content):
    """A word-coded frame's text: a u8 count of entries (u8 code, u8 length 1..48, the
    bytes), then a body where each code byte stands for its entry. None when the table
    does not parse."""
    if not content or content[0] == 0:
        return None
    table, i = {}, 1
    for _ in range(content[0]):
        if len(content) - i < 2:
            return None
        code, n = content[i], content[i + 1]
        if n == 0 or n > 48 or code in table or len(content) - i - 2 < n:
            return None
        table[code] = content[i + 2:i + 2 + n]
        i += 2 + n
    codes = re.compile(b"[" + b"".join(re.escape(bytes((c,))) for c in table) + b"]")
    return codes.sub(lambda m: table[m.group(0)[0]], content[i:])


def main():
    root = sys.argv[1]
    needles = [s.encode("utf-8") for s in json.load(sys.stdin)]
    found = {n.decode("utf-8"): [] for n in needles}
    files = nframes = nbytes = 0
    for dirpath, _, names in os.walk(root):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                continue  # removed while we walked (a WAL file after a flush)
            files += 1
            nbytes += len(data)
            for n in needles:
                if n in data:
                    found[n.decode("utf-8")].append(rel + ":raw")
            for off, content in frames(data):
                nframes += 1
                expanded = word_expand(content) or b""
                for n in needles:
                    if n in content or n in expanded:
                        found[n.decode("utf-8")].append("%s:zstd@%d" % (rel, off))
    json.dump({"files": files, "frames": nframes, "bytes": nbytes, "found": found}, sys.stdout)


main()
