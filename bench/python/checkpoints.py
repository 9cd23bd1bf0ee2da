"""Checkpoints of a tiny-GPT run in each trainer layout: find them in step order, read parameters and their Adam
moments by parameter name, write them back in the same layout (same files, same loading code).

Parameter names follow the model's named_parameters() order, which is the optimizer's index order (group 0 =
decay, group 1 = no decay); the tied lm_head.weight is transformer.wte.weight.
"""
import json
import os
import re
import shutil

import torch

import safetensors_io
import tinygpt


def _step(path):
    nums = re.findall(r"(?:checkpoint-|step[-=])(\d+)", path)
    if not nums:
        raise ValueError(f"no step number in {path}")
    return int(nums[-1])


def find(layout, run):
    """Checkpoint units of a run directory in step order: directories for hf, files otherwise (paths relative)."""
    found = []
    for root, dirs, files in os.walk(run):
        rel = os.path.relpath(root, run)
        if layout == "hf":
            found += [os.path.normpath(os.path.join(rel, d)) for d in dirs if re.fullmatch(r"checkpoint-\d+", d)]
        elif layout == "nanogpt":
            if re.fullmatch(r"step-\d+", os.path.basename(root)) and "ckpt.pt" in files:
                found.append(os.path.normpath(os.path.join(rel, "ckpt.pt")))
        else:
            found += [os.path.normpath(os.path.join(rel, f)) for f in files if f.endswith(".ckpt")]
    if not found:
        raise SystemExit(f"no {layout} checkpoints under {run}" +
                         (" (nanogpt needs a run trained with --keep-steps)" if layout == "nanogpt" else ""))
    return sorted(found, key=_step)


def unit_files(run, unit):
    p = os.path.join(run, unit)
    if os.path.isdir(p):
        return [os.path.join(p, f) for f in sorted(os.listdir(p))]
    return [p]


class Checkpoint:
    """One checkpoint loaded in memory. params()/moments() by parameter name; set_*() then save(dest)."""

    def __init__(self, layout, path):
        self.layout, self.path = layout, path
        if layout == "hf":
            with open(os.path.join(path, "config.json")) as f:
                config = json.load(f)
            self.weights = safetensors_io.load_file(os.path.join(path, "model.safetensors"))
            self.opt = torch.load(os.path.join(path, "optimizer.pt"))
            self.prefix = ""
        else:
            self.ckpt = torch.load(path, map_location="cpu")
            if layout == "nanogpt":
                config, self.weights, self.opt, self.prefix = (
                    self.ckpt["model_args"], self.ckpt["model"], self.ckpt["optimizer"], "")
            else:
                config, self.weights, self.opt, self.prefix = (
                    self.ckpt["hyper_parameters"], self.ckpt["state_dict"], self.ckpt["optimizer_states"][0],
                    "model.")
        margs = {k: config[k] for k in ("n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout")}
        decay, no_decay = tinygpt.param_group_names(tinygpt.GPT(margs))
        names = decay + no_decay
        indices = [i for g in self.opt["param_groups"] for i in g["params"]]
        if len(indices) != len(names):
            raise ValueError(f"{path}: optimizer has {len(indices)} parameters, model {len(names)}")
        self.index = dict(zip(names, indices))

    def names(self):
        return list(self.index)

    def param(self, name):
        return self.weights[self.prefix + name]

    def moments(self, name):
        s = self.opt["state"].get(self.index[name])
        if s is None or "exp_avg" not in s:
            return None
        return s["exp_avg"], s["exp_avg_sq"]

    def set_param(self, name, value):
        key = self.prefix + name
        value = value.to(self.weights[key].dtype).contiguous()
        self.weights[key] = value
        if name == "transformer.wte.weight" and self.prefix + "lm_head.weight" in self.weights:
            self.weights[self.prefix + "lm_head.weight"] = value

    def set_moments(self, name, exp_avg, exp_avg_sq):
        s = self.opt["state"][self.index[name]]
        s["exp_avg"] = exp_avg.to(s["exp_avg"].dtype).contiguous()
        s["exp_avg_sq"] = exp_avg_sq.to(s["exp_avg_sq"].dtype).contiguous()

    def save(self, dest):
        """Write this checkpoint to dest in its layout; other files of an hf directory are copied unchanged."""
        if self.layout == "hf":
            os.makedirs(dest, exist_ok=True)
            for f in sorted(os.listdir(self.path)):
                if f not in ("model.safetensors", "optimizer.pt"):
                    shutil.copyfile(os.path.join(self.path, f), os.path.join(dest, f))
            safetensors_io.save_file(self.weights, os.path.join(dest, "model.safetensors"), metadata={"format": "pt"})
            torch.save(self.opt, os.path.join(dest, "optimizer.pt"))
        else:
            os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
            torch.save(self.ckpt, dest)
