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
import concurrent.futures
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
    """CPU seconds of this process plus its finished children."""

    @staticmethod
    def now():
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + c.ru_utime + c.ru_stime


def zstd(data, level):
    args = ["zstd", f"-{level}", "-q", "-c"] + (["--ultra"] if level > 19 else [])
    return subprocess.run(args, input=data, stdout=subprocess.PIPE, check=True).stdout


def unzstd(data, extra=()):
    return subprocess.run(["zstd", "-d", "-q", "-c", *extra], input=data, stdout=subprocess.PIPE, check=True).stdout


def long_window(size):
    return [f"--long={min(31, max(27, size.bit_length()))}"] if size > (1 << 27) else []


def patch(path, prev, level):
    args = ["zstd", f"-{level}", "-q", "-c", f"--patch-from={prev}", *long_window(os.path.getsize(prev)), path]
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


def roundtrip(method, path, prev, level):
    """(stored size, encode CPU seconds, decode CPU seconds) of one version; raises if it does not round-trip."""
    with open(path, "rb") as f:
        data = f.read()
    prev_data = None
    if prev is not None and method == "planes-xor":
        with open(prev, "rb") as f:
            prev_data = f.read()
    t0 = Clock.now()
    if method == "zstd" or (method == "patch" and prev is None):
        blob = zstd(data, level)
    elif method == "patch":
        blob = patch(path, prev, level)
    else:
        blobs = planes(data, level, prev_data)
    t1 = Clock.now()
    if method == "zstd" or (method == "patch" and prev is None):
        back = unzstd(blob)
    elif method == "patch":
        back = unpatch(blob, prev)
    else:
        back = unplanes(blobs, len(data), prev_data)
    t2 = Clock.now()
    if back != data:
        raise SystemExit(f"{method}: {path} does not round-trip")
    size = len(blob) if method in ("zstd", "patch") else sum(len(b) for b in blobs)
    return size, t1 - t0, t2 - t1


def measure(run, methods, level, jobs=1):
    """Every method on every version, in `jobs` worker processes (CPU seconds are counted inside each worker)."""
    report = {m: {"raw": 0, "stored": 0, "residual_raw": 0, "residual_stored": 0, "encode_cpu_s": 0.0,
                  "decode_cpu_s": 0.0} for m in methods}
    tasks = []
    for key, versions in sorted(lineages(run).items()):
        prev = None
        for rel in versions:
            path = os.path.join(run, rel)
            tasks += [(m, path, prev) for m in methods]
            prev = path
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [(t, pool.submit(roundtrip, t[0], t[1], t[2], level)) for t in tasks]
        for (m, path, prev), fut in futures:
            size, enc, dec = fut.result()
            raw = os.path.getsize(path)
            r = report[m]
            r["raw"] += raw
            r["stored"] += size
            r["encode_cpu_s"] += enc
            r["decode_cpu_s"] += dec
            if prev is not None:
                r["residual_raw"] += raw
                r["residual_stored"] += size
    for m, r in report.items():
        r["ratio"] = r["raw"] / r["stored"] if r["stored"] else None
        r["residual_ratio"] = r["residual_raw"] / r["residual_stored"] if r["residual_stored"] else None
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--level", type=int, default=19)
    p.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")), help="worker processes (default 2)")
    args = p.parse_args(argv)
    methods = [m for m in args.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        sys.exit(f"unknown method(s) {bad}; known: {', '.join(METHODS)}")
    report = measure(args.run, methods, args.level, args.jobs)
    report["level"] = args.level
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
