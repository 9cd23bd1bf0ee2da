#!/usr/bin/python3
"""Generates the real checkpoint fixtures under codec/src/test/resources/formats/ and the bad-input corpus under
codec/src/test/resources/badinput/.

Run with Debian's python3 (torch 1.13, numpy):  /usr/bin/python3 codec/src/test/python/make_fixtures.py
Deterministic (fixed seeds); every file stays well under 100 KB.
"""
import collections
import hashlib
import io
import json
import os
import struct
import sys
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, "..", "resources")
OUT = os.path.join(RES, "formats")
BAD = os.path.join(RES, "badinput")


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------------------------------------- safetensors

ST_DTYPES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}


def tensor_bytes(t):
    t = t.contiguous()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def safetensors_bytes(tensors, metadata=None, pad_extra=0):
    """Follows the safetensors spec: u64 LE header size, JSON header (sorted keys), padded with spaces to a
    multiple of 8, then the data area; offsets are relative to the start of the data area."""
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    data = b""
    for name in sorted(tensors):
        t = tensors[name]
        b = tensor_bytes(t)
        header[name] = {"dtype": ST_DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [len(data), len(data) + len(b)]}
        data += b
    h = json.dumps(header, separators=(",", ":"), sort_keys=True).encode()
    h += b" " * ((8 - len(h) % 8) % 8 + pad_extra)
    return struct.pack("<Q", len(h)) + h + data


def make_safetensors():
    g = torch.Generator().manual_seed(1)
    tensors = {
        "transformer.h.0.attn.c_attn.weight": torch.randn(8, 24, generator=g),
        "transformer.h.0.ln_1.weight": torch.randn(8, generator=g).half(),
        "transformer.wte.weight": torch.randn(16, 8, generator=g).bfloat16(),
        "lm_head.bias": torch.randn(16, generator=g).double(),
        "position_ids": torch.arange(10, dtype=torch.int64).unsqueeze(0),
        "mask": torch.tensor([True, False, True]),
        "scale": torch.tensor(0.5),
        "bytes": torch.arange(5, dtype=torch.uint8),
    }
    write(os.path.join(OUT, "model.safetensors"),
          safetensors_bytes(tensors, {"format": "pt", "step": "500"}, pad_extra=8))
    return tensors


# ---------------------------------------------------------------------------------------------- torch models

class TinyGPT(torch.nn.Module):
    def __init__(self, vocab=16, dim=8, layers=2):
        super().__init__()
        self.transformer = torch.nn.ModuleDict(dict(
            wte=torch.nn.Embedding(vocab, dim),
            wpe=torch.nn.Embedding(6, dim),
            h=torch.nn.ModuleList([torch.nn.ModuleDict(dict(
                ln_1=torch.nn.LayerNorm(dim),
                c_attn=torch.nn.Linear(dim, 3 * dim),
                c_proj=torch.nn.Linear(3 * dim, dim))) for _ in range(layers)]),
            ln_f=torch.nn.LayerNorm(dim),
        ))
        self.lm_head = torch.nn.Linear(dim, vocab, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying, as in nanoGPT

    def forward(self, idx):
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(idx.shape[1]))
        for blk in self.transformer.h:
            x = x + blk.c_proj(torch.relu(blk.c_attn(blk.ln_1(x))))
        return self.lm_head(self.transformer.ln_f(x))


