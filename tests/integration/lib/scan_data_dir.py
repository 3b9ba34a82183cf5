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
"""
import ctypes
import ctypes.util
import json
import os
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
                for n in needles:
                    if n in content:
                        found[n.decode("utf-8")].append("%s:zstd@%d" % (rel, off))
    json.dump({"files": files, "frames": nframes, "bytes": nbytes, "found": found}, sys.stdout)


main()
