"""Trains a tiny GPT-2 with AdamW groups and dumps two checkpoints as raw little-endian fp32.

usage: train_tiny_gpt.py OUT_DIR GAP_STEPS SEED [LAYERS (3)] [GROUPS: nanogpt (dim >= 2 decays, default) | hf (the
Hugging Face Trainer's: no bias, no LayerNorm decays)]

Writes model_sd.bin / model_sd_base.bin (state_dict order, as torch.save stores it), model_st.bin /
model_st_base.bin (sorted by name, as the safetensors writer stores it), optimizer.bin (state i exp_avg,
exp_avg_sq in index order) and manifest.tsv: `tensor<TAB>file<TAB>key<TAB>shape<TAB>offset<TAB>bytes` and
`meta<TAB>file<TAB>key<TAB>value` lines, and `truth<TAB>index<TAB>parameter name` for the
optimizer index each parameter really has. Keys follow the excpfs key path convention.
"""
import math, os, sys
import torch, torch.nn as nn

out, gap, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
L = int(sys.argv[4]) if len(sys.argv) > 4 else 3
groups = sys.argv[5] if len(sys.argv) > 5 else "nanogpt"
torch.manual_seed(seed)
V, D, T = 128, 64, 32

class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln_1 = nn.LayerNorm(D); s.attn = nn.Linear(D, 3 * D); s.proj = nn.Linear(D, D)
        s.ln_2 = nn.LayerNorm(D); s.fc = nn.Linear(D, 4 * D); s.fc2 = nn.Linear(4 * D, D)
    def forward(s, x):
        q, k, v = s.attn(s.ln_1(x)).chunk(3, -1)
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + s.mask, -1) @ v
        x = x + s.proj(a)
        return x + s.fc2(nn.functional.gelu(s.fc(s.ln_2(x))))

class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte = nn.Embedding(V, D); s.wpe = nn.Embedding(T, D)
        s.h = nn.ModuleList([Block() for _ in range(L)]); s.ln_f = nn.LayerNorm(D)
        s.lm_head = nn.Linear(D, V, bias=False); s.lm_head.weight = s.wte.weight
        for b in s.h: b.register_buffer("mask", torch.triu(torch.full((T, T), -1e9), 1))
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h: x = b(x)
        return s.lm_head(s.ln_f(x))

m = GPT()
params = dict(m.named_parameters())
if groups == "hf":
    norms = {n + "." + k for n, mod in m.named_modules() if isinstance(mod, nn.LayerNorm) for k, _ in mod.named_parameters()}
    decides = lambda n, p: "bias" not in n and n not in norms
else:
    decides = lambda n, p: p.dim() >= 2
decay = [p for n, p in params.items() if decides(n, p)]
nodecay = [p for n, p in params.items() if not decides(n, p)]
opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": nodecay, "weight_decay": 0.0}], lr=1e-3)
P = torch.softmax(torch.randn(V, V) * 2, -1)
seq = [0]
for _ in range(20000): seq.append(torch.multinomial(P[seq[-1]], 1).item())
data = torch.tensor(seq)

def step():
    ix = torch.randint(0, len(data) - T - 1, (16,))
    x = torch.stack([data[i:i + T] for i in ix]); y = torch.stack([data[i + 1:i + T + 1] for i in ix])
    loss = nn.functional.cross_entropy(m(x).view(-1, V), y.view(-1))
    opt.zero_grad(); loss.backward(); opt.step()

for _ in range(100): step()
base = {k: v.detach().clone() for k, v in m.state_dict().items()}
for _ in range(gap): step()
now = m.state_dict()
osd = opt.state_dict()

os.makedirs(out, exist_ok=True)
lines = []
def dump(fname, items):
    with open(os.path.join(out, fname), "wb") as f:
        off = 0
        for key, t in items:
            b = t.detach().contiguous().float().numpy().astype("<f4").tobytes()
            f.write(b)
            lines.append("tensor\t%s\t%s\t%s\t%d\t%d" % (fname, key, ",".join(str(d) for d in t.shape), off, len(b)))
            off += len(b)

seen, kept = set(), []
for k, t in now.items():
    if t.data_ptr() in seen: continue              # tied lm_head.weight: an alias of wte, not a region
    seen.add(t.data_ptr()); kept.append(k)

def model_items(sd, sort):
    items = [(k, sd[k]) for k in kept]
    return sorted(items) if sort else items

dump("model_sd.bin", model_items(now, False)); dump("model_sd_base.bin", model_items(base, False))
dump("model_st.bin", model_items(now, True)); dump("model_st_base.bin", model_items(base, True))
opt_items = []
for i, s in sorted(osd["state"].items()):
    opt_items += [("state/%d/exp_avg" % i, s["exp_avg"]), ("state/%d/exp_avg_sq" % i, s["exp_avg_sq"])]
dump("optimizer.bin", opt_items)
for g, group in enumerate(osd["param_groups"]):
    lines.append("meta\toptimizer.bin\tparam_groups/%d/params\t[%s]" % (g, ", ".join(str(p) for p in group["params"])))
    lines.append("meta\toptimizer.bin\tparam_groups/%d/weight_decay\t%s" % (g, group["weight_decay"]))
names = {id(p): n for n, p in m.named_parameters()}
order = [names[id(p)] for p in decay + nodecay]
for i, n in enumerate(order): lines.append("truth\t%d\t%s" % (i, n))
with open(os.path.join(out, "manifest.tsv"), "w") as f: f.write("\n".join(lines) + "\n")
