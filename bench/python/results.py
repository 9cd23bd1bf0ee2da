"""One result row (JSON) per method of the real-trainer benchmark, all measured on the same run directory.

Row fields: method, family (rate-quality series), setting, raw_bytes and stored_bytes (the whole run),
residual_raw_bytes and residual_stored_bytes (every checkpoint but the first: the ones a delta method can use),
residual_ratio, ratio, bits_per_param (residual stored bits / (parameters x residual checkpoints): weights and both
Adam moments together), encode_mbps and decode_mbps (raw bytes per CPU second, i.e. per core), gap, notes.

  results.py raw       --context C --out FILE
  results.py lossless  --context C --baselines lossless.json --out-dir RES
  results.py excp-ref  --context C --report excp-ref.json --gap G --label L --setting S --out FILE
  results.py excpfs    --context C --stats stats.json --encode-time T --decode-time T --gap G --label L
                       --family F --setting S [--run RUN --dest DEST] [--notes N] --out FILE
Time files are written by /usr/bin/time -f "%e %U %S" (wall, user, system seconds).
"""
import argparse
import json
import os
import sys


def cpu_seconds(path):
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        fields = f.read().split()[-3:]
    return float(fields[1]) + float(fields[2])


def mbps(raw, cpu):
    return raw / 1e6 / cpu if cpu else None


def row(ctx, method, family, setting, raw, stored, res_raw, res_stored, enc_cpu, dec_cpu, gap, notes):
    residual_ckpts = ctx["checkpoints"] - 1
    return {
        "method": method, "family": family, "setting": setting,
        "raw_bytes": raw, "stored_bytes": stored,
        "residual_raw_bytes": res_raw, "residual_stored_bytes": res_stored,
        "ratio": raw / stored if stored else None,
        "residual_ratio": res_raw / res_stored if res_stored else None,
        "bits_per_param": 8 * res_stored / (ctx["params"] * residual_ckpts) if residual_ckpts > 0 else None,
        "encode_mbps": mbps(raw, enc_cpu), "decode_mbps": mbps(raw, dec_cpu),
        "gap": gap, "notes": notes,
    }


def write(path, r):
    with open(path, "w") as f:
        json.dump(r, f, indent=1)
        f.write("\n")


def raw(args, ctx):
    write(args.out, row(ctx, "raw", "raw", "", ctx["raw_bytes"], ctx["raw_bytes"], ctx["residual_raw_bytes"],
                        ctx["residual_raw_bytes"], None, None, 0.0, f"{ctx['raw_bytes']:,} bytes"))


def lossless(args, ctx):
    data = json.load(open(args.baselines))
    level = data.get("level", 19)
    names = {"zstd": f"zstd -{level} per file", "patch": f"zstd -{level} --patch-from previous",
             "planes": f"byte planes + zstd -{level} (ZipNN-style)",
             "planes-xor": f"XOR previous + byte planes + zstd -{level}"}
    for i, (k, label) in enumerate(names.items(), 1):
        if k not in data:
            continue
        r = data[k]
        write(os.path.join(args.out_dir, f"{i:02d}-{k}.json"),
              row(ctx, label, "lossless", k, r["raw"], r["stored"], r["residual_raw"], r["residual_stored"],
                  r.get("encode_cpu_s"), r.get("decode_cpu_s"), 0.0, "lossless (round trip checked), gap 0"))


def excp_ref(args, ctx):
    r = json.load(open(args.report))
    notes = (f"weights kept {100 * r['mean_weight_kept']:.0f}%, moments kept {100 * r['mean_moment_kept']:.0f}%; "
             "no decoder (reconstruction written directly)")
    write(args.out, row(ctx, args.label, "ExCP reference", args.setting, r["total_raw_bytes"],
                        r["total_stored_bytes"], r["residual_raw_bytes"], r["residual_stored_bytes"],
                        r.get("encode_cpu_s"), None, args.gap, notes))


def excpfs(args, ctx):
    stats = json.load(open(args.stats))
    first = args.root.rstrip("/") + "/" + ctx["first_unit"].strip("/")
    versions = stats["versions"]
    later = [v for v in versions if not (v["path"] == first or v["path"].startswith(first + "/"))]
    kinds = {}
    for v in later:
        kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
    notes = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) + " versions after the first checkpoint"
    if args.run and args.dest:
        differ = []
        for root, _, files in os.walk(args.run):
            for f in files:
                p = os.path.join(root, f)
                q = os.path.join(args.dest, os.path.relpath(p, args.run))
                if not os.path.exists(q) or os.path.getsize(q) != os.path.getsize(p):
                    differ.append(os.path.relpath(p, args.run))
        if differ:
            notes += f"; {len(differ)} exported files missing or of another size"
    if args.notes:
        notes += "; " + args.notes
    write(args.out, row(ctx, args.label, args.family, args.setting, stats["raw_bytes"], stats["stored_bytes"],
                        sum(v["raw_bytes"] for v in later), sum(v["stored_bytes"] for v in later),
                        cpu_seconds(args.encode_time), cpu_seconds(args.decode_time), args.gap, notes))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["raw", "lossless", "excp-ref", "excpfs"])
    p.add_argument("--context", required=True)
    p.add_argument("--baselines")
    p.add_argument("--out-dir")
    p.add_argument("--report")
    p.add_argument("--stats")
    p.add_argument("--encode-time")
    p.add_argument("--decode-time")
    p.add_argument("--gap", type=float)
    p.add_argument("--label")
    p.add_argument("--family")
    p.add_argument("--setting")
    p.add_argument("--run")
    p.add_argument("--dest")
    p.add_argument("--notes")
    p.add_argument("--root", default="", help="excpfs: the run's directory inside the store (e.g. /run)")
    p.add_argument("--out")
    args = p.parse_args(argv)
    ctx = json.load(open(args.context))
    {"raw": raw, "lossless": lossless, "excp-ref": excp_ref, "excpfs": excpfs}[args.kind](args, ctx)


if __name__ == "__main__":
    sys.exit(main())
