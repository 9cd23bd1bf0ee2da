#!/usr/bin/env bash
# Real-trainer benchmark: train a tiny GPT, then compare on the same checkpoint files: raw, zstd per file,
# zstd --patch-from previous, byte planes + zstd with and without XOR vs previous, the ExCP reference (7-Zip),
# and excpfs import (--mode lossless; --mode excp with the published parameters; --mode excp default).
# Lossy methods are resumed from their reconstruction of the last checkpoint and compared on identical batches.
#
# Environment: LAYOUT=hf|nanogpt|lightning PRESET=tiny STEPS=800 EVERY=40 RESUME_STEPS=100 WORK=/tmp/excpfs-bench
#              HOT=1 (excpfs import --hot; the newest HOT versions are exact, so every method is resumed from the
#              newest checkpoint that excpfs keeps COLD) ZSTD_LEVEL=19
#              WRITE_BENCHMARKS=1 (update the "## Real trainer" section of BENCHMARKS.md)
#              REUSE=1 (keep $WORK/run and $WORK/lossless.json of an earlier invocation with the same settings)
set -euo pipefail
export LC_ALL=C.UTF-8
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
BP="$ROOT/bench/python"
LAYOUT=${LAYOUT:-hf}
PRESET=${PRESET:-tiny}
STEPS=${STEPS:-800}
EVERY=${EVERY:-40}
RESUME_STEPS=${RESUME_STEPS:-100}
WORK=${WORK:-/tmp/excpfs-bench}
ZSTD_LEVEL=${ZSTD_LEVEL:-19}
HOT=${HOT:-1}
COMMAND="LAYOUT=$LAYOUT PRESET=$PRESET STEPS=$STEPS EVERY=$EVERY RESUME_STEPS=$RESUME_STEPS HOT=$HOT bench/real_trainer.sh"

"$PY" -c 'import torch, numpy' 2>/dev/null || { echo "$PY with torch and numpy is required" >&2; exit 2; }
for tool in zstd 7z; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }; done

REUSE=${REUSE:-0}
if [[ $REUSE == 1 && -d "$WORK/run" && -f "$WORK/train.json" ]]; then
  find "$WORK" -mindepth 1 -maxdepth 1 ! -name run ! -name train.json ! -name train-losses.json ! -name lossless.json \
    -exec rm -rf {} +
else
  REUSE=0
  rm -rf "$WORK"
fi
mkdir -p "$WORK/results"
RUN="$WORK/run"
RES="$WORK/results"
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

if [[ $REUSE == 0 ]]; then
  log "training $LAYOUT/$PRESET: $STEPS steps, checkpoint every $EVERY"
  extra=()
  [[ $LAYOUT == nanogpt ]] && extra+=(--keep-steps)
  "$PY" "$BP/train.py" --layout "$LAYOUT" --preset "$PRESET" --out "$RUN" --steps "$STEPS" --every "$EVERY" \
    --losses "$WORK/train-losses.json" "${extra[@]}" >"$WORK/train.json"
else
  log "reusing the run in $RUN"
fi

# The checkpoint to resume from: the newest one excpfs keeps COLD, i.e. the end of the longest residual chain.
LAST=$("$PY" -c "import sys; sys.path.insert(0, '$BP'); import checkpoints; print(checkpoints.find('$LAYOUT', '$RUN')[-1 - $HOT])")
NCKPT=$("$PY" -c "import sys; sys.path.insert(0, '$BP'); import checkpoints; print(len(checkpoints.find('$LAYOUT', '$RUN')))")
RAW=$(du -sb --apparent-size "$RUN" | cut -f1)
log "resuming from the original $LAST"
"$PY" "$BP/resume.py" --layout "$LAYOUT" --ckpt "$RUN/$LAST" --steps "$RESUME_STEPS" --out "$WORK/resume-original.json"
RESUME_STEP=$("$PY" -c "import json; print(json.load(open('$WORK/resume-original.json'))['start_step'])")

gap_of() { # $1 = tree holding a reconstruction of the run; prints the gap
  "$PY" "$BP/resume.py" --layout "$LAYOUT" --ckpt "$1/$LAST" --steps "$RESUME_STEPS" --out "$1.resume.json"
  "$PY" "$BP/gap.py" "$1.resume.json" "$WORK/resume-original.json" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["gap"])'
}

echo "{\"method\": \"raw\", \"residual_ratio\": 1.0, \"ratio\": 1.0, \"gap\": 0.0, \"notes\": \"$RAW bytes\"}" >"$RES/00-raw.json"

if [[ $REUSE == 0 || ! -s "$WORK/lossless.json" ]]; then
  log "lossless baselines (zstd -$ZSTD_LEVEL)"
  "$PY" "$BP/lossless_baselines.py" "$RUN" --level "$ZSTD_LEVEL" >"$WORK/lossless.json"
fi
"$PY" - "$WORK/lossless.json" "$RES" "$ZSTD_LEVEL" <<'PYEOF'
import json, sys
data, res, level = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
names = {"zstd": f"zstd -{level} per file", "patch": f"zstd -{level} --patch-from previous",
         "planes": f"byte planes + zstd -{level}", "planes-xor": f"XOR previous + byte planes + zstd -{level}"}
for i, (k, label) in enumerate(names.items(), 1):
    r = data[k]
    json.dump({"method": label, "residual_ratio": r["residual_ratio"], "ratio": r["ratio"], "gap": 0.0,
               "notes": "lossless, gap 0 by construction"}, open(f"{res}/{i:02d}-{k}.json", "w"))
