"""Writes a small nanoGPT-style run: checkpoint-<step>/ckpt.pt per checkpoint plus ckpt.pt overwritten each time."""
import os
import sys

import torch

torch.manual_seed(0)
out, count = sys.argv[1], int(sys.argv[2])
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.GELU(), torch.nn.Linear(128, 64))
opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
step = 0
for _ in range(count):
    for _ in range(20):
        x = torch.randn(32, 64)
        loss = (model(x) - x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
    state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": step}
    d = os.path.join(out, "checkpoint-%d" % step)
    os.makedirs(d, exist_ok=True)
    torch.save(state, os.path.join(d, "ckpt.pt"))
    torch.save(state, os.path.join(out, "ckpt.pt"))