def trained(seed=0, steps=2):
    torch.manual_seed(seed)
    model = TinyGPT()
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    nodecay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                             {"params": nodecay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.95))
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=10)
    for _ in range(steps):
        idx = torch.randint(0, 16, (2, 6))
        loss = torch.nn.functional.cross_entropy(model(idx).reshape(-1, 16), idx.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return model, opt, sched


class TaggedTensor(torch.Tensor):
    """A tensor subclass: torch pickles it through torch._tensor._rebuild_from_type_v2."""


def make_torch():
    model, opt, sched = trained()
    torch.save(model.state_dict(), os.path.join(OUT, "state_dict.pt"))
    model_args = dict(n_layer=2, n_head=2, n_embd=8, block_size=6, bias=True, vocab_size=16, dropout=0.0)
    torch.save({
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "model_args": model_args,
        "iter_num": 2,
        "best_val_loss": torch.tensor(2.75),
        "config": {"learning_rate": 1e-3, "out_dir": "out", "compile": False, "betas": (0.9, 0.95)},
    }, os.path.join(OUT, "nanogpt_ckpt.pt"))
    torch.save(opt.state_dict(), os.path.join(OUT, "optimizer.pt"))
    torch.save({
        "epoch": 3,
        "global_step": 900,
        "pytorch-lightning_version": "2.1.0",
        "state_dict": collections.OrderedDict(("model." + k, v) for k, v in model.state_dict().items()),
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 4, "completed": 3}}}},
        "callbacks": {"ModelCheckpoint{'monitor': None}": {"best_model_score": None, "dirpath": "/tmp/ck"}},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [sched.state_dict()],
        "hparams_name": "kwargs",
        "hyper_parameters": {"lr": 1e-3, "layers": 2},
    }, os.path.join(OUT, "lightning.ckpt"))

    base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 7
    views = collections.OrderedDict()
    views["base"] = base
    views["row_slice"] = base[1:3]            # view with storage offset 6
    views["transposed"] = base.t()            # strided view
    views["scalar"] = torch.tensor(3.5)       # 0-d
    views["empty"] = torch.zeros(0, 5)        # empty
    views["half"] = torch.linspace(-1, 1, 12).half()
    views["bf16"] = torch.linspace(-2, 2, 10).bfloat16()
    views["f64"] = torch.linspace(0, 1, 9).double()
    views["i64"] = torch.arange(7)
    views["i32"] = torch.arange(5, dtype=torch.int32)
    views["flags"] = torch.tensor([True, False])
    views["u8"] = torch.arange(4, dtype=torch.uint8)
    views["nested"] = {"list": [torch.ones(3), base[2]], "tuple": (torch.full((2, 2), 0.25), 7)}
    torch.save(views, os.path.join(OUT, "views_dtypes.pt"))

    small = {"w": torch.arange(6, dtype=torch.float32).reshape(2, 3) / 5, "b": torch.ones(3).half(), "n": 5,
             "groups": [{"params": [0, 1], "lr": 0.5}]}
    small["tied"] = small["w"]
    torch.save(small, os.path.join(OUT, "protocol4.pt"), pickle_protocol=4)
    torch.save(small, os.path.join(OUT, "protocol5.pt"), pickle_protocol=5)
    make_torch2_style(os.path.join(OUT, "state_dict.pt"), os.path.join(OUT, "torch2_style.pt"))

    tagged = torch.arange(8, dtype=torch.float32).as_subclass(TaggedTensor)
    tagged.tag = "kept"
    torch.save({"tagged": tagged, "param": torch.nn.Parameter(torch.ones(2, 2)), "plain": torch.zeros(3)},
               os.path.join(OUT, "subclass.pt"))

    torch.save(torch.linspace(0, 1, 10), os.path.join(OUT, "single_tensor.pt"))
    # int key 1 and text key "1" give the same key path: the second region becomes "1#2"
    torch.save({1: torch.ones(4), "1": torch.zeros(4)}, os.path.join(OUT, "colliding_keys.pt"))

    legacy = collections.OrderedDict()
    legacy["w"] = torch.arange(12, dtype=torch.float32).reshape(3, 4) / 3
    legacy["w_view"] = legacy["w"][1]
    legacy["b"] = torch.linspace(0, 1, 4).double()
    legacy["n"] = torch.arange(3)
    legacy["step"] = torch.tensor(5.0)
    legacy["meta"] = {"epoch": 1}
    torch.save(legacy, os.path.join(OUT, "legacy.pt"), _use_new_zipfile_serialization=False)
    torch.save(legacy, os.path.join(OUT, "legacy_p4.pt"), _use_new_zipfile_serialization=False, pickle_protocol=4)
    make_v3_style(os.path.join(OUT, "views_dtypes.pt"), os.path.join(OUT, "rebuild_v3.pt"))


