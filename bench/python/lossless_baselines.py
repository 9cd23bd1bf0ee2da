"""Lossless baselines on a run directory, per file, against the previous version of the same file.

Files form lineages by their path with digit runs abstracted (checkpoint-*/optimizer.pt, step-*/ckpt.pt,
epoch=*-step=*.ckpt); versions are ordered by the numbers in the path. Methods:
  zstd        zstd -L per file
  patch       zstd -L --patch-from=<previous version> (first version: plain zstd -L)
  planes      byte planes (byte i of every 4-byte word, little-endian float32 split by byte) + zstd -L each
  planes-xor  as planes, after XOR with the previous version of the same file (padded / truncated to length)
"Residual" figures count only versions that have a previous version (the ones a delta method can use).
Prints JSON.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

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


def zstd_size(data, level):
    out = subprocess.run(["zstd", f"-{level}", "-T2", "-q", "-c"] + (["--ultra"] if level > 19 else []),
                         input=data, stdout=subprocess.PIPE, check=True).stdout
    return len(out)


def patch_size(path, prev, level):
    size = os.path.getsize(prev)
    args = ["zstd", f"-{level}", "-T2", "-q", "-c", f"--patch-from={prev}", path]
    if size > (1 << 27):
        args.insert(1, f"--long={min(31, max(27, size.bit_length()))}")
    return len(subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True).stdout)


def planes_size(data, level, prev=None):
    a = np.frombuffer(data, dtype=np.uint8)
    if prev is not None:
        b = np.zeros(len(a), dtype=np.uint8)
        p = np.frombuffer(prev, dtype=np.uint8)[:len(a)]
        b[:len(p)] = p
        a = a ^ b
    n = len(a) // 4 * 4
    words = a[:n].reshape(-1, 4)
    total = sum(zstd_size(words[:, i].tobytes(), level) for i in range(4))
    return total + len(a) - n


def measure(run, methods, level):
    report = {m: {"raw": 0, "stored": 0, "residual_raw": 0, "residual_stored": 0} for m in methods}
    for key, versions in sorted(lineages(run).items()):
        prev = None
        for rel in versions:
            path = os.path.join(run, rel)
            with open(path, "rb") as f:
                data = f.read()
            prev_data = None
            if prev is not None:
                with open(prev, "rb") as f:
                    prev_data = f.read()
            for m in methods:
                if m == "zstd":
                    size = zstd_size(data, level)
                elif m == "patch":
                    size = patch_size(path, prev, level) if prev else zstd_size(data, level)
                elif m == "planes":
                    size = planes_size(data, level)
                else:
                    size = planes_size(data, level, prev_data)
                r = report[m]
                r["raw"] += len(data)
                r["stored"] += size
                if prev is not None:
                    r["residual_raw"] += len(data)
                    r["residual_stored"] += size
            prev = path
    for r in report.values():
        r["ratio"] = r["raw"] / r["stored"] if r["stored"] else None
        r["residual_ratio"] = r["residual_raw"] / r["residual_stored"] if r["residual_stored"] else None
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
    print(json.dumps(measure(args.run, methods, args.level), indent=1))


if __name__ == "__main__":
    main()
