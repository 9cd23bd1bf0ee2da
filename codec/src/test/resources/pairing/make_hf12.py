"""Writes hf12/: a 12-layer GPT-2 shaped model after a few AdamW steps with the Hugging Face Trainer's param groups
(decay: no bias, no LayerNorm), saved as the Trainer does: model.safetensors (tensors sorted by name, tied head
dropped) and optimizer.pt (torch.save of the optimizer state dict), plus truth.txt, "index name" per optimizer index.

usage: /usr/bin/python3 make_hf12.py   (from this directory; deterministic)
"""
import json, os, struct
import torch, torch.nn as nn

torch.manual_seed(12)
V, D, L, T = 64, 8, 12, 16

class Attn(nn.Module):
    def __init__(s):
        super().__init__(); s.c_attn = nn.Linear(D, 3 * D); s.c_proj = nn.Linear(D, D)

class Mlp(nn.Module):
    def __init__(s):
        super().__init__(); s.c_fc = nn.Linear(D, 4 * D); s.c_proj = nn.Linear(4 * D, D)

class Block(nn.Module):
    def __init__(s):
        super().__init__(); s.ln_1 = nn.LayerNorm(D); s.attn = Attn(); s.ln_2 = nn.LayerNorm(D); s.mlp = Mlp()
    def forward(s, x):
        x = x + s.attn.c_proj(s.attn.c_attn(s.ln_1(x))[..., :D])
        return x + s.mlp.c_proj(torch.relu(s.mlp.c_fc(s.ln_2(x))))

class Transformer(nn.Module):
    def __init__(s):
        super().__init__(); s.wte = nn.Embedding(V, D); s.wpe = nn.Embedding(T, D)
        s.h = nn.ModuleList([Block() for _ in range(L)]); s.ln_f = nn.LayerNorm(D)

class GPT(nn.Module):
    def __init__(s):
        super().__init__(); s.transformer = Transformer(); s.lm_head = nn.Linear(D, V, bias=False)
        s.lm_head.weight = s.transformer.wte.weight
    def forward(s, idx):
        t = s.transformer
        x = t.wte(idx) + t.wpe(torch.arange(idx.shape[1]))
        for b in t.h: x = b(x)
        return s.lm_head(t.ln_f(x))

m = GPT()
norms = {n + "." + k for n, mod in m.named_modules() if isinstance(mod, nn.LayerNorm) for k, _ in mod.named_parameters()}
named = list(m.named_parameters())
decay = [(n, p) for n, p in named if "bias" not in n and n not in norms]
nodecay = [(n, p) for n, p in named if not ("bias" not in n and n not in norms)]
opt = torch.optim.AdamW([{"params": [p for _, p in decay], "weight_decay": 0.01},
                         {"params": [p for _, p in nodecay], "weight_decay": 0.0}], lr=1e-3)
for _ in range(3):
    x = torch.randint(0, V, (4, T))
    loss = nn.functional.cross_entropy(m(x).view(-1, V), x.view(-1))
    opt.zero_grad(); loss.backward(); opt.step()

out = "hf12"
os.makedirs(out, exist_ok=True)
sd = {k: v for k, v in m.state_dict().items() if k != "lm_head.weight"}
header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
for k in sorted(sd):
    b = sd[k].contiguous().numpy().astype("<f4").tobytes()
    header[k] = {"dtype": "F32", "shape": list(sd[k].shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b); off += len(b)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h); [f.write(b) for b in blobs]
torch.save(opt.state_dict(), os.path.join(out, "optimizer.pt"))
with open(os.path.join(out, "truth.txt"), "w") as f:
    for i, (n, _) in enumerate(decay + nodecay): f.write("%d %s\n" % (i, n))