PYEOF

log "ExCP reference (alpha 5e-5, beta 2, 4 bits, 7-Zip)"
"$PY" "$BP/excp_reference.py" --layout "$LAYOUT" --run "$RUN" --out "$WORK/excp-ref" --alpha 5e-5 --beta 2 --bits 4 \
  --json "$WORK/excp-ref.json" >/dev/null
GAP=$(gap_of "$WORK/excp-ref")
"$PY" - "$WORK/excp-ref.json" "$GAP" "$RES/10-excp-ref.json" <<'PYEOF'
import json, sys
r, gap, out = json.load(open(sys.argv[1])), float(sys.argv[2]), sys.argv[3]
json.dump({"method": "ExCP reference (α=5e-5, β=2, 4 bit, 7z -mx=9)", "residual_ratio": r["residual_ratio"],
           "ratio": r["total_raw_bytes"] / r["total_stored_bytes"], "gap": gap,
           "notes": f"weights kept {100 * r['mean_weight_kept']:.0f}%, moments kept {100 * r['mean_moment_kept']:.0f}%; "
                    "other files and skeleton in the same archive"}, open(out, "w"))
PYEOF

MISSING=""
if [[ -x "$ROOT/excpfs" && -d "$ROOT/fs/src/main/java/io/excpfs/fs/cli" ]]; then
  excpfs_column() { # $1 = order, $2 = name, $3 = label, rest = import options
    local order=$1 name=$2 label=$3; shift 3
    local store="$WORK/store-$name" dest="$WORK/export-$name"
    log "excpfs import $name: $*"
    "$ROOT/excpfs" import "$RUN" "$store" --hot "$HOT" "$@" >"$WORK/import-$name.log" 2>&1
    "$ROOT/excpfs" stats "$store" --json >"$WORK/stats-$name.json"
    "$ROOT/excpfs" export "$store" "$dest" >"$WORK/export-$name.log" 2>&1
    "$PY" "$BP/load_check.py" --layout "$LAYOUT" --run "$dest" >"$WORK/load-$name.json"
    local gap; gap=$(gap_of "$dest")
    "$PY" - "$WORK/stats-$name.json" "$gap" "$label" "$RUN" "$dest" "$RES/$order-excpfs-$name.json" <<'PYEOF'
import json, os, sys
stats, gap, label, run, dest, out = json.load(open(sys.argv[1])), float(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
res = [v for v in stats["versions"] if v["kind"] == "residual"]
raw, stored = sum(v["raw_bytes"] for v in res), sum(v["stored_bytes"] for v in res)
sizes_differ = []
for root, _, files in os.walk(run):
    for f in files:
        p = os.path.join(root, f)
        q = os.path.join(dest, os.path.relpath(p, run))
        if not os.path.exists(q) or os.path.getsize(q) != os.path.getsize(p):
            sizes_differ.append(os.path.relpath(p, run))
notes = f"{len(res)} residual versions"
if sizes_differ:
    notes += f"; {len(sizes_differ)} exported files missing or of another size"
json.dump({"method": label, "residual_ratio": raw / stored if stored else None,
           "ratio": stats["raw_bytes"] / stats["stored_bytes"] if stats.get("stored_bytes") else None,
           "gap": gap, "notes": notes}, open(out, "w"))
PYEOF
  }
  excpfs_column 20 lossless "excpfs --mode lossless" --mode lossless
  excpfs_column 21 excp-published "excpfs --keep published --alpha 5e-5 --beta 2 --bits 4" --mode excp --keep published --alpha 5e-5 --beta 2 --bits 4
  excpfs_column 22 excp-default "excpfs --mode excp (defaults)" --mode excp
  # rate-quality points: a larger alpha, and the scale-free budget rule at three settings
  excpfs_column 23 excp-alpha2e-4 "excpfs --keep published --alpha 2e-4" --mode excp --keep published --alpha 2e-4
  excpfs_column 24 excp-budget0.25 "excpfs --keep budget --budget 0.25" --mode excp --keep budget --budget 0.25
  excpfs_column 25 excp-budget0.5 "excpfs --keep budget --budget 0.5" --mode excp --keep budget --budget 0.5
  excpfs_column 26 excp-budget1 "excpfs --keep budget --budget 1" --mode excp --keep budget --budget 1
else
  MISSING="excpfs columns not measured: the CLI (./excpfs, io.excpfs.fs.cli.Main) is not in this tree yet."
  log "$MISSING"
fi

PARAMS=$("$PY" -c "import json; print(json.load(open('$WORK/train.json'))['params'])")
"$PY" - "$WORK/context.json" <<PYEOF
import json, sys, datetime
json.dump({"layout": "$LAYOUT", "preset": "$PRESET", "params": $PARAMS, "steps": $STEPS, "every": $EVERY,
           "checkpoints": $NCKPT, "raw_bytes": $RAW, "resume_steps": $RESUME_STEPS, "resume_step": $RESUME_STEP,
           "date": datetime.datetime.utcnow().strftime("%Y-%m-%d"), "command": """$COMMAND""",
           "missing": """$MISSING"""}, open(sys.argv[1], "w"))
PYEOF
bench_args=()
[[ ${WRITE_BENCHMARKS:-0} == 1 ]] && bench_args+=(--benchmarks "$ROOT/BENCHMARKS.md")
"$PY" "$BP/report.py" "$RES" --context "$WORK/context.json" "${bench_args[@]}"
