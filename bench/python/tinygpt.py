"""A small nanoGPT-style GPT and its deterministic data, shared by train.py, resume.py and excp_reference.py.

Byte-level language model (vocab 256) over the license texts of base-files (/usr/share/common-licenses: part of
every Debian system and not changed by installing packages, unlike /usr/share/doc); batches are a pure function of
(seed, step), so a run resumed from any checkpoint sees exactly the batches the original run saw.
"""
import glob
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {
    # name: n_layer, n_head, n_embd, block_size, batch_size   (approximate parameter count)
    "nano": dict(n_layer=2, n_head=4, n_embd=128, block_size=64, batch_size=8),      # ~0.4M
    "tiny": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=8),      # ~0.8M
    "small": dict(n_layer=4, n_head=4, n_embd=256, block_size=128, batch_size=8),    # ~3.3M
    "medium": dict(n_layer=6, n_head=8, n_embd=512, block_size=128, batch_size=8),   # ~19M
    "large": dict(n_layer=12, n_head=12, n_embd=768, block_size=128, batch_size=4),  # ~85M
}
VOCAB = 256
CORPUS_LIMIT = 8 << 20


def model_args(preset, n_layer=None, n_head=None, n_embd=None, block_size=None):
    p = dict(PRESETS[preset])
    for k, v in (("n_layer", n_layer), ("n_head", n_head), ("n_embd", n_embd), ("block_size", block_size)):
        if v is not None:
            p[k] = v
    p.pop("batch_size")
    p["vocab_size"] = VOCAB
    p["bias"] = True
    p["dropout"] = 0.0
    return p


class CausalSelfAttention(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.n_head = a["n_head"]
        self.c_attn = nn.Linear(a["n_embd"], 3 * a["n_embd"], bias=a["bias"])
        self.c_proj = nn.Linear(a["n_embd"], a["n_embd"], bias=a["bias"])
        mask = torch.tril(torch.ones(a["block_size"], a["block_size"])).view(1, 1, a["block_size"], a["block_size"])
        self.register_buffer("bias", mask, persistent=False)

    def forward(self, x):
        b, t, c = x.size()
        q, k, v = self.c_attn(x).split(c, dim=2)
        h = self.n_head
        q = q.view(b, t, h, c // h).transpose(1, 2)
        k = k.view(b, t, h, c // h).transpose(1, 2)
        v = v.view(b, t, h, c // h).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :t, :t] == 0, float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(b, t, c)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.c_fc = nn.Linear(a["n_embd"], 4 * a["n_embd"], bias=a["bias"])
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * a["n_embd"], a["n_embd"], bias=a["bias"])

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.ln_1 = nn.LayerNorm(a["n_embd"])
        self.attn = CausalSelfAttention(a)
        self.ln_2 = nn.LayerNorm(a["n_embd"])
        self.mlp = MLP(a)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.args = dict(a)
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(a["vocab_size"], a["n_embd"]),
            wpe=nn.Embedding(a["block_size"], a["n_embd"]),
            h=nn.ModuleList([Block(a) for _ in range(a["n_layer"])]),
            ln_f=nn.LayerNorm(a["n_embd"]),
        ))
        self.lm_head = nn.Linear(a["n_embd"], a["vocab_size"], bias=False)
        self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                torch.nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * a["n_layer"]))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            torch.nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets):
        t = idx.size(1)
        pos = torch.arange(0, t, dtype=torch.long)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    def num_params(self):
        return sum(p.numel() for p in self.parameters())


def param_group_names(model):
    """Parameter names in optimizer order: group 0 (decay, dim >= 2) then group 1 (no decay)."""
    named = list(model.named_parameters())
    return [n for n, p in named if p.dim() >= 2], [n for n, p in named if p.dim() < 2]


def make_optimizer(model, lr, weight_decay=0.1, betas=(0.9, 0.95)):
    params = dict(model.named_parameters())
    decay, no_decay = param_group_names(model)
    groups = [
        {"params": [params[n] for n in decay], "weight_decay": weight_decay},
        {"params": [params[n] for n in no_decay], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=1e-8)


def lr_factor(step, warmup, total):
    """Multiplier of the peak learning rate before optimizer step `step` (0-based count of finished steps)."""
    if step < warmup:
        return (step + 1) / warmup
    if step >= total:
        return 0.1
    ratio = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * ratio))


_corpus = None


def corpus():
    """The training text: /usr/share/common-licenses in sorted path order, as int64 byte values."""
    global _corpus
    if _corpus is None:
        paths = sorted(glob.glob("/usr/share/common-licenses/*"))
        chunks, size = [], 0
        for p in paths:
            if not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                data = f.read()
            chunks.append(data)
            size += len(data)
            if size >= CORPUS_LIMIT:
                break
        data = b"".join(chunks)[:CORPUS_LIMIT]
        if len(data) < 65536:
            raise SystemExit("not enough text under /usr/share/common-licenses")
        _corpus = torch.from_numpy(np.frombuffer(data, dtype=np.uint8).astype(np.int64))
    return _corpus


def batch(seed, step, batch_size, block_size):
    """The batch for optimizer step `step` (1-based) of a run with data seed `seed`."""
    data = corpus()
    g = torch.Generator()
    g.manual_seed(seed * 1_000_003 + step)
    ix = torch.randint(len(data) - block_size - 1, (batch_size,), generator=g)
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + 1 + block_size] for i in ix])
    return x, y


def setup_torch():
    """One intra-op thread by default (EXCPFS_TORCH_THREADS overrides): on a shared 2-core machine two OpenMP
    threads spin against each other and run a tiny-GPT step ~10x slower in wall time than one."""
    torch.set_num_threads(int(os.environ.get("EXCPFS_TORCH_THREADS", "1")))
    torch.manual_seed(0)
