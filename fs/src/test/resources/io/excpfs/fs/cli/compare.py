"""Loads two checkpoints with torch.load and checks they have the same structure, shapes, dtypes and non-float
values; prints the largest relative L2 error of float tensors. Exit 1 on any structural difference."""
import sys

import torch


def flat(o, p=""):
    if isinstance(o, dict):
        for k, v in o.items():
            yield from flat(v, p + "/" + str(k))
    elif isinstance(o, (list, tuple)):
        for i, v in enumerate(o):
            yield from flat(v, p + "/" + str(i))
    else:
        yield p, o


a = dict(flat(torch.load(sys.argv[1], map_location="cpu")))
b = dict(flat(torch.load(sys.argv[2], map_location="cpu")))
if a.keys() != b.keys():
    sys.exit("keys differ: %s" % sorted(a.keys() ^ b.keys()))
worst = 0.0
for k in a:
    x, y = a[k], b[k]
    if torch.is_tensor(x):
        if x.shape != y.shape or x.dtype != y.dtype:
            sys.exit("%s: shape or dtype differs" % k)
        if x.is_floating_point() and x.numel() > 1:
            worst = max(worst, ((x - y).float().norm() / (x.float().norm() + 1e-12)).item())
        elif not torch.equal(x, y):
            sys.exit("%s: values differ" % k)
    elif x != y:
        sys.exit("%s: %r != %r" % (k, x, y))
print("max_rel_err=%.6g" % worst)
