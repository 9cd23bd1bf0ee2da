"""The safetensors file format, written and read without the safetensors package.

Layout: 8-byte little-endian header length N, N bytes of JSON header (padded with spaces to a multiple of 8),
then the raw little-endian tensor data. The header maps each tensor name to dtype, shape and
data_offsets [begin, end) relative to the data start, plus "__metadata__" (string to string).
Like the Rust implementation, tensors are laid out sorted by dtype alignment (descending) then name.
"""
import json
import struct

import numpy as np
import torch

_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL",
}
_TORCH = {v: k for k, v in _DTYPES.items()}
_SIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}
MAX_HEADER = 100 << 20


def _bytes(t):
    t = t.detach().contiguous().cpu()
    if t.dtype == torch.bfloat16:
        return t.view(torch.int16).numpy().tobytes()
    return t.numpy().tobytes()


def save_file(tensors, path, metadata=None):
    names = sorted(tensors, key=lambda n: (-_SIZE[_DTYPES[tensors[n].dtype]], n))
    header = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset, blobs = 0, []
    for n in names:
        t = tensors[n]
        b = _bytes(t)
        header[n] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_file(path):
    """All tensors of a safetensors file by name; raises ValueError naming the problem on a malformed file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER or 8 + n > len(data):
        raise ValueError(f"{path}: header length {n} exceeds file size {len(data)}")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        dtype = info["dtype"]
        shape = info["shape"]
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(body)) or end - begin != count * _SIZE[dtype]:
            raise ValueError(f"{path}: tensor {name} has data_offsets {begin}..{end} inconsistent with {dtype}{shape}")
        raw = bytes(body[begin:end])
        if dtype == "BF16":
            t = torch.frombuffer(bytearray(raw), dtype=torch.int16).view(torch.bfloat16) if raw else torch.empty(0, dtype=torch.bfloat16)
        else:
            t = torch.frombuffer(bytearray(raw), dtype=_TORCH[dtype]) if raw else torch.empty(0, dtype=_TORCH[dtype])
        out[name] = t.reshape(shape)
    return out