def make_v3_style(src, dst):
    """Re-pickles every tensor of a torch zip the way torch 2.x pickles dtypes that TypedStorage does not know:
    _rebuild_tensor_v3(storage with persistent id ('storage', torch.UntypedStorage, key, 'cpu', nbytes), offset,
    size, stride, requires_grad, hooks, torch.<dtype>). torch 1.13 cannot load it; the parser must give the same
    regions as for the original."""
    import pickle
    sizes = {"FloatStorage": (torch.float32, 4), "HalfStorage": (torch.float16, 2),
             "BFloat16Storage": (torch.bfloat16, 2), "DoubleStorage": (torch.float64, 8),
             "LongStorage": (torch.int64, 8), "IntStorage": (torch.int32, 4), "BoolStorage": (torch.bool, 1),
             "ByteStorage": (torch.uint8, 1)}
    zin = zipfile.ZipFile(src)
    top = zin.namelist()[0].split("/")[0]

    class Storage:
        def __init__(self, typ, key, numel):
            self.typ, self.key, self.numel = typ, key, numel

    class V2Args(tuple):
        pass

    def rebuild_v3():  # a stand-in that pickles by reference as torch._utils._rebuild_tensor_v3
        raise AssertionError

    rebuild_v3.__module__, rebuild_v3.__qualname__ = "torch._utils", "_rebuild_tensor_v3"

    class Reader(pickle.Unpickler):
        def find_class(self, module, name):
            if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
                return lambda *a: V2Args(a)
            if module == "torch" and name in sizes:
                return name
            if (module, name) == ("collections", "OrderedDict"):
                return collections.OrderedDict
            raise ValueError((module, name))

        def persistent_load(self, pid):
            return Storage(pid[1], pid[2], pid[4])

    class Writer(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, Storage):
                return ("storage", torch.UntypedStorage, o.key, "cpu", o.numel * sizes[o.typ][1])
            return None

        def reducer_override(self, o):
            if isinstance(o, V2Args):
                return rebuild_v3, tuple(o[:6]) + (sizes[o[0].typ][0],)
            return NotImplemented

    obj = Reader(io.BytesIO(zin.read(top + "/data.pkl"))).load()
    torch._utils._rebuild_tensor_v3 = rebuild_v3
    try:
        buf = io.BytesIO()
        Writer(buf, protocol=2).dump(obj)
    finally:
        del torch._utils._rebuild_tensor_v3
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        zput(z, "archive/data.pkl", buf.getvalue())
        for n in zin.namelist():
            if "/data/" in n:
                zput(z, "archive/data/" + n.split("/data/")[1], zin.read(n))
        zput(z, "archive/version", b"3\n")
    write(dst, out.getvalue())


def make_torch2_style(src, dst):
    """Re-packs a torch 1.13 zip the way torch 2.x lays it out: top folder archive/, byteorder,
    .data/serialization_id, .format_version, data entries aligned to 64 bytes with an 'FB' padding extra field."""
    zin = zipfile.ZipFile(src)
    top = zin.namelist()[0].split("/")[0]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        def put(name, data):
            info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
            header = 30 + len(name.encode())
            pad = (64 - (out.tell() + header + 4) % 64) % 64
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            z.writestr(info, data)
        put("archive/data.pkl", zin.read(top + "/data.pkl"))
        put("archive/.format_version", b"1")
        put("archive/.storage_alignment", b"64")
        put("archive/byteorder", b"little")
        for n in zin.namelist():
            if "/data/" in n:
                put("archive/data/" + n.split("/data/")[1], zin.read(n))
        put("archive/version", b"3\n")
        put("archive/.data/serialization_id", b"0123456789012345678901234567890123456789")
    write(dst, out.getvalue())


# ---------------------------------------------------------------------------------------------- numpy

