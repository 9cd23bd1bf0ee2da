"""Lossless baselines on a run directory, per file, against the previous version of the same file.

Files form lineages by their path with digit runs abstracted (checkpoint-*/optimizer.pt, step-*/ckpt.pt,
epoch=*-step=*.ckpt); versions are ordered by the numbers in the path. Methods:
  zstd        zstd -L per file
  patch       zstd -L --patch-from=<previous version> (first version: plain zstd -L)
  planes      byte planes (byte i of every 4-byte word, little-endian float32 split by byte) + zstd -L each
  planes-xor  as planes, after XOR with the previous version of the same file (padded / truncated to length)
"Residual" figures count only versions that have a previous version (the ones a delta method can use).
Every method is also decoded (zstd -d, planes re-interleaved, XOR undone) and the round trip checked; encode_cpu_s
and decode_cpu_s are the CPU seconds (zstd child processes plus this process's numpy work) over all versions.
Prints JSON.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time

import numpy as np

METHODS = ("zstd", "patch", "planes", "planes-xor")


def lineages(run):
    groups = {}
    for root, _, files in os.walk(run):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), run)
            groups.setdefault(re.sub(r"\d+", "*", rel), []).append(rel)
    for key in groups:
        groups[key].sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
    return groups


class Clock:
    """CPU seconds of this process plus its finished children, split into encode and decode."""

    def __init__(self):
        self.encode = 0.0
        self.decode = 0.0

    @staticmethod
    def now():
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + c.ru_utime + c.ru_stime


def zstd(data, level, threads=True):
    args = ["zstd", f"-{level}", "-q", "-c"] + (["--ultra"] if level > 19 else []) + (["-T2"] if threads else [])
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def unzstd(data, extra=()):
    return subprocess.run(["zstd", "-d", "-q", "-c", *extra], input=data, stdout=subprocess.PIPE, check=True).stdout


def long_window(size):
    return [f"--long={min(31, max(27, size.bit_length()))}"] if size > (1 << 27) else []


def patch(path, prev, level):
    args = ["zstd", f"-{level}", "-T2", "-q", "-c", f"--patch-from={prev}", *long_window(os.path.getsize(prev)), path]
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout


def unpatch(blob, prev):
    return unzstd(blob, [f"--patch-from={prev}", *long_window(os.path.getsize(prev))])


def planes(data, level, prev=None):
    a = np.frombuffer(data, dtype=np.uint8)
    if prev is not None:
        a = a ^ _aligned(prev, len(a))
    n = len(a) // 4 * 4
    words = a[:n].reshape(-1, 4)
    return [zstd(np.ascontiguousarray(words[:, i]).tobytes(), level) for i in range(4)] + [a[n:].tobytes()]


def unplanes(blobs, size, prev=None):
    n = size // 4 * 4
    words = np.empty((n // 4, 4), dtype=np.uint8)
    for i in range(4):
        words[:, i] = np.frombuffer(unzstd(blobs[i]), dtype=np.uint8)
    a = np.concatenate([words.reshape(-1), np.frombuffer(blobs[4], dtype=np.uint8)])
    if prev is not None:
        a = a ^ _aligned(prev, len(a))
    return a.tobytes()


def _aligned(prev, n):
    b = np.zeros(n, dtype=np.uint8)
    p = np.frombuffer(prev, dtype=np.uint8)[:n]
    b[:len(p)] = p
    return b


def roundtrip(method, path, data, prev, prev_data, level, clock):
    """Stored size of one version; adds the CPU seconds of encoding and decoding it to clock."""
    t0 = Clock.now()
    if method == "zstd" or (method == "patch" and prev is None):
        blob = zstd(data, level)
    elif method == "patch":
        blob = patch(path, prev, level)
    else:
        blobs = planes(data, level, prev_data if method == "planes-xor" else None)
    t1 = Clock.now()
    if method == "zstd" or (method == "patch" and prev is None):
        back = unzstd(blob)
    elif method == "patch":
        back = unpatch(blob, prev)
    else:
        back = unplanes(blobs, len(data), prev_data if method == "planes-xor" else None)
    t2 = Clock.now()
    if back != data:
        raise SystemExit(f"{method}: {path} does not round-trip")
    clock.encode += t1 - t0
    clock.decode += t2 - t1
    return len(blob) if method in ("zstd", "patch") else sum(len(b) for b in blobs)


def measure(run, methods, level):
    report = {m: {"raw": 0, "stored": 0, "residual_raw": 0, "residual_stored": 0} for m in methods}
    clocks = {m: Clock() for m in methods}
    for key, versions in sorted(lineages(run).items()):
        prev = None
        prev_data = None
        for rel in versions:
            path = os.path.join(run, rel)
            with open(path, "rb") as f:
                data = f.read()
            for m in methods:
                size = roundtrip(m, path, data, prev, prev_data, level, clocks[m])
                r = report[m]
                r["raw"] += len(data)
                r["stored"] += size
                if prev is not None:
                    r["residual_raw"] += len(data)
                    r["residual_stored"] += size
            prev, prev_data = path, data
    for m, r in report.items():
        r["ratio"] = r["raw"] / r["stored"] if r["stored"] else None
        r["residual_ratio"] = r["residual_raw"] / r["residual_stored"] if r["residual_stored"] else None
        r["encode_cpu_s"] = clocks[m].encode
        r["decode_cpu_s"] = clocks[m].decode
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--level", type=int, default=19)
    args = p.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        sys.exit(f"unknown method(s) {bad}; known: {', '.join(METHODS)}")
    report = measure(args.run, methods, args.level)
    report["level"] = args.level
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
