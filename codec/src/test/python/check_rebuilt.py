#!/usr/bin/python3
"""Loads a rebuilt checkpoint the way a trainer would and prints what it holds, for RebuiltFileLoadsTest.

usage: check_rebuilt.py FILE
prints JSON {"testzip": <first bad member or null>, "tensors": {key path: sha256 of the tensor's whole storage}}
"""
import hashlib
import json
import struct
import sys
import zipfile

import numpy as np
import torch


def storage_sha(t):
    raw = torch.empty(0, dtype=t.dtype).set_(t.storage()).contiguous()
    if raw.dtype == torch.bfloat16:
        raw = raw.view(torch.int16)
    return hashlib.sha256(raw.numpy().tobytes()).hexdigest()


def walk(obj, path, out):
    if isinstance(obj, torch.Tensor):
        out[path or "tensor"] = storage_sha(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            walk(v, (path + "/" if path else "") + str(k), out)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            walk(v, (path + "/" if path else "") + str(i), out)


def array_sha(a):
    order = "F" if (a.flags.f_contiguous and not a.flags.c_contiguous) else "C"
    return hashlib.sha256(a.tobytes(order=order)).hexdigest()


def main(path):
    result = {"testzip": None, "tensors": {}}
    head = open(path, "rb").read(8)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            result["testzip"] = z.testzip()
    if head.startswith(b"\x93NUMPY"):
        result["tensors"]["array"] = array_sha(np.load(path))
    elif path.endswith(".npz"):
        with np.load(path) as z:
            for k in z.files:
                result["tensors"][k] = array_sha(z[k])
    elif path.endswith(".safetensors"):
        data = open(path, "rb").read()
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + n])
        for k, v in header.items():
            if k != "__metadata__":
                b, e = v["data_offsets"]
                result["tensors"][k] = hashlib.sha256(data[8 + n + b:8 + n + e]).hexdigest()
    else:
        walk(torch.load(path), "", result["tensors"])
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1])
