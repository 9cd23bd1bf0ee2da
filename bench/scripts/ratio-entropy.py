"""Where the bits of ExCP residual indices go: the reference pipeline's quantization indices of every residual
checkpoint of a run, sized by 7-Zip's coder (LZMA, as the reference) and by static and adaptive context models.

Usage: /usr/bin/python3 bench/scripts/ratio-entropy.py --layout hf --run RUN [--alpha 5e-5] [--beta 2] [--bits 4]
Prints one table per part (weights, exp_avg, exp_avg_sq) with bits per element under each model, summed over the run.
"""
import argparse
import lzma
import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import checkpoints  # noqa: E402
import excp_reference as ref  # noqa: E402
import tinygpt  # noqa: E402


def static_bits(sym, ctx, nctx, alphabet):
    """Σ −log2 p(sym | ctx) with p counted on the tensor itself (the table is not included)."""
    counts = np.zeros((nctx, alphabet))
    np.add.at(counts, (ctx, sym), 1)
    tot = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(counts > 0, counts / np.maximum(tot, 1), 1)
    return float(-(counts * np.log2(p)).sum()), int((counts > 0).sum())


def adaptive_bits(sym, ctx, nctx, alphabet, inc=1.0, init=0.5):
    """Σ −log2 p with counts that start at `init` per symbol and grow by `inc` (KT-like, no table)."""
    counts = np.full((nctx, alphabet), init)
    tot = counts.sum(axis=1)
    bits = 0.0
    for s, c in zip(sym.tolist(), ctx.tolist()):
        bits -= math.log2(counts[c, s] / tot[c])
        counts[c, s] += inc
        tot[c] += inc
    return bits


def contexts(idx, row, mags, kind):
    n = len(idx)
    left = np.concatenate([[0], idx[:-1]])
    up = np.concatenate([np.zeros(row, dtype=idx.dtype), idx[:-row]]) if 0 < row < n else np.zeros(n, dtype=idx.dtype)
    if kind == "order0":
        return np.zeros(n, dtype=np.int64), 1
    if kind == "zero-lu":
        return (left != 0).astype(np.int64) + 2 * (up != 0), 4
    if kind == "left-sym":
        return left.astype(np.int64), 16
    if kind == "mag-lu":
        return mags[left] * 4 + mags[up], 16
    if kind == "mag-lu-ul":
        upleft = np.concatenate([[0], up[:-1]])
        return (mags[left] * 4 + mags[up]) * 4 + mags[upleft], 64
    raise ValueError(kind)


def magnitude_classes(book):
    """0 for index 0, else 1..3 by the rank of |centre| (thirds)."""
    k = len(book)
    order = np.argsort(np.argsort(np.abs(book.astype(np.float32))))
    cls = np.zeros(16, dtype=np.int64)
    cls[1:k + 1] = 1 + (order * 3) // k
    return cls


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layout", default="hf")
    p.add_argument("--run", required=True)
    p.add_argument("--alpha", type=float, default=5e-5)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--adaptive", action="store_true", help="also the adaptive estimates (slow)")
    args = p.parse_args()
    tinygpt.setup_torch()
    units = checkpoints.find(args.layout, args.run)
    base = {}
    kinds = ["order0", "zero-lu", "left-sym", "mag-lu", "mag-lu-ul"]
    totals = {part: {k: 0.0 for k in kinds + ["tables", "lzma-part", "elements", "kept", "adapt-mag-lu", "adapt-order0"]}
              for part in ("w", "m", "v")}
    lzma_all = 0
    for n, unit in enumerate(units):
        ck = checkpoints.Checkpoint(args.layout, os.path.join(args.run, unit))
        if n == 0:
            for name in ck.names():
                base[name] = ck.param(name).detach().clone().float()
            continue
        blob_all = []
        for name in ck.names():
            w = ck.param(name).float()
            m, v = (x.float() for x in ck.moments(name))
            dw = w - base[name]
            factor = min(2.5, args.alpha / float(v.mean().sqrt())) if float(v.mean()) > 0 else 2.5
            wmask = dw.abs() > dw.abs().median() * factor
            dw = torch.where(wmask, dw, torch.zeros_like(dw))
            mmask = (m.abs() > args.beta * m.abs().mean()) & wmask
            m = torch.where(mmask, m, torch.zeros_like(m))
            v = torch.where(mmask, v, torch.zeros_like(v))
            row = w.shape[-1] if w.dim() >= 2 else 0
            for part, t in (("w", dw), ("m", m), ("v", v)):
                idx, book, deq = ref.quantize(t, args.bits)
                if part == "w":
                    base[name] = base[name] + deq
                if idx is None:
                    continue
                blob = ref.pack(idx, args.bits)
                blob_all.append(blob)
                blob_all.append(book.tobytes())
                tot = totals[part]
                tot["lzma-part"] += 8 * len(lzma.compress(blob, preset=9 | lzma.PRESET_EXTREME))
                tot["elements"] += len(idx)
                tot["kept"] += int((idx != 0).sum())
                mags = magnitude_classes(book)
                for kind in kinds:
                    ctx, nctx = contexts(idx.astype(np.int64), row, mags, kind)
                    bits, used = static_bits(idx.astype(np.int64), ctx, nctx, 16)
                    tot[kind] += bits
                    if kind == "zero-lu":
                        tot["tables"] += used * 12
                if args.adaptive:
                    ctx, nctx = contexts(idx.astype(np.int64), row, mags, "mag-lu")
                    tot["adapt-mag-lu"] += adaptive_bits(idx.astype(np.int64), ctx, nctx, 16)
                    tot["adapt-order0"] += adaptive_bits(idx.astype(np.int64), np.zeros(len(idx), dtype=np.int64), 1, 16)
        lzma_all += 8 * len(lzma.compress(b"".join(blob_all), preset=9 | lzma.PRESET_EXTREME))
    print(f"run {args.run}: {len(units) - 1} residual checkpoints; LZMA of all payloads: {lzma_all / 8:.0f} bytes")
    for part, tot in totals.items():
        e = tot["elements"]
        if not e:
            continue
        print(f"{part}: {e} elements, kept {tot['kept'] / e:.3f}; bits/element:")
        for k, v in tot.items():
            if k in ("elements", "kept"):
                continue
            print(f"   {k:14s} {v / e:.4f}   ({v / 8:.0f} bytes)")


if __name__ == "__main__":
    main()
