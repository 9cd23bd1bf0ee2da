"""The ExCP reference algorithm (Li et al., ICML 2024, arXiv 2406.11257) applied offline to a tiny-GPT run.

For every parameter W_t with Adam moments m_t (exp_avg), v_t (exp_avg_sq), checkpoints in step order:
  residual     dW = W_t - W^_{t-1}   (W^ = the previous RECONSTRUCTED checkpoint; the first checkpoint is the seed,
               kept exactly)
  weight mask  |dW| > median(|dW|) * min(2.5, alpha / sqrt(mean(v_t)))
  moment mask  |m_t| > beta * mean(|m_t|)  and the weight residual kept  (applied to m_t and v_t)
  quantize     1-D k-means with 2^bits - 1 centres on the kept values plus an exact zero; fp16 codebook;
               a tensor with <= 2^bits - 1 kept values is stored as raw float32
  store        dense bit-packed indices + codebooks, 7-Zip (7z a -mx=9) per checkpoint, together with the
               checkpoint files whose compressed tensors are zeroed (the "skeleton": pickle, JSON, other files)
Reconstructed checkpoints are written to --out in the original layout, loadable by resume.py.
Prints JSON with per-checkpoint and total sizes, and encode_cpu_s: CPU seconds of this process and its 7z children
spent compressing (loading the checkpoints with torch included, writing the reconstructions excluded).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import resource
import time

import numpy as np
import torch

import checkpoints
import tinygpt


def kmeans_1d(values, k, iterations=25):
    """Lloyd's algorithm in one dimension, initialised at quantiles (deterministic). Returns sorted centres."""
    x = np.asarray(values, dtype=np.float64)
    centres = np.unique(np.quantile(x, (np.arange(k) + 0.5) / k))
    for _ in range(iterations):
        labels = np.searchsorted((centres[1:] + centres[:-1]) / 2, x)
        sums = np.bincount(labels, weights=x, minlength=len(centres))
        counts = np.bincount(labels, minlength=len(centres))
        nonempty = counts > 0
        updated = centres.copy()
        updated[nonempty] = sums[nonempty] / counts[nonempty]
        updated = np.unique(updated)
        if len(updated) == len(centres) and np.allclose(updated, centres, rtol=0, atol=0):
            break
        centres = updated
    return centres


def quantize(t, bits):
    """(indices uint8 with 0 = exact zero, fp16 codebook, dequantized tensor) or (None, raw float32, t) if few values."""
    flat = t.flatten().numpy().astype(np.float32)
    nz = np.flatnonzero(flat)
    k = 2 ** bits - 1
    if len(nz) <= k:
        return None, flat, t.clone()
    centres = kmeans_1d(flat[nz], k).astype(np.float16)
    centres = np.unique(centres)
    c32 = centres.astype(np.float32)
    labels = np.searchsorted((c32[1:] + c32[:-1]) / 2, flat[nz])
    idx = np.zeros(flat.shape, dtype=np.uint8)
    idx[nz] = labels + 1
    table = np.concatenate([[0.0], c32]).astype(np.float32)
    return idx, centres, torch.from_numpy(table[idx].reshape(t.shape))


def pack(idx, bits):
    per = 8 // bits
    pad = (-len(idx)) % per
    a = np.concatenate([idx, np.zeros(pad, dtype=np.uint8)]).reshape(-1, per).astype(np.uint16)
    out = np.zeros(len(a), dtype=np.uint16)
    for i in range(per):
        out = (out << bits) | a[:, i]
    return out.astype(np.uint8).tobytes()


def encode_part(blob, t, bits):
    idx, book, deq = quantize(t, bits)
    if idx is None:
        blob.append(book.tobytes())
    else:
        blob.append(pack(idx, bits))
        blob.append(book.tobytes())
    return deq


def sevenzip(archive, paths):
    if os.path.exists(archive):
        os.remove(archive)
    subprocess.run(["7z", "a", "-mx=9", "-bd", "-bso0", "-bsp0", archive] + paths, check=True)
    return os.path.getsize(archive)


def cpu_now():
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + c.ru_utime + c.ru_stime


def save_untimed(ck, dest, clock):
    t0 = cpu_now()
    ck.save(dest)
    clock["excluded"] += cpu_now() - t0


