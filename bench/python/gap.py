"""Mean relative loss gap between two loss lists: mean(|a_i - b_i| / |b_i|), b being the reference.

Each argument is a JSON file written by resume.py / train.py (an object with "losses" and "start_step") or a
bare JSON list. Both must start at the same step; the common prefix is compared. Prints JSON.
"""
import argparse
import json
import sys


def load(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, list):
        return None, [float(x) for x in data]
    return data.get("start_step"), [float(x) for x in data["losses"]]


def relative_gap(a, b):
    n = min(len(a), len(b))
    if n == 0:
        raise ValueError("no losses to compare")
    return sum(abs(x - y) / abs(y) for x, y in zip(a[:n], b[:n])) / n, n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("candidate")
    p.add_argument("reference")
    args = p.parse_args(argv)
    sa, a = load(args.candidate)
    sb, b = load(args.reference)
    if sa is not None and sb is not None and sa != sb:
        sys.exit(f"losses start at different steps: {sa} vs {sb}")
    gap, n = relative_gap(a, b)
    print(json.dumps({"gap": gap, "steps": n, "candidate_mean": sum(a[:n]) / n, "reference_mean": sum(b[:n]) / n}))


if __name__ == "__main__":
    main()
