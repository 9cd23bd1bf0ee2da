"""Collect the real-trainer benchmark rows (one JSON per method, written by results.py) into markdown tables:
the side-by-side table and the rate-quality table. Optionally write the curve's points as JSON (for
io.excpfs.bench.RateQualityChart) and replace the "## Real trainer" section of BENCHMARKS.md."""
import argparse
import glob
import json
import os
import re

import machine

HEADING = "## Real trainer"
LOSSY = ("ExCP reference", "excpfs default", "excpfs published rule", "excpfs budget rule", "excpfs mount")


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def fmt_gap(x):
    return "—" if x is None else f"{100 * x:.3f}%"


def fmt_num(x, spec):
    return "—" if x is None else format(x, spec)


def side_by_side(results):
    rows = ["| method | stored bytes | residual ratio | total ratio | bits / param | encode MB/s per core | "
            "decode MB/s per core | resume gap | notes |",
            "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['method']} | {fmt_num(r.get('stored_bytes'), ',')} | {fmt_ratio(r.get('residual_ratio'))} | "
                    f"{fmt_ratio(r.get('ratio'))} | {fmt_num(r.get('bits_per_param'), '.2f')} | "
                    f"{fmt_num(r.get('encode_mbps'), '.1f')} | {fmt_num(r.get('decode_mbps'), '.1f')} | "
                    f"{fmt_gap(r.get('gap'))} | {r.get('notes', '')} |")
    return "\n".join(rows)


def curve_points(results):
    return [{"family": r["family"], "setting": r["setting"], "residual_ratio": r["residual_ratio"],
             "bits_per_param": r["bits_per_param"], "gap": r["gap"], "line": r["family"] != "excpfs mount"}
            for r in results if r.get("family") in LOSSY and r.get("gap") is not None and r.get("residual_ratio")]


def rate_quality(points):
    rows = ["| series | setting | residual ratio | bits / param | resume gap |", "|---|---|---|---|---|"]
    for p in sorted(points, key=lambda p: (LOSSY.index(p["family"]), p["residual_ratio"])):
        rows.append(f"| {p['family']} | {p['setting']} | {fmt_ratio(p['residual_ratio'])} | "
                    f"{fmt_num(p['bits_per_param'], '.2f')} | {fmt_gap(p['gap'])} |")
    return "\n".join(rows)


def section(ctx, results, png):
    points = curve_points(results)
    out = [HEADING, ""]
    if ctx:
        out += [
            f"Run: layout `{ctx['layout']}`, preset `{ctx['preset']}` ({ctx['params']:,} parameters), "
            f"{ctx['steps']} steps, a checkpoint every {ctx['every']} steps ({ctx['checkpoints']} checkpoints, "
            f"{ctx['raw_bytes']:,} bytes), AdamW with two param groups, CPU, torch 1.13, {ctx['date']}. "
            f"Machine: {machine.describe()} at the end; {ctx.get('load_start', '?')} at the start.",
            "",
            "Command:",
            "",
            "```",
            ctx["command"],
            "```",
            "",
            "*Stored bytes*: the whole run. *Residual ratio*: raw ÷ stored over every checkpoint but the first (the "
            "ones a delta method can use); *total ratio*: over the whole run. *Bits / param*: residual stored bits ÷ "
            "(parameters × residual checkpoints), weights and both Adam moments together. *Encode / decode MB/s per "
            "core*: raw bytes of the whole run ÷ CPU seconds (user + system of the process and its children: the "
            "JVM's start, JIT and GC for excpfs import / export; zstd processes for the baselines; for the mount, the "
            "daemon's CPU while the trainer wrote into it). *Resume gap*: mean relative training-loss difference "
            f"over the {ctx['resume_steps']} steps after resuming from `{ctx['resume_from']}` (step "
            f"{ctx['resume_step']}, COLD) as each method returns it, against resuming from the original file, on "
            "identical batches (`bench/python/gap.py`).",
            "",
        ]
    out += [side_by_side(results), ""]
    if points:
        out += ["Rate–quality: every lossy setting of the run above (residual ratio against resume gap)"
                + (f"; plot `{png}`." if png else "."), "", rate_quality(points), ""]
        if png:
            out += [f"![rate-quality]({png})", ""]
    return "\n".join(out)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("results", help="directory of <order>-<method>.json files")
    p.add_argument("--context", help="JSON file describing the run (preset, params, steps, command)")
    p.add_argument("--markdown", help="write the section here")
    p.add_argument("--curve-data", help="write the rate-quality points here (JSON)")
    p.add_argument("--png", help="path of the rate-quality PNG to reference in the section (e.g. docs/rate-quality.png)")
    p.add_argument("--benchmarks", help="BENCHMARKS.md to update in place")
    args = p.parse_args(argv)
    results = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(args.results, "*.json")))]
    ctx = json.load(open(args.context)) if args.context else {}
    body = section(ctx, results, args.png)
    print(body)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(body + "\n")
    if args.curve_data:
        with open(args.curve_data, "w") as f:
            json.dump(curve_points(results), f, indent=1)
    if args.benchmarks:
        old = open(args.benchmarks).read() if os.path.exists(args.benchmarks) else "# Benchmarks\n"
        pattern = re.compile(r"^## Real trainer\n.*?(?=^## |\Z)", re.S | re.M)
        new = pattern.sub(lambda _: body + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + body
        with open(args.benchmarks, "w") as f:
            f.write(new)


if __name__ == "__main__":
    main()