def compress_run(layout, run, out, alpha, beta, bits, opt_bits, work, clock):
    units = checkpoints.find(layout, run)
    base = {}
    report = []
    for n, unit in enumerate(units):
        src = os.path.join(run, unit)
        raw_bytes = sum(os.path.getsize(f) for f in checkpoints.unit_files(run, unit))
        ck = checkpoints.Checkpoint(layout, src)
        entry = {"checkpoint": unit, "raw_bytes": raw_bytes}
        if n == 0:
            for name in ck.names():
                base[name] = ck.param(name).detach().clone().float()
            entry["kind"] = "seed"
            entry["stored_bytes"] = sevenzip(os.path.join(work, "seed.7z"), checkpoints.unit_files(run, unit))
            save_untimed(ck, os.path.join(out, unit), clock)
            report.append(entry)
            continue
        blob, kept_w, kept_m, total = [], 0, 0, 0
        skeleton = checkpoints.Checkpoint(layout, src)
        for name in ck.names():
            w = ck.param(name).float()
            mom = ck.moments(name)
            if mom is None:
                base[name] = w.clone()
                continue
            m, v = mom[0].float(), mom[1].float()
            dw = w - base[name]
            factor = min(2.5, alpha / float(v.mean().sqrt())) if float(v.mean()) > 0 else 2.5
            wmask = dw.abs() > dw.abs().median() * factor
            dw = torch.where(wmask, dw, torch.zeros_like(dw))
            mmask = (m.abs() > beta * m.abs().mean()) & wmask
            m = torch.where(mmask, m, torch.zeros_like(m))
            v = torch.where(mmask, v, torch.zeros_like(v))
            base[name] = base[name] + encode_part(blob, dw, bits)
            m_hat = encode_part(blob, m, opt_bits)
            v_hat = encode_part(blob, v, opt_bits)
            ck.set_param(name, base[name])
            ck.set_moments(name, m_hat, v_hat)
            skeleton.set_param(name, torch.zeros_like(w))
            skeleton.set_moments(name, torch.zeros_like(m), torch.zeros_like(v))
            kept_w += int(wmask.sum())
            kept_m += int(mmask.sum())
            total += w.numel()
        save_untimed(ck, os.path.join(out, unit), clock)
        payload = os.path.join(work, "payload.bin")
        with open(payload, "wb") as f:
            for b in blob:
                f.write(b)
        skel_dir = os.path.join(work, "skeleton")
        shutil.rmtree(skel_dir, ignore_errors=True)
        skel_unit = os.path.join(skel_dir, os.path.basename(unit))
        skeleton.save(skel_unit)
        payload_7z = sevenzip(os.path.join(work, "payload.7z"), [payload])
        entry.update(kind="residual",
                     payload_bytes=payload_7z,
                     stored_bytes=sevenzip(os.path.join(work, "all.7z"), [payload, skel_unit]),
                     weight_kept=kept_w / total, moment_kept=kept_m / total)
        report.append(entry)
    if layout == "nanogpt" and os.path.exists(os.path.join(run, "ckpt.pt")):
        shutil.copyfile(os.path.join(out, units[-1]), os.path.join(out, "ckpt.pt"))
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layout", choices=["hf", "nanogpt", "lightning"], required=True)
    p.add_argument("--run", required=True, help="run directory written by train.py")
    p.add_argument("--out", required=True, help="directory for the reconstructed checkpoints")
    p.add_argument("--alpha", type=float, default=5e-5)
    p.add_argument("--beta", type=float, default=2.0)
    p.add_argument("--bits", type=int, default=4, choices=[1, 2, 4, 8])
    p.add_argument("--opt-bits", type=int, help="bits for the moments (default: --bits)")
    p.add_argument("--json", help="also write the JSON report here")
    args = p.parse_args(argv)
    tinygpt.setup_torch()
    clock = {"excluded": 0.0}
    t0 = cpu_now()
    with tempfile.TemporaryDirectory(prefix="excp-ref-") as work:
        report = compress_run(args.layout, args.run, args.out, args.alpha, args.beta, args.bits,
                              args.opt_bits or args.bits, work, clock)
    encode_cpu = cpu_now() - t0 - clock["excluded"]
    res = [r for r in report if r["kind"] == "residual"]
    raw = sum(r["raw_bytes"] for r in res)
    stored = sum(r["stored_bytes"] for r in res)
    summary = {
        "alpha": args.alpha, "beta": args.beta, "bits": args.bits, "opt_bits": args.opt_bits or args.bits,
        "checkpoints": len(report), "encode_cpu_s": encode_cpu, "residual_raw_bytes": raw, "residual_stored_bytes": stored,
        "residual_ratio": raw / stored if stored else None,
        "residual_payload_bytes": sum(r["payload_bytes"] for r in res),
        "total_raw_bytes": sum(r["raw_bytes"] for r in report),
        "total_stored_bytes": sum(r["stored_bytes"] for r in report),
        "mean_weight_kept": sum(r["weight_kept"] for r in res) / len(res) if res else None,
        "mean_moment_kept": sum(r["moment_kept"] for r in res) / len(res) if res else None,
        "per_checkpoint": report,
    }
    text = json.dumps(summary, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
