"""Bytes to code the 1-D parameters (and optionally their moments) of an HF run losslessly as residuals: per
checkpoint, float32 XOR the previous checkpoint, split into byte planes, LZMA2 (xz -9e); the first is the seed."""
import lzma
import os
import sys
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
import numpy as np, torch, checkpoints, tinygpt
tinygpt.setup_torch()
run = sys.argv[1]
units = checkpoints.find("hf", run)
prev = {}
tot = {"weights": 0, "moments": 0}
raw = {"weights": 0, "moments": 0}
for i, u in enumerate(units):
    ck = checkpoints.Checkpoint("hf", f"{run}/{u}")
    names = [n for n in ck.names() if ck.param(n).dim() < 2]
    cur = {"weights": np.concatenate([ck.param(n).float().numpy().ravel() for n in names]),
           "moments": np.concatenate([t.float().numpy().ravel() for n in names for t in ck.moments(n)])}
    for k, a in cur.items():
        if i > 0:
            x = (a.view(np.uint32) ^ prev[k].view(np.uint32)).view(np.uint8).reshape(-1, 4).T.copy()
            tot[k] += len(lzma.compress(x.tobytes(), preset=9 | lzma.PRESET_EXTREME))
            raw[k] += a.nbytes
        prev[k] = a
print({"elements_per_checkpoint": int(cur["weights"].size), "lossless_bytes": tot, "raw_bytes": raw})
