"""Resume a tiny-GPT run from a checkpoint with the layout's own loading code and print the next losses as JSON.

  --layout hf         --ckpt checkpoint-<step>/   (model.safetensors by our reader, optimizer.pt, scheduler.pt,
                                                  rng_state.pth, trainer_state.json, training_args.bin, config.json)
  --layout nanogpt    --ckpt .../ckpt.pt
  --layout lightning  --ckpt .../epoch=<e>-step=<s>.ckpt

The continued run uses the same deterministic batches as the original run (batch of step t depends only on the
data seed and t), so two resumes of the same step from different copies of a checkpoint are directly comparable.
"""
import argparse
import json
import os
import random
import sys

import numpy as np
import torch

import safetensors_io
import tinygpt
from train import Run


def load_hf(path):
    with open(os.path.join(path, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(path, "trainer_state.json")) as f:
        state = json.load(f)
    targs = torch.load(os.path.join(path, "training_args.bin"))
    margs = {k: config[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout")}
    run = Run(margs, targs.learning_rate, targs.warmup_steps, targs.max_steps, targs.seed,
              targs.per_device_train_batch_size)
    weights = safetensors_io.load_file(os.path.join(path, "model.safetensors"))
    result = run.model.load_state_dict(weights, strict=False)
    if result.unexpected_keys or set(result.missing_keys) - {"lm_head.weight"}:
        raise SystemExit(f"{path}: model.safetensors does not match the model: {result}")
    run.optimizer.load_state_dict(torch.load(os.path.join(path, "optimizer.pt")))
    run.scheduler.load_state_dict(torch.load(os.path.join(path, "scheduler.pt")))
    rng = torch.load(os.path.join(path, "rng_state.pth"))
    random.setstate(rng["python"])
    np.random.set_state(rng["numpy"])
    torch.random.set_rng_state(rng["cpu"])
    run.step = state["global_step"]
    return run


def load_nanogpt(path):
    ckpt = torch.load(path, map_location="cpu")
    cfg = ckpt["config"]
    run = Run(ckpt["model_args"], cfg["lr"], cfg["warmup"], cfg["total_steps"], cfg["seed"], cfg["batch_size"])
    state_dict = ckpt["model"]
    unwanted_prefix = "_orig_mod."
    for k in list(state_dict):
        if k.startswith(unwanted_prefix):
            state_dict[k[len(unwanted_prefix):]] = state_dict.pop(k)
    run.model.load_state_dict(state_dict)
    run.optimizer.load_state_dict(ckpt["optimizer"])
    run.step = ckpt["iter_num"]
    # nanoGPT recomputes the learning rate from iter_num; the restored param_groups already hold it, and the
    # LambdaLR continues the same schedule from here.
    run.scheduler.last_epoch = run.step
    return run


def load_lightning(path):
    ckpt = torch.load(path, map_location="cpu")
    hp = ckpt["hyper_parameters"]
    margs = {k: hp[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout")}
    run = Run(margs, hp["lr"], hp["warmup"], hp["total_steps"], hp["seed"], hp["batch_size"])
    prefix = "model."
    run.model.load_state_dict({k[len(prefix):]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)})
    run.optimizer.load_state_dict(ckpt["optimizer_states"][0])
    run.scheduler.load_state_dict(ckpt["lr_schedulers"][0])
    run.step = ckpt["global_step"]
    return run


LOADERS = {"hf": load_hf, "nanogpt": load_nanogpt, "lightning": load_lightning}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layout", choices=sorted(LOADERS), required=True)
    p.add_argument("--ckpt", required=True)
    p.add_argument("--steps", type=int, required=True, help="optimizer steps to run after the checkpoint")
    p.add_argument("--out", help="write the JSON here instead of stdout")
    args = p.parse_args(argv)
    tinygpt.setup_torch()
    run = LOADERS[args.layout](args.ckpt)
    start = run.step
    losses = [run.train_step() for _ in range(args.steps)]
    text = json.dumps({"ckpt": args.ckpt, "start_step": start, "losses": losses})
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    else:
        sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
