"""Where the bits of the ExCP reference go (bench/python/excp_reference.py, same rule, same run), per role.

Replays the reference on a run (residual against the previous reconstruction, weight mask, moment mask AND weight
mask, 4-bit k-means + exact zero, fp16 codebook) and, per role (weights dW, exp_avg m, exp_avg_sq v), reports:
  kept         fraction of elements kept
  lzma bytes   the role's packed indices + codebooks, LZMA2 (xz -9e, the 7-Zip -mx=9 coder) per checkpoint
  ideal mask   n * h(kept) bits: the cost of the positions alone with a memoryless coder
  ideal value  kept * H(centre index | kept) bits: the cost of the values given the positions
  rel error    relative L2 error of the reconstruction (||x^ - x|| / ||x||) over every paired tensor, per
               checkpoint, averaged; for weights the error of W^ against W
and the same sums for excpfs to compare with (`RatioBreakdown` for its bytes, `encode_stats` for kept and error).
Prints JSON. Usage: /usr/bin/python3 bench/scripts/high-compression/excp-ref-breakdown.py RUN ALPHA [--beta 2] [--bits 4]
"""
import argparse
import json
import lzma
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import checkpoints  # noqa: E402
import excp_reference  # noqa: E402
import tinygpt  # noqa: E402

ROLES = ("weight", "exp_avg", "exp_avg_sq")


def entropy_bits(counts):
    n = counts.sum()
    p = counts[counts > 0] / n
    return float(-(p * np.log2(p)).sum() * n)


def h2(p):
    return 0.0 if p <= 0 or p >= 1 else -(p * math.log2(p) + (1 - p) * math.log2(1 - p))


def xz(data):
    return len(lzma.compress(data, preset=9 | lzma.PRESET_EXTREME))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run")
    p.add_argument("alpha", type=float)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--bits", type=int, default=4)
    args = p.parse_args(argv)
    tinygpt.setup_torch()
    units = checkpoints.find("hf", args.run)
    base = {}
    tot = {r: dict(elements=0, kept=0, lzma=0, ideal_mask_bits=0.0, ideal_value_bits=0.0, rel_error=[]) for r in ROLES}
    joint = 0
    for n, unit in enumerate(units):
        ck = checkpoints.Checkpoint("hf", os.path.join(args.run, unit))
        if n == 0:
            for name in ck.names():
                base[name] = ck.param(name).detach().clone().float()
            continue
        blobs = {r: [] for r in ROLES}
        err = {r: [0.0, 0.0] for r in ROLES}
        for name in ck.names():
            w = ck.param(name).float()
            mom = ck.moments(name)
            if mom is None:
                base[name] = w.clone()
                continue
            m, v = mom[0].float(), mom[1].float()
            dw = w - base[name]
            factor = min(2.5, args.alpha / float(v.mean().sqrt())) if float(v.mean()) > 0 else 2.5
            wmask = dw.abs() > dw.abs().median() * factor
            mmask = (m.abs() > args.beta * m.abs().mean()) & wmask
            parts = {"weight": torch.where(wmask, dw, torch.zeros_like(dw)),
                     "exp_avg": torch.where(mmask, m, torch.zeros_like(m)),
                     "exp_avg_sq": torch.where(mmask, v, torch.zeros_like(v))}
            recon = {}
            for r in ROLES:
                idx, book, deq = excp_reference.quantize(parts[r], args.bits)
                t = tot[r]
                t["elements"] += deq.numel()
                kept = int((parts[r] != 0).sum())
                t["kept"] += kept
                t["ideal_mask_bits"] += deq.numel() * h2(kept / deq.numel())
                if idx is None:
                    blobs[r].append(book.tobytes())
                    t["ideal_value_bits"] += 32 * kept
                else:
                    blobs[r].append(excp_reference.pack(idx, args.bits))
                    blobs[r].append(book.tobytes())
                    t["ideal_value_bits"] += entropy_bits(np.bincount(idx[idx > 0]))
                recon[r] = deq
            base[name] = base[name] + recon["weight"]
            for r, orig, rec in (("weight", w, base[name]), ("exp_avg", m, recon["exp_avg"]), ("exp_avg_sq", v, recon["exp_avg_sq"])):
                err[r][0] += float(((rec - orig) ** 2).sum())
                err[r][1] += float((orig ** 2).sum())
        for r in ROLES:
            tot[r]["lzma"] += xz(b"".join(blobs[r]))
            tot[r]["rel_error"].append(math.sqrt(err[r][0] / err[r][1]) if err[r][1] > 0 else 0.0)
        joint += xz(b"".join(b"".join(blobs[r]) for r in ROLES))
        print(f"{unit} done", file=sys.stderr)
    out = {"alpha": args.alpha, "beta": args.beta, "bits": args.bits, "residual_checkpoints": len(units) - 1,
           "joint_lzma_bytes": joint, "roles": {}}
    for r in ROLES:
        t = tot[r]
        out["roles"][r] = {"elements": t["elements"], "kept": round(t["kept"] / t["elements"], 5), "lzma_bytes": t["lzma"],
                           "bits_per_element": round(8 * t["lzma"] / t["elements"], 4),
                           "bits_per_kept": round(8 * t["lzma"] / max(1, t["kept"]), 3),
                           "ideal_mask_bytes": round(t["ideal_mask_bits"] / 8), "ideal_value_bytes": round(t["ideal_value_bits"] / 8),
                           "rel_error": round(sum(t["rel_error"]) / len(t["rel_error"]), 5)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
