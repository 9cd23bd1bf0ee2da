#!/usr/bin/python3
"""Trains a small GPT (character level, on Python source text found on this machine) with AdamW and dumps
checkpoints as raw little-endian tensors for the codec measurements:

    OUT/step-<n>/index.json   [{"key", "role", "dtype", "shape", "offset", "length"}]
    OUT/step-<n>/tensors.bin  the payloads back to back

Usage: /usr/bin/python3 real_checkpoints.py OUT [steps=240] [every=40] [d_model=192] [layers=6]
"""
import glob, json, math, os, sys
import torch, torch.nn as nn, torch.nn.functional as F

out = sys.argv[1]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 240
every = int(sys.argv[3]) if len(sys.argv) > 3 else 40
torch.manual_seed(0)
torch.set_num_threads(1)

text = []
for p in sorted(glob.glob('/usr/lib/python3/dist-packages/torch/nn/modules/*.py'))[:40]:
    text.append(open(p, encoding='utf-8', errors='ignore').read())
data = torch.tensor(list('\n'.join(text).encode('utf-8')), dtype=torch.long)
V, T, H = 256, 64, 4
D = int(sys.argv[4]) if len(sys.argv) > 4 else 192
L = int(sys.argv[5]) if len(sys.argv) > 5 else 6
H = 6 if D % 6 == 0 else 4

class Block(nn.Module):
    def __init__(s):
        super().__init__()
        s.ln_1, s.ln_2 = nn.LayerNorm(D), nn.LayerNorm(D)
        s.c_attn, s.c_proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        s.fc, s.proj = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
    def forward(s, x):
        B, T_, _ = x.shape
        q, k, v = s.c_attn(s.ln_1(x)).split(D, dim=2)
        q, k, v = [t.view(B, T_, H, D // H).transpose(1, 2) for t in (q, k, v)]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D // H)
        att = att.masked_fill(torch.triu(torch.ones(T_, T_, dtype=torch.bool), 1), float('-inf')).softmax(-1)
        x = x + s.c_proj((att @ v).transpose(1, 2).reshape(B, T_, D))
        return x + s.proj(F.gelu(s.fc(s.ln_2(x))))

class GPT(nn.Module):
    def __init__(s):
        super().__init__()
        s.wte, s.wpe = nn.Embedding(V, D), nn.Embedding(T, D)
        s.h = nn.ModuleList([Block() for _ in range(L)])
        s.ln_f, s.head = nn.LayerNorm(D), nn.Linear(D, V, bias=False)
    def forward(s, idx):
        x = s.wte(idx) + s.wpe(torch.arange(idx.shape[1]))
        for b in s.h: x = b(x)
        return s.head(s.ln_f(x))

model = GPT()
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
opt = torch.optim.AdamW([{'params': decay, 'weight_decay': 0.1}, {'params': nodecay, 'weight_decay': 0.0}], lr=1e-3)
names = {id(p): n for n, p in model.named_parameters()}

def dump(step):
    d = os.path.join(out, 'step-%d' % step)
    os.makedirs(d, exist_ok=True)
    index, off = [], 0
    with open(os.path.join(d, 'tensors.bin'), 'wb') as f:
        for n, p in model.named_parameters():
            st = opt.state[p]
            for key, role, t in ((n, 'PARAM', p.data), (n + '/exp_avg', 'EXP_AVG', st['exp_avg']),
                                 (n + '/exp_avg_sq', 'EXP_AVG_SQ', st['exp_avg_sq'])):
                b = t.detach().contiguous().float().numpy().tobytes()
                index.append({'key': key, 'param': n, 'role': role, 'dtype': 'F32', 'shape': list(t.shape),
                              'offset': off, 'length': len(b)})
                f.write(b)
                off += len(b)
    json.dump(index, open(os.path.join(d, 'index.json'), 'w'))

for step in range(1, steps + 1):
    i = torch.randint(0, len(data) - T - 1, (16,))
    x = torch.stack([data[j:j + T] for j in i]); y = torch.stack([data[j + 1:j + T + 1] for j in i])
    loss = F.cross_entropy(model(x).view(-1, V), y.view(-1))
    opt.zero_grad(); loss.backward(); opt.step()
    if step % every == 0:
        dump(step)
        print(step, float(loss), flush=True)
