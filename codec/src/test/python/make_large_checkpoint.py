#!/usr/bin/python3
"""Writes a GPT-2-small-sized nanoGPT checkpoint (~1.5 GB: 124M params + AdamW exp_avg/exp_avg_sq, two param
groups) for timing Formats.parse on a real-sized file. Not a fixture: write it outside the repository.

usage: /usr/bin/python3 codec/src/test/python/make_large_checkpoint.py /tmp/gpt2_ckpt.pt
"""
import sys

import torch

torch.manual_seed(0)
# GPT-2-small-sized nanoGPT checkpoint: 12 layers, 768 wide, with AdamW state (two param groups)
L, D, V = 12, 768, 50304
sd = {"transformer.wte.weight": torch.randn(V, D), "transformer.wpe.weight": torch.randn(1024, D)}
for i in range(L):
    p = f"transformer.h.{i}."
    sd[p + "ln_1.weight"] = torch.ones(D); sd[p + "ln_1.bias"] = torch.zeros(D)
    sd[p + "attn.c_attn.weight"] = torch.randn(3 * D, D); sd[p + "attn.c_attn.bias"] = torch.zeros(3 * D)
    sd[p + "attn.c_proj.weight"] = torch.randn(D, D); sd[p + "attn.c_proj.bias"] = torch.zeros(D)
    sd[p + "ln_2.weight"] = torch.ones(D); sd[p + "ln_2.bias"] = torch.zeros(D)
    sd[p + "mlp.c_fc.weight"] = torch.randn(4 * D, D); sd[p + "mlp.c_fc.bias"] = torch.zeros(4 * D)
    sd[p + "mlp.c_proj.weight"] = torch.randn(D, 4 * D); sd[p + "mlp.c_proj.bias"] = torch.zeros(D)
sd["transformer.ln_f.weight"] = torch.ones(D); sd["transformer.ln_f.bias"] = torch.zeros(D)
sd["lm_head.weight"] = sd["transformer.wte.weight"]
params = [v for k, v in sd.items() if k != "lm_head.weight"]
state = {i: {"step": torch.tensor(100.0), "exp_avg": torch.randn_like(p), "exp_avg_sq": torch.rand_like(p)} for i, p in enumerate(params)}
decay = [i for i, p in enumerate(params) if p.dim() >= 2]
nodecay = [i for i, p in enumerate(params) if p.dim() < 2]
opt = {"state": state, "param_groups": [{"params": decay, "weight_decay": 0.1, "lr": 6e-4}, {"params": nodecay, "weight_decay": 0.0, "lr": 6e-4}]}
torch.save({"model": sd, "optimizer": opt, "iter_num": 100, "model_args": {"n_layer": L}}, sys.argv[1])
