#!/usr/bin/env bash
# Every figure of the high-compression analysis (docs/rate-quality.md is not needed: the report carries the table),
# on a finished real-trainer run (bench/run_all.sh or bench/real_trainer.sh, HF layout), one CPU-heavy step at a time:
#   1. excpfs store points (bench/scripts/ratio-point.sh: import --hot 0, export, resume) at ALPHAS (published rule)
#   2. the ExCP reference (bench/python/excp_reference.py) at REF_ALPHAS, and its gap
#   3. the reference's bytes and errors per role (excp-ref-breakdown.py) at REF_BREAKDOWN
#   4. the codec with the store's pairing, the layer-order pairing and the true pairing (pairing.sh) at RULES
#   5. the layout records of the store of step 1's first alpha (LayoutRecords.java)
#   6. the 1-D parameters (biases, LayerNorm): the layer-order reconstruction at ONE_D alphas with its 1-D weights
#      replaced as dense coding would give them (fix1d.py: exact, 8- or 4-bit), resumed; and their lossless cost (cost1d.py)
# Build first: mvn -o -q -B -pl fs,bench -am package -DskipTests
# Environment: TR=/tmp/excpfs-bench-full/trainer (holds run/ and resume-original.json) WORK=/tmp/excpfs-high-compression
#              ALPHAS="1e-3 2e-3" REF_ALPHAS="1e-3 2e-3" REF_BREAKDOWN="2e-4 5e-4 1e-3"
#              RULES="published:2e-4 published:5e-4 published:1e-3 published:2e-3 budget:1" PAIRINGS="auto layers truth" RESUME_STEPS=100
#              ONE_D="2e-3 1e-3 5e-4" ONE_D_MODES="exact q8 q4"
# Output: $WORK/points.jsonl (one JSON line per point), $WORK/refbd-*.json, $WORK/layout-records.txt
set -euo pipefail
export LC_ALL=C.UTF-8
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
PY=/usr/bin/python3
TR=${TR:-/tmp/excpfs-bench-full/trainer}
WORK=${WORK:-/tmp/excpfs-high-compression}
ALPHAS=${ALPHAS-1e-3 2e-3}
REF_ALPHAS=${REF_ALPHAS-1e-3 2e-3}
REF_BREAKDOWN=${REF_BREAKDOWN-2e-4 5e-4 1e-3}
RULES=${RULES-published:2e-4 published:5e-4 published:1e-3 published:2e-3 budget:1}
export RUN=$TR/run ORIGINAL=$TR/resume-original.json RESUME_STEPS=${RESUME_STEPS:-100} WORK
mkdir -p "$WORK"
OUT=$WORK/points.jsonl
log() { echo "[$(date -u +%H:%M:%S)] $* (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2; }

for a in $ALPHAS; do
  log "excpfs store point, published alpha $a"
  nice -n 10 "$ROOT/bench/scripts/ratio-point.sh" "published-$a" --mode excp --keep published --alpha "$a" --beta 2 --bits 4 |
    sed 's/^{/{"method": "excpfs store", /' >>"$OUT"
done
for a in $REF_ALPHAS; do
  log "ExCP reference, alpha $a"
  (cd "$ROOT/bench/python" &&
    nice -n 10 "$PY" excp_reference.py --layout hf --run "$RUN" --out "$WORK/excp-ref-$a" --alpha "$a" --beta 2 --bits 4 --json "$WORK/excp-ref-$a.json" >/dev/null &&
    last=$(ls -d "$WORK/excp-ref-$a"/checkpoint-* | sort -t- -k2 -n | tail -1) &&
    nice -n 10 "$PY" resume.py --layout hf --ckpt "$last" --steps "$RESUME_STEPS" --out "$WORK/resume-excp-ref-$a.json" >/dev/null &&
    "$PY" - "$WORK/excp-ref-$a.json" "$WORK/resume-excp-ref-$a.json" "$ORIGINAL" "$a" <<'PYEOF'
import json, sys
sys.path.insert(0, ".")
import gap
r = json.load(open(sys.argv[1]))
g, _ = gap.relative_gap(gap.load(sys.argv[2])[1], gap.load(sys.argv[3])[1])
print(json.dumps({"method": "ExCP reference", "alpha": sys.argv[4], "residual_ratio": round(r["residual_ratio"], 3),
                  "residual_stored": r["residual_stored_bytes"], "weights_kept": round(r["mean_weight_kept"], 4),
                  "moments_kept": round(r["mean_moment_kept"], 4), "gap_percent": round(100 * g, 4)}))
PYEOF
  ) >>"$OUT"
  rm -rf "$WORK/excp-ref-$a"
done
for a in $REF_BREAKDOWN; do
  log "ExCP reference bytes by role, alpha $a"
  nice -n 10 "$PY" "$HERE/excp-ref-breakdown.py" "$RUN" "$a" >"$WORK/refbd-$a.json" 2>/dev/null
done
if [[ -n $RULES ]]; then
  log "pairings: ${PAIRINGS:-auto layers truth} at $RULES"
  # shellcheck disable=SC2086
  nice -n 10 "$HERE/pairing.sh" $RULES | sed 's/^{/{"method": "excpfs codec", /' >>"$OUT"
fi
first=${ALPHAS%% *}
if [[ -n $first && -d "$WORK/store-published-$first" ]]; then
  log "layout records of store-published-$first"
  java -cp "$ROOT/codec/target/classes:$(ls "$ROOT"/fs/target/lib/*.jar | grep -v excpfs- | paste -sd:)" "$HERE/LayoutRecords.java" \
    "$WORK/store-published-$first" >"$WORK/layout-records.txt"
fi
for a in ${ONE_D-2e-3 1e-3 5e-4}; do
  log "1-D parameters at alpha $a"
  rm -rf "$WORK/layers-published:$a"
  PAIRINGS=layers KEEP=1 nice -n 10 "$HERE/pairing.sh" "published:$a" >/dev/null
  units=$(ls -d "$RUN"/checkpoint-* | sort -t- -k2 -n | tail -2)
  prev=$(echo "$units" | head -1) last=$(echo "$units" | tail -1) name=$(basename "$last")
  for mode in ${ONE_D_MODES:-exact q8 q4}; do
    d="$WORK/one-d-$a-$mode"
    rm -rf "$d" && cp -r "$WORK/layers-published:$a" "$d"
    nice -n 10 "$PY" "$HERE/fix1d.py" "$WORK/layers-published:$a/$name" "$last" "$prev" "$d/$name" "$mode"
    nice -n 10 "$PY" "$ROOT/bench/python/resume.py" --layout hf --ckpt "$d/$name" --steps "$RESUME_STEPS" --out "$d.resume.json" >/dev/null
    gap=$("$PY" "$ROOT/bench/python/gap.py" "$d.resume.json" "$ORIGINAL" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["gap"])')
    echo "{\"method\": \"excpfs codec, layer pairing, 1-D weights $mode\", \"rule\": \"published:$a\", \"gap_percent\": $("$PY" -c "print(round(100 * $gap, 4))")}" >>"$OUT"
    rm -rf "$d"
  done
  rm -rf "$WORK/layers-published:$a"
done
if [[ -n ${ONE_D-2e-3 1e-3 5e-4} ]]; then
  log "lossless cost of the 1-D parameters"
  nice -n 10 "$PY" "$HERE/cost1d.py" "$RUN" >"$WORK/cost1d.txt"
fi
log "done: $OUT"