def make_numpy():
    rng = np.random.default_rng(3)
    a = rng.standard_normal((4, 5)).astype("<f4")
    np.save(os.path.join(OUT, "array.npy"), a)
    with open(os.path.join(OUT, "fortran_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, np.asfortranarray(rng.standard_normal((3, 4))), version=(2, 0))
    with open(os.path.join(OUT, "v3.npy"), "wb") as f:
        np.lib.format.write_array(f, np.arange(6, dtype="<i4"), version=(3, 0))
    np.save(os.path.join(OUT, "object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.savez(os.path.join(OUT, "arrays.npz"), weights=a, bias=rng.standard_normal(5),
             counts=np.arange(4, dtype="<i8"), half=rng.standard_normal(6).astype("<f2"))
    np.savez_compressed(os.path.join(OUT, "compressed.npz"), weights=a, more=np.ones(64, dtype="<f4"))


# ---------------------------------------------------------------------------------------------- plain pickles

PICKLE_SAMPLE = collections.OrderedDict([
    ("ints", [0, 1, -5, 255, 65536, -2 ** 31, 2 ** 40]),
    ("big", 2 ** 70),
    ("floats", (0.1, -2.5, 1e-08, 3.0)),
    ("text", "héllo \u2603 \\u0041"),
    ("flags", {"on": True, "off": False, "none": None}),
    ("nested", {"k": [{"x": 1}, ("y", 2)]}),
    ("blob", b"xy"),
    (7, "int key"),
])


def make_pickles():
    import pickle
    for proto in range(6):
        write(os.path.join(OUT, "sample_p%d.pkl" % proto), pickle.dumps(PICKLE_SAMPLE, protocol=proto))


# ---------------------------------------------------------------------------------------------- expectations

DTYPE_NAMES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16",
               torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
               torch.bool: "BOOL"}
NP_NAMES = {"<f4": "F32", "<f8": "F64", "<f2": "F16", "<i8": "I64", "<i4": "I32", "<i2": "I16", "|i1": "I8",
            "|u1": "U8", "|b1": "BOOL"}


def role(path, dtype, numel):
    if dtype not in ("F32", "F64", "F16", "BF16"):
        return "NON_FLOAT"
    seg = path.split("/")
    if seg[-1] == "exp_avg":
        return "EXP_AVG"
    if seg[-1] == "exp_avg_sq":
        return "EXP_AVG_SQ"
    if len(seg) >= 3 and seg[-3] == "state" and seg[-2].isdigit():
        return "OTHER_FLOAT"
    return "PARAM" if numel >= 2 else "OTHER_FLOAT"


def walk(obj, path, out):
    """Key paths of every tensor, in the order torch pickles them (dict insertion order)."""
    if isinstance(obj, torch.Tensor):
        out.append((path or "tensor", obj))
    elif isinstance(obj, dict):
        for k, v in obj.items():
            walk(v, (path + "/" if path else "") + str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            walk(v, (path + "/" if path else "") + str(i), out)


def storage_bytes(t):
    s = t.storage()
    raw = torch.empty(0, dtype=t.dtype).set_(s).contiguous()
    return tensor_bytes(raw)


def expect_torch(name, legacy=False):
    obj = torch.load(os.path.join(OUT, name))
    uses = []
    walk(obj, "", uses)
    regions, aliases, first = [], {}, {}
    views = collections.defaultdict(list)
    for path, t in uses:
        views[(t.storage().data_ptr(), t.dtype)].append(t)

    def logical_shape(ts, numel):
        t0 = ts[0]
        same = all(t.storage_offset() == 0 and t.shape == t0.shape and t.stride() == t0.stride() for t in ts)
        if same and t0.is_contiguous() and t0.numel() == numel:
            return list(t0.shape)
        return [numel]

    for path, t in uses:
        ident = (t.storage().data_ptr(), t.dtype)
        if ident in first:
            if first[ident] is not None:
                aliases[path] = first[ident]
            continue
        numel = t.storage().size()
        if numel == 0:
            first[ident] = None
            continue
        first[ident] = path
        d = DTYPE_NAMES[t.dtype]
        regions.append({"key": path, "dtype": d, "shape": logical_shape(views[ident], numel), "role": role(path, d, numel),
                        "sha256": hashlib.sha256(storage_bytes(t)).hexdigest()})
    return {"format": "TORCH_LEGACY" if legacy else "TORCH_ZIP", "regions": regions, "aliases": aliases,
            "order": [p for p, _ in uses]}


def expect_safetensors(name, tensors):
    regions = []
    for k in sorted(tensors):
        t = tensors[k]
        d = ST_DTYPES[t.dtype]
        regions.append({"key": k, "dtype": d, "shape": list(t.shape), "role": role(k, d, t.numel()),
                        "sha256": hashlib.sha256(tensor_bytes(t)).hexdigest()})
    return {"format": "SAFETENSORS", "regions": regions, "aliases": {}, "order": sorted(tensors)}


def expect_numpy(name):
    path = os.path.join(OUT, name)
    members = {"array": np.load(path)} if name.endswith(".npy") else dict(np.load(path))
    regions = []
    for k, a in members.items():
        d = NP_NAMES[a.dtype.str]
        raw = a.tobytes(order="F" if (a.flags.f_contiguous and not a.flags.c_contiguous) else "C")
        regions.append({"key": k, "dtype": d, "shape": list(a.shape), "role": role(k, d, a.size),
                        "sha256": hashlib.sha256(raw).hexdigest()})
    return {"format": "NPY" if name.endswith(".npy") else "NPZ", "regions": regions, "aliases": {},
            "order": list(members)}


def make_expectations(st_tensors):
    exp = {"model.safetensors": expect_safetensors("model.safetensors", st_tensors)}
    for n in ("state_dict.pt", "nanogpt_ckpt.pt", "optimizer.pt", "lightning.ckpt", "views_dtypes.pt",
              "protocol4.pt", "protocol5.pt", "torch2_style.pt", "subclass.pt", "single_tensor.pt"):
        exp[n] = expect_torch(n)
    exp["legacy.pt"] = expect_torch("legacy.pt", legacy=True)
    exp["legacy_p4.pt"] = expect_torch("legacy_p4.pt", legacy=True)
    v3 = json.loads(json.dumps(exp["views_dtypes.pt"]))  # same tensors, re-pickled with _rebuild_tensor_v3
    exp["rebuild_v3.pt"] = v3
    for n in ("array.npy", "fortran_v2.npy", "v3.npy", "arrays.npz"):
        exp[n] = expect_numpy(n)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(exp, f, indent=1, sort_keys=True)


# ---------------------------------------------------------------------------------------------- bad input

def zput(z, name, data, method=zipfile.ZIP_STORED):
    """Adds an entry with a fixed timestamp so that regenerated files only differ where content does."""
    info = zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0))
    info.compress_type = method
    z.writestr(info, data)


def flip(data, pos, bit=0x10):
    b = bytearray(data)
    b[pos] ^= bit
    return bytes(b)


def make_badinput():
    st = open(os.path.join(OUT, "model.safetensors"), "rb").read()
    pt = open(os.path.join(OUT, "state_dict.pt"), "rb").read()
    npz = open(os.path.join(OUT, "arrays.npz"), "rb").read()
    legacy = open(os.path.join(OUT, "legacy.pt"), "rb").read()
    bad = {}
    bad["empty.bin"] = b""
    bad["garbage.bin"] = bytes((i * 131 + 7) % 251 for i in range(3000))
    bad["st_truncated.safetensors"] = st[: len(st) - 100]
    bad["st_truncated_header.safetensors"] = st[:40]
    bad["st_bitflip_header.safetensors"] = flip(st, 20)
    bad["st_bitflip_length.safetensors"] = flip(st, 6, 0x01)
    bad["st_huge_header_len.safetensors"] = struct.pack("<Q", 1 << 62) + st[8:]

    def st_header(h, data=b"\0" * 64):
        j = json.dumps(h).encode()
        return struct.pack("<Q", len(j)) + j + data

    bad["st_negative_offset.safetensors"] = st_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [-8, 0]}})
    bad["st_overlap.safetensors"] = st_header({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
                                               "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}})
    bad["st_reversed.safetensors"] = st_header({"a": {"dtype": "F32", "shape": [2], "data_offsets": [16, 8]}})
    bad["st_past_end.safetensors"] = st_header({"a": {"dtype": "F32", "shape": [64], "data_offsets": [0, 256]}})
    bad["st_huge_shape.safetensors"] = st_header({"a": {"dtype": "F32", "shape": [1 << 40, 1 << 40],
                                                        "data_offsets": [0, 16]}})
    bad["st_numel_mismatch.safetensors"] = st_header({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 16]}})
    bad["st_not_object.safetensors"] = st_header([1, 2, 3])
    deep_json = b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}"
    bad["st_deep_json.safetensors"] = struct.pack("<Q", len(deep_json)) + deep_json
    bad["st_duplicate_key.safetensors"] = (lambda j: struct.pack("<Q", len(j)) + j + b"\0" * 8)(
        b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
        b'"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}')
    bad["st_path_name.safetensors"] = st_header(
        {"../../etc/passwd": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 16)
    bad["st_bad_metadata.safetensors"] = st_header({"__metadata__": {"k": [1, 2]}})

    bad["pt_truncated.pt"] = pt[: len(pt) // 2]
    bad["pt_truncated_tail.pt"] = pt[:-10]
    bad["pt_bitflip_pickle.pt"] = flip(pt, pt.index(b"data.pkl") + 60, 0xff)
    cd = pt.rindex(b"PK\x01\x02")
    bad["pt_bitflip_central.pt"] = flip(pt, cd + 20, 0x40)
    z64 = pt.rindex(b"PK\x06\x06")
    bad["pt_bitflip_eocd.pt"] = flip(pt, z64 + 40, 0x08)  # zip64 end record: central directory size
    info = zipfile.ZipFile(io.BytesIO(pt)).getinfo("state_dict/data/0")
    name_len, extra_len = struct.unpack("<HH", pt[info.header_offset + 26:info.header_offset + 30])
    bad["pt_payload_bitflip.pt"] = flip(pt, info.header_offset + 30 + name_len + extra_len + 5)
    bad["legacy_truncated.pt"] = legacy[: len(legacy) - 30]
    bad["npz_truncated.npz"] = npz[: len(npz) - 200]

    def torch_zip(pickle_bytes, extra=None):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
            zput(z, "archive/data.pkl", pickle_bytes)
            zput(z, "archive/version", "3\n")
            for name, data in (extra or {}).items():
                zput(z, name, data)
        return buf.getvalue()

    bad["pt_deep_pickle.pt"] = torch_zip(b"\x80\x02" + b"(" * 30000 + b"]" * 30000 + b"t" * 30000 + b".")
    bad["pt_deep_lists.pt"] = torch_zip(b"\x80\x02" + b"]" * 20000 + b"a" * 19999 + b".")
    bad["pt_huge_memo.pt"] = torch_zip(b"\x80\x02]r\xff\xff\xff\x7fh\x05.")
    bad["pt_memo_get_missing.pt"] = torch_zip(b"\x80\x02j\xff\xff\xff\x7f.")
    bad["pt_huge_string.pt"] = torch_zip(b"\x80\x02X\xff\xff\xff\x7fabc.")
    bad["pt_huge_long4.pt"] = torch_zip(b"\x80\x02\x8b\xff\xff\xff\x7f\x00.")
    bad["pt_exec_global.pt"] = torch_zip(b"\x80\x02cos\nsystem\nX\x06\x00\x00\x00echo 1\x85R.")
    # storage claims a huge element count; its data entry holds 16 bytes
    bad["pt_huge_numel.pt"] = torch_zip(
        b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storageq\x00ctorch\nFloatStorage\n"
        b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpu\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40tQK\x00K\x04\x85K\x01\x85"
        b"\x89ctorch\nOrderedDict\n)Rtq\x01R.", {"archive/data/0": b"\0" * 16})
    # exponential sharing: each list holds the previous one twice (2^40 paths if walked naively)
    dag = b"\x80\x02]q\x000"
    for i in range(1, 41):
        dag += b"h" + bytes([i - 1]) + b"h" + bytes([i - 1]) + b"\x86q" + bytes([i]) + b"0"
    bad["pt_exponential_dag.pt"] = torch_zip(dag + b"h\x28.")
    bad["pt_self_reference.pt"] = torch_zip(b"\x80\x02]q\x00h\x00a.")
    bad["pt_unknown_opcode.pt"] = torch_zip(b"\x80\x02\xfe.")
    bad["pt_no_stop.pt"] = torch_zip(b"\x80\x02]")
    bad["pt_stack_underflow.pt"] = torch_zip(b"\x80\x02a.")
    bad["pt_path_keys.pt"] = torch_zip(
        b"\x80\x02}X\x10\x00\x00\x00../../etc/passwdctorch._utils\n_rebuild_tensor_v2\n"
        b"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04"
        b"\x85K\x01\x85\x89}tRs.", {"archive/data/0": b"\0" * 16})
    tensor_pickle = (b"\x80\x02}X\x01\x00\x00\x00wctorch._utils\n_rebuild_tensor_v2\n"
                     b"((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x04tQK\x00K\x04"
                     b"\x85K\x01\x85\x89}tRs.")
    # a storage whose data entry is deflated stays skeleton
    dz = io.BytesIO()
    with zipfile.ZipFile(dz, "w", zipfile.ZIP_STORED) as z:
        zput(z, "archive/data.pkl", tensor_pickle)
        zput(z, "archive/data/0", b"\0" * 16, zipfile.ZIP_DEFLATED)
    bad["pt_deflated_data.pt"] = dz.getvalue()
    # zip bomb: a deflated data entry claiming 4 GB uncompressed in the central directory
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_STORED) as z:
        zput(z, "archive/data.pkl", tensor_pickle)
        zput(z, "archive/data/0", b"\0" * 200000, zipfile.ZIP_DEFLATED)
    zb = bytearray(bomb.getvalue())
    cdp = zb.rindex(b"PK\x01\x02")
    zb[cdp + 24:cdp + 28] = struct.pack("<I", 0xfffffff0)
    bad["pt_zip_bomb_sizes.pt"] = bytes(zb)
    # same tensor, but the stored data entry is shorter than the storage
    bad["pt_short_storage.pt"] = torch_zip(tensor_pickle, {"archive/data/0": b"\0" * 12})
    bad["pt_missing_storage.pt"] = torch_zip(tensor_pickle)
    cp = io.BytesIO()
    with zipfile.ZipFile(cp, "w", zipfile.ZIP_STORED) as z:
        zput(z, "archive/data.pkl", tensor_pickle, zipfile.ZIP_DEFLATED)
        zput(z, "archive/data/0", b"\0" * 16)
    bad["pt_compressed_pickle.pt"] = cp.getvalue()
    # entry count claims 65535 entries in a tiny central directory
    eo = bytearray(pt)
    e = eo.rindex(b"PK\x06\x06")
    eo[e + 32:e + 40] = struct.pack("<Q", 1 << 40)
    bad["pt_huge_entry_count.pt"] = bytes(eo)

    npy = open(os.path.join(OUT, "array.npy"), "rb").read()
    def npy_with_header(text):
        h = text.encode("latin1")
        h += b" " * ((64 - (10 + len(h) + 1) % 64) % 64) + b"\n"
        return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h + npy[128:]

    bad["npy_huge_shape.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }")
    bad["npy_negative_shape.npy"] = npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (-4, -5), }")
    bad["npy_structured.npy"] = npy_with_header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (20,), }")
    bad["npy_bad_header.npy"] = npy[:10] + b"{'descr': <f4}" + npy[24:]
    bad["npy_truncated.npy"] = npy[:-7]
    bad["npy_header_len_past_end.npy"] = npy[:8] + b"\xff\xff" + npy[10:]

    os.makedirs(BAD, exist_ok=True)
    for name, data in bad.items():
        write(os.path.join(BAD, name), data)


def main():
    os.makedirs(OUT, exist_ok=True)
    st = make_safetensors()
    make_torch()
    make_numpy()
    make_pickles()
    make_expectations(st)
    make_badinput()
    for d in (OUT, BAD):
        for n in sorted(os.listdir(d)):
            s = os.path.getsize(os.path.join(d, n))
            assert s < 100_000, (n, s)
    print("fixtures written")


if __name__ == "__main__":
    sys.exit(main())
