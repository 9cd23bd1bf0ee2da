"""Variant of a reconstructed HF checkpoint N: its 1-D parameters replaced by what coding them densely (no pruning)
would give: exact, or W_prev + Q_b(W_N - W_prev) with b-bit uniform quantization of the residual per tensor (the
chain's error feedback leaves about one step's quantization error). Args: RECON ORIG_N ORIG_PREV DEST MODE(exact|q8|q4)."""
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import torch, checkpoints, tinygpt
tinygpt.setup_torch()
rec, orig, prev, dest, mode = sys.argv[1:6]
ck, o, p = (checkpoints.Checkpoint("hf", d) for d in (rec, orig, prev))
for n in ck.names():
    w = o.param(n).float()
    if w.dim() >= 2: continue
    if mode == "exact":
        ck.set_param(n, o.param(n)); continue
    bits = int(mode[1:])
    base = p.param(n).float(); r = w - base
    lo, hi = float(r.min()), float(r.max())
    step = (hi - lo) / (2 ** bits - 1) or 1.0
    q = torch.round((r - lo) / step) * step + lo
    ck.set_param(n, (base + q).to(o.param(n).dtype))
ck.save(dest)
