"""Train the tiny GPT and write checkpoints exactly the way a real tool lays them out.

  --layout hf         HF Trainer: checkpoint-<step>/{model.safetensors, optimizer.pt, scheduler.pt, rng_state.pth,
                      trainer_state.json, training_args.bin, config.json}; --save-total-limit rotates with rmtree.
  --layout nanogpt    nanoGPT: ckpt.pt overwritten in place at every save (--keep-steps: also step-<n>/ckpt.pt).
  --layout lightning  Lightning ModelCheckpoint: checkpoints/epoch=<e>-step=<s>.ckpt.

Losses of every step go to --losses FILE (JSON) when given, outside the run directory.
"""
import argparse
import json
import os
import random
import re
import shutil
import types

import numpy as np
import torch

import safetensors_io
import tinygpt

LIGHTNING_VERSION = "2.1.3"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layout", choices=["hf", "nanogpt", "lightning"], required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--every", type=int, required=True)
    p.add_argument("--preset", default="tiny", choices=sorted(tinygpt.PRESETS))
    p.add_argument("--n-layer", type=int)
    p.add_argument("--n-head", type=int)
    p.add_argument("--n-embd", type=int)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--total-steps", type=int, help="length of the cosine schedule (default: --steps)")
    p.add_argument("--seed", type=int, default=1337, help="data and init seed")
    p.add_argument("--keep-steps", action="store_true", help="nanogpt: also copy ckpt.pt to step-<n>/ckpt.pt")
    p.add_argument("--save-total-limit", type=int, help="hf: keep only the newest N checkpoint-* directories")
    p.add_argument("--steps-per-epoch", type=int, default=50, help="lightning: epoch length in steps")
    p.add_argument("--losses", help="write the per-step losses as JSON here")
    return p.parse_args(argv)


class Run:
    """Everything a resumed run must rebuild: model, optimizer, schedule and the data seed."""

    def __init__(self, margs, lr, warmup, total, seed, batch_size):
        self.margs = margs
        self.lr, self.warmup, self.total, self.seed, self.batch_size = lr, warmup, total, seed, batch_size
        torch.manual_seed(seed)
        self.model = tinygpt.GPT(margs)
        self.optimizer = tinygpt.make_optimizer(self.model, lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: tinygpt.lr_factor(s, warmup, total))
        self.step = 0

    def train_step(self):
        self.step += 1
        x, y = tinygpt.batch(self.seed, self.step, self.batch_size, self.margs["block_size"])
        loss = self.model(x, y)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        self.scheduler.step()
        return float(loss.item())

    def hparams(self):
        return dict(self.margs, lr=self.lr, warmup=self.warmup, total_steps=self.total, seed=self.seed,
                    batch_size=self.batch_size)


