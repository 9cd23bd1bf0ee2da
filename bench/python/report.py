"""Collect the real-trainer benchmark results (one JSON per method) into a markdown table, and optionally
replace the "## Real trainer" section of BENCHMARKS.md with it."""
import argparse
import glob
import json
import os
import re

HEADING = "## Real trainer"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def fmt_gap(x):
    return "—" if x is None else f"{100 * x:.2f}%"


def table(results):
    rows = ["| method | residual ratio | total ratio | resume gap | notes |", "|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['method']} | {fmt_ratio(r.get('residual_ratio'))} | {fmt_ratio(r.get('ratio'))} | "
                    f"{fmt_gap(r.get('gap'))} | {r.get('notes', '')} |")
    return "\n".join(rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("results", help="directory of <order>-<method>.json files")
    p.add_argument("--context", help="JSON file describing the run (preset, params, steps, command)")
    p.add_argument("--benchmarks", help="BENCHMARKS.md to update in place")
    args = p.parse_args(argv)
    results = [json.load(open(f)) for f in sorted(glob.glob(os.path.join(args.results, "*.json")))]
    text = table(results)
    print(text)
    if not args.benchmarks:
        return
    ctx = json.load(open(args.context)) if args.context else {}
    section = [HEADING, ""]
    if ctx:
        section += [
            f"Run: layout `{ctx['layout']}`, preset `{ctx['preset']}` ({ctx['params']:,} parameters), "
            f"{ctx['steps']} steps, a checkpoint every {ctx['every']} steps ({ctx['checkpoints']} checkpoints, "
            f"{ctx['raw_bytes']:,} bytes), AdamW with two param groups, CPU, {ctx['date']}.",
            "",
            "*Residual ratio*: raw bytes ÷ stored bytes over the checkpoints that have a predecessor (the seed "
            "excluded); *total ratio*: over every file of the run. *Resume gap*: mean relative training-loss "
            f"difference over the {ctx['resume_steps']} steps after resuming from the newest COLD checkpoint "
            f"(step {ctx['resume_step']}) as each method returns it, against resuming from the original file, "
            "on identical batches (`bench/python/gap.py`).",
            "",
            "Command:",
            "",
            "```",
            ctx["command"],
            "```",
            "",
        ]
    section += [text, ""]
    if ctx.get("missing"):
        section += [ctx["missing"], ""]
    body = "\n".join(section)
    old = open(args.benchmarks).read() if os.path.exists(args.benchmarks) else "# Benchmarks\n"
    pattern = re.compile(r"^## Real trainer\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: body + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + body
    with open(args.benchmarks, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()
