"""Exit 0 when two copies of a checkpoint hold exactly the same parameters and Adam moments (by parameter name),
else 1 naming the first difference. Other content (paths in training_args.bin or Lightning callbacks, Python's
unseeded random state in rng_state.pth) may differ between two identical runs and is not compared.

  same_tensors.py --layout hf|nanogpt|lightning A B
"""
import argparse
import sys

import torch

import checkpoints


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layout", choices=["hf", "nanogpt", "lightning"], required=True)
    p.add_argument("a")
    p.add_argument("b")
    args = p.parse_args(argv)
    a, b = checkpoints.Checkpoint(args.layout, args.a), checkpoints.Checkpoint(args.layout, args.b)
    if a.names() != b.names():
        sys.exit(f"parameter names differ: {a.names()} vs {b.names()}")
    for name in a.names():
        if not torch.equal(a.param(name), b.param(name)):
            sys.exit(f"{name} differs")
        ma, mb = a.moments(name), b.moments(name)
        if (ma is None) != (mb is None) or (ma is not None and not all(torch.equal(x, y) for x, y in zip(ma, mb))):
            sys.exit(f"Adam moments of {name} differ")
    return 0


if __name__ == "__main__":
    sys.exit(main())