def save_hf(run, out, losses, args):
    d = os.path.join(out, f"checkpoint-{run.step}")
    os.makedirs(d, exist_ok=True)
    sd = run.model.state_dict()
    # transformers drops the tied lm_head.weight (it shares storage with transformer.wte.weight) and saves the rest.
    tensors = {k: v for k, v in sd.items() if k != "lm_head.weight"}
    safetensors_io.save_file(tensors, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(dict(run.margs, model_type="tinygpt", architectures=["GPT"], torch_dtype="float32",
                       tie_word_embeddings=True), f, indent=2, sort_keys=True)
        f.write("\n")
    torch.save(run.optimizer.state_dict(), os.path.join(d, "optimizer.pt"))
    torch.save(run.scheduler.state_dict(), os.path.join(d, "scheduler.pt"))
    torch.save({"python": random.getstate(), "numpy": np.random.get_state(), "cpu": torch.random.get_rng_state()},
               os.path.join(d, "rng_state.pth"))
    log = [{"epoch": round(i / args.steps_per_epoch, 4), "learning_rate": None, "loss": round(l, 4), "step": i}
           for i, l in enumerate(losses, 1) if i % 10 == 0]
    state = {
        "best_metric": None, "best_model_checkpoint": None, "epoch": run.step / args.steps_per_epoch,
        "eval_steps": 500, "global_step": run.step, "is_hyper_param_search": False, "is_local_process_zero": True,
        "is_world_process_zero": True, "log_history": log, "logging_steps": 10, "max_steps": args.steps,
        "num_input_tokens_seen": 0, "num_train_epochs": 1, "save_steps": args.every, "stateful_callbacks": {},
        "total_flos": 0.0, "train_batch_size": run.batch_size, "trial_name": None, "trial_params": None,
    }
    with open(os.path.join(d, "trainer_state.json"), "w") as f:
        json.dump(state, f, indent=2, sort_keys=True)
        f.write("\n")
    training_args = types.SimpleNamespace(output_dir=out, learning_rate=run.lr, warmup_steps=run.warmup,
                                          per_device_train_batch_size=run.batch_size,
                                          max_steps=run.total, save_steps=args.every, seed=run.seed,
                                          weight_decay=0.1, adam_beta1=0.9, adam_beta2=0.95,
                                          save_total_limit=args.save_total_limit)
    torch.save(training_args, os.path.join(d, "training_args.bin"))
    if args.save_total_limit:
        found = sorted((int(m.group(1)), n) for n in os.listdir(out)
                       for m in [re.fullmatch(r"checkpoint-(\d+)", n)] if m)
        for _, n in found[:-args.save_total_limit]:
            shutil.rmtree(os.path.join(out, n))


def nanogpt_checkpoint(run, args, best_val_loss):
    return {
        "model": run.model.state_dict(),
        "optimizer": run.optimizer.state_dict(),
        "model_args": dict(run.margs),
        "iter_num": run.step,
        "best_val_loss": best_val_loss,
        "config": dict(vars(args), **run.hparams()),
    }


def save_nanogpt(run, out, losses, args):
    best = torch.tensor(min(losses))
    path = os.path.join(out, "ckpt.pt")
    torch.save(nanogpt_checkpoint(run, args, best), path)
    if args.keep_steps:
        d = os.path.join(out, f"step-{run.step}")
        os.makedirs(d, exist_ok=True)
        shutil.copyfile(path, os.path.join(d, "ckpt.pt"))


def save_lightning(run, out, losses, args):
    d = os.path.join(out, "checkpoints")
    os.makedirs(d, exist_ok=True)
    epoch = (run.step - 1) // args.steps_per_epoch
    batches_in_epoch = run.step - epoch * args.steps_per_epoch
    progress = {"total": {"ready": run.step, "completed": run.step},
                "current": {"ready": batches_in_epoch, "completed": batches_in_epoch}}
    ckpt = {
        "epoch": epoch,
        "global_step": run.step,
        "pytorch-lightning_version": LIGHTNING_VERSION,
        "state_dict": {"model." + k: v for k, v in run.model.state_dict().items()},
        "loops": {"fit_loop": {"state_dict": {}, "epoch_loop.state_dict": {"_batches_that_stepped": run.step},
                               "epoch_loop.batch_progress": progress,
                               "epoch_loop.automatic_optimization.optim_progress": {
                                   "optimizer": {"step": {"total": {"ready": run.step, "completed": run.step}}}},
                               "epoch_progress": {"total": {"ready": epoch + 1, "completed": epoch},
                                                  "current": {"ready": epoch + 1, "completed": epoch}}}},
        "callbacks": {"ModelCheckpoint{'monitor': None, 'mode': 'min', 'every_n_train_steps': %d, "
                      "'every_n_epochs': 0, 'train_time_interval': None}" % args.every: {
                          "monitor": None, "best_model_score": None, "best_model_path": "",
                          "current_score": None, "dirpath": os.path.abspath(d), "best_k_models": {},
                          "kth_best_model_path": "", "kth_value": torch.tensor(float("inf")), "last_model_path": ""}},
        "optimizer_states": [run.optimizer.state_dict()],
        "lr_schedulers": [run.scheduler.state_dict()],
        "hparams_name": "kwargs",
        "hyper_parameters": run.hparams(),
    }
    torch.save(ckpt, os.path.join(d, f"epoch={epoch}-step={run.step}.ckpt"))


SAVERS = {"hf": save_hf, "nanogpt": save_nanogpt, "lightning": save_lightning}


def main(argv=None):
    args = parse_args(argv)
    tinygpt.setup_torch()
    preset = tinygpt.PRESETS[args.preset]
    margs = tinygpt.model_args(args.preset, args.n_layer, args.n_head, args.n_embd)
    run = Run(margs, args.lr, args.warmup, args.total_steps or args.steps, args.seed, preset["batch_size"])
    os.makedirs(args.out, exist_ok=True)
    save = SAVERS[args.layout]
    losses = []
    for _ in range(args.steps):
        losses.append(run.train_step())
        if run.step % args.every == 0:
            save(run, args.out, losses, args)
    if args.losses:
        with open(args.losses, "w") as f:
            json.dump({"start_step": 0, "params": run.model.num_params(), "losses": losses}, f)
    print(json.dumps({"layout": args.layout, "params": run.model.num_params(), "steps": args.steps,
                      "first_loss": losses[0], "last_loss": losses[-1]}))


if __name__ == "__main__":
    main()
