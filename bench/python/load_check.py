"""Load every checkpoint of a run directory with the trainer's own loading code; exit non-zero naming each failure.

For each checkpoint unit: the layout's full resume path (resume.LOADERS: torch.load / safetensors reader,
load_state_dict of model and optimizer, scheduler, RNG state), plus a strict zipfile CRC check of every
torch.save zip file. Prints JSON {"checked": n, "failures": [...]}.
"""
import argparse
import json
import os
import sys
import zipfile

import checkpoints
import resume
import tinygpt


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--layout", choices=sorted(resume.LOADERS), required=True)
    p.add_argument("--run", required=True)
    args = p.parse_args(argv)
    tinygpt.setup_torch()
    failures, checked = [], 0
    for unit in checkpoints.find(args.layout, args.run):
        path = os.path.join(args.run, unit)
        try:
            resume.LOADERS[args.layout](path)
            for f in checkpoints.unit_files(args.run, unit):
                if zipfile.is_zipfile(f):
                    with zipfile.ZipFile(f) as z:
                        bad = z.testzip()
                        if bad is not None:
                            raise ValueError(f"{f}: CRC mismatch in zip entry {bad}")
            checked += 1
        except BaseException as e:  # report every unit, not just the first failure
            failures.append(f"{unit}: {type(e).__name__}: {e}")
    print(json.dumps({"checked": checked, "failures": failures}))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
