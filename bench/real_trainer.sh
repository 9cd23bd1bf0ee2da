#!/usr/bin/env bash
# Real-trainer benchmark: train a tiny GPT (bench/python/train.py, AdamW with two param groups), then compare on
# the same checkpoint files: raw; zstd per file; zstd --patch-from previous; byte planes + zstd with and without
# XOR vs previous; the ExCP reference (7-Zip) at several alpha; excpfs import --mode lossless, --mode excp with the
# published parameters at several alpha, the default, and the budget rule at several budgets; and the same
# training run written through a mount (default options, hot=$HOT). Lossy methods are resumed from their
# reconstruction of the newest COLD checkpoint and compared with the exact resume on identical batches.
#
# Environment: LAYOUT=hf|nanogpt|lightning PRESET=tiny STEPS=800 EVERY=40 RESUME_STEPS=100 WORK=/tmp/excpfs-bench
#              HOT=0 (excpfs --hot; every method resumes from the newest checkpoint excpfs keeps COLD)
#              ZSTD_LEVEL=19  REF_ALPHAS="5e-5 2e-4 5e-4"  ALPHAS="5e-5 2e-4 5e-4"  BUDGETS="0.25 0.5 1 1.5"
#              MOUNT=1 (also train through a mount) MOUNT_HOTS="1" (its hot= values; each resumes from its
#              newest COLD checkpoint, against the exact resume from the same checkpoint)  EXCPFS_JAVA_OPTS="-Xmx4g -Xms2g -Dexcpfs.warmHeap=768m"
#              PNG_REF=path of the rate-quality PNG as the markdown names it (default $WORK/rate-quality.png)
#              PARALLEL=1 (run the lossless baselines, the ExCP reference and the mount run beside the excpfs imports)
#              WRITE_BENCHMARKS=1 (update the "## Real trainer" section of BENCHMARKS.md)
#              REUSE=1 (keep $WORK/run, the training figures and $WORK/lossless.json of an earlier invocation)
# Needs the project built without installing: mvn -o -q -B -pl fs,bench -am package -DskipTests
# Writes $WORK/results/*.json (one row per method), $WORK/real-trainer.md (tables) and $WORK/rate-quality.png.
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
HOT=${HOT:-0}
REF_ALPHAS=${REF_ALPHAS-5e-5 2e-4 5e-4}
ALPHAS=${ALPHAS-5e-5 2e-4 5e-4}
BUDGETS=${BUDGETS-0.25 0.5 1 1.5}
MOUNT=${MOUNT:-1}
MOUNT_HOTS=${MOUNT_HOTS:-1}
PARALLEL=${PARALLEL:-0}
JOPTS=${EXCPFS_JAVA_OPTS:--Xmx4g -Xms2g -Dexcpfs.warmHeap=768m}
COMMAND=${COMMAND:-"LAYOUT=$LAYOUT PRESET=$PRESET STEPS=$STEPS EVERY=$EVERY RESUME_STEPS=$RESUME_STEPS HOT=$HOT bench/real_trainer.sh"}

"$PY" -c 'import torch, numpy' 2>/dev/null || { echo "$PY with torch and numpy is required" >&2; exit 2; }
for tool in zstd 7z /usr/bin/time; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 2; }; done
[[ -d "$ROOT/fs/target/classes" && -d "$ROOT/fs/target/lib" ]] ||
  { echo "build first: mvn -o -q -B -pl fs,bench -am package -DskipTests" >&2; exit 2; }
CP="$ROOT/fs/target/classes:$ROOT/codec/target/classes:$ROOT/cache/target/classes:$ROOT/fs/target/lib/*"
read -r -a CLI <<<"java $JOPTS"
CLI+=(-cp "$CP" io.excpfs.fs.cli.Main)
cli() { "${CLI[@]}" "$@"; }
timed() { local out=$1; shift; /usr/bin/time -f "%e %U %S" -o "$out" "$@"; }
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

REUSE=${REUSE:-0}
KEEP=(run train.json train-losses.json train.time lossless.json)
if [[ $REUSE == 1 && -d "$WORK/run" && -f "$WORK/train.json" ]]; then
  args=()
  for k in "${KEEP[@]}"; do args+=(! -name "$k"); done
  find "$WORK" -mindepth 1 -maxdepth 1 "${args[@]}" -exec rm -rf {} +
else
  REUSE=0
  rm -rf "$WORK"
fi
mkdir -p "$WORK/results"
RUN="$WORK/run"
RES="$WORK/results"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

extra=()
[[ $LAYOUT == nanogpt ]] && extra+=(--keep-steps)
if [[ $REUSE == 0 ]]; then
  log "training $LAYOUT/$PRESET: $STEPS steps, checkpoint every $EVERY (load $LOAD_START)"
  timed "$WORK/train.time" "$PY" "$BP/train.py" --layout "$LAYOUT" --preset "$PRESET" --out "$RUN" --steps "$STEPS" \
    --every "$EVERY" --losses "$WORK/train-losses.json" "${extra[@]}" >"$WORK/train.json"
else
  log "reusing the run in $RUN"
fi

# The checkpoint to resume from: the newest one excpfs keeps COLD, i.e. the end of the longest residual chain.
units() { "$PY" -c "import sys; sys.path.insert(0, '$BP'); import checkpoints; print('\n'.join(checkpoints.find('$LAYOUT', '$RUN')))"; }
mapfile -t UNITS < <(units)
NCKPT=${#UNITS[@]}
LAST=${UNITS[$((NCKPT - 1 - HOT))]}
FIRST=${UNITS[0]}
file_bytes() { find "$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'; }
RAW=$(file_bytes "$RUN")
FIRST_RAW=$(file_bytes "$RUN/$FIRST")
PARAMS=$("$PY" -c "import json; print(json.load(open('$WORK/train.json'))['params'])")

log "resuming from the original $LAST"
"$PY" "$BP/resume.py" --layout "$LAYOUT" --ckpt "$RUN/$LAST" --steps "$RESUME_STEPS" --out "$WORK/resume-original.json"
RESUME_STEP=$("$PY" -c "import json; print(json.load(open('$WORK/resume-original.json'))['start_step'])")

"$PY" - "$WORK/context.json" <<PYEOF
import json, os, sys, datetime
t = open("$WORK/train.time").read().split()[-3:] if os.path.exists("$WORK/train.time") else None
json.dump({"layout": "$LAYOUT", "preset": "$PRESET", "params": $PARAMS, "steps": $STEPS, "every": $EVERY,
           "checkpoints": $NCKPT, "first_unit": "$FIRST", "resume_from": "$LAST", "raw_bytes": $RAW,
           "residual_raw_bytes": $RAW - $FIRST_RAW, "resume_steps": $RESUME_STEPS, "resume_step": $RESUME_STEP,
           "hot": $HOT, "train_wall_s": float(t[0]) if t else None,
           "date": datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), "command": """$COMMAND""",
           "load_start": "$LOAD_START"}, open(sys.argv[1], "w"), indent=1)
PYEOF
CTX="$WORK/context.json"

gap_of() { # $1 = tree holding a reconstruction of the run, $2 = name; [$3 = checkpoint, $4 = original resume]
  local ckpt=${3:-$LAST} original=${4:-$WORK/resume-original.json}
  "$PY" "$BP/resume.py" --layout "$LAYOUT" --ckpt "$1/$ckpt" --steps "$RESUME_STEPS" --out "$WORK/resume-$2.json"
  "$PY" "$BP/gap.py" "$WORK/resume-$2.json" "$original" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["gap"])'
}

"$PY" "$BP/results.py" raw --context "$CTX" --out "$RES/00-raw.json"

lossless_part() {
  if [[ $REUSE == 0 || ! -s "$WORK/lossless.json" ]]; then
    log "lossless baselines (zstd -$ZSTD_LEVEL, encode and decode)"
    "$PY" "$BP/lossless_baselines.py" "$RUN" --level "$ZSTD_LEVEL" >"$WORK/lossless.json"
  fi
  "$PY" "$BP/results.py" lossless --context "$CTX" --baselines "$WORK/lossless.json" --out-dir "$RES"
}

ref_part() {
  local i=10 a
  for a in $REF_ALPHAS; do
    log "ExCP reference (alpha $a, beta 2, 4 bits, 7-Zip)"
    "$PY" "$BP/excp_reference.py" --layout "$LAYOUT" --run "$RUN" --out "$WORK/excp-ref-$a" --alpha "$a" --beta 2 \
      --bits 4 --json "$WORK/excp-ref-$a.json" >/dev/null
    "$PY" "$BP/results.py" excp-ref --context "$CTX" --report "$WORK/excp-ref-$a.json" --gap "$(gap_of "$WORK/excp-ref-$a" "excp-ref-$a")" \
      --label "ExCP reference (α=$a, β=2, 4 bit, 7z -mx=9)" --setting "α=$a" --out "$RES/$i-excp-ref-$a.json"
    rm -rf "$WORK/excp-ref-$a"
    i=$((i + 1))
  done
}

excpfs_column() { # $1 = order, $2 = name, $3 = label, $4 = family, $5 = setting, rest = import options
  local order=$1 name=$2 label=$3 family=$4 setting=$5; shift 5
  local store="$WORK/store-$name" dest="$WORK/export-$name"
  log "excpfs import $name: $*"
  timed "$WORK/import-$name.time" "${CLI[@]}" import "$RUN" "$store" --hot "$HOT" "$@" >"$WORK/import-$name.log" 2>&1
  cli stats "$store" --json >"$WORK/stats-$name.json"
  timed "$WORK/export-$name.time" "${CLI[@]}" export "$store" "$dest" >"$WORK/export-$name.log" 2>&1
  local notes=""
  if [[ $family != lossless ]]; then
    "$PY" "$BP/load_check.py" --layout "$LAYOUT" --run "$dest" >"$WORK/load-$name.json" ||
      notes="LOAD CHECK FAILED: see $WORK/load-$name.json"
  elif ! diff -r -q "$RUN" "$dest" >"$WORK/diff-$name.txt"; then
    notes="EXPORT DIFFERS FROM THE RUN: see $WORK/diff-$name.txt"
  else
    notes="export identical to the run (diff -r)"
  fi
  local gap=0
  [[ $family != lossless ]] && gap=$(gap_of "$dest" "$name")
  "$PY" "$BP/results.py" excpfs --context "$CTX" --stats "$WORK/stats-$name.json" --encode-time "$WORK/import-$name.time" \
    --decode-time "$WORK/export-$name.time" --gap "$gap" --label "$label" --family "$family" --setting "$setting" \
    --run "$RUN" --dest "$dest" --notes "$notes" --out "$RES/$order-excpfs-$name.json"
  rm -rf "$dest"
}
excpfs_part() {
  excpfs_column 20 lossless "excpfs --mode lossless" lossless excpfs --mode lossless
  excpfs_column 21 default "**excpfs --mode excp (defaults)**" "excpfs default" default --mode excp
  local i=22 a b
  for a in $ALPHAS; do
    excpfs_column $i "published-$a" "excpfs --keep published --alpha $a --beta 2 --bits 4" "excpfs published rule" "α=$a" \
      --mode excp --keep published --alpha "$a" --beta 2 --bits 4
    i=$((i + 1))
  done
  for b in $BUDGETS; do
    excpfs_column $i "budget-$b" "excpfs --keep budget --budget $b" "excpfs budget rule" "budget=$b" \
      --mode excp --keep budget --budget "$b"
    i=$((i + 1))
  done
}

mount_part() {
  local i=40 mhot
  for mhot in $MOUNT_HOTS; do
    STORE="$WORK/store-mount-hot$mhot" MNT="$WORK/mnt"
    mkdir -p "$STORE" "$MNT"
    # the checkpoint to resume from: the newest one this mount keeps COLD
    from=${UNITS[$((NCKPT - 1 - mhot))]}
    original="$WORK/resume-original.json"
    if [[ $from != "$LAST" ]]; then
      original="$WORK/resume-original-$mhot.json"
      "$PY" "$BP/resume.py" --layout "$LAYOUT" --ckpt "$RUN/$from" --steps "$RESUME_STEPS" --out "$original"
    fi
    trap 'fusermount -u "$MNT" 2>/dev/null || true' EXIT
    "${CLI[@]}" mount "$STORE" "$MNT" -o "hot=$mhot" -f 2>"$WORK/daemon-hot$mhot.log" &
    DAEMON=$!
    for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
    mountpoint -q "$MNT" || { cat "$WORK/daemon-hot$mhot.log" >&2; exit 1; }
    log "training through the mount, hot=$mhot (daemon pid $DAEMON, load $(cut -d' ' -f1-3 /proc/loadavg))"
    timed "$WORK/train-mount-hot$mhot.time" "$PY" "$BP/train.py" --layout "$LAYOUT" --preset "$PRESET" --out "$MNT/run" \
      --steps "$STEPS" --every "$EVERY" "${extra[@]}" >"$WORK/train-mount-hot$mhot.json"
    echo >"$MNT/.excp/flush"
    cli stats "$STORE" --json >"$WORK/stats-mount-hot$mhot.json"
    ticks=$(getconf CLK_TCK)
    read -r ut st < <(awk '{print $14, $15}' "/proc/$DAEMON/stat")
    echo "0 $(echo "$ut / $ticks" | bc -l) $(echo "$st / $ticks" | bc -l)" >"$WORK/daemon-hot$mhot.time"
    HWM=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON/status")
    newest=${UNITS[$((NCKPT - 1))]}
    same="the newest checkpoint (HOT) holds exactly the plain run's weights and moments"
    ((mhot > 0)) || same="the newest checkpoint is COLD too"
    ((mhot == 0)) || "$PY" "$BP/same_tensors.py" --layout "$LAYOUT" "$RUN/$newest" "$MNT/run/$newest" >&2 ||
      same="NEWEST (HOT) CHECKPOINT DIFFERS FROM THE PLAIN RUN"
    load_ok="every checkpoint loads through the mount"
    "$PY" "$BP/load_check.py" --layout "$LAYOUT" --run "$MNT/run" >"$WORK/load-mount-hot$mhot.json" || load_ok="LOAD CHECK FAILED"
    GAP=$(gap_of "$MNT/run" "mount-hot$mhot" "$from" "$original")
    fusermount -u "$MNT"
    wait "$DAEMON" || true
    trap - EXIT
    TW=$(cut -d' ' -f1 "$WORK/train-mount-hot$mhot.time")
    "$PY" "$BP/results.py" excpfs --context "$CTX" --stats "$WORK/stats-mount-hot$mhot.json" --root /run \
      --encode-time "$WORK/daemon-hot$mhot.time" --gap "$GAP" \
      --label "excpfs mount (defaults, hot=$mhot): the trainer writes into it, resumed from $from" \
      --family "excpfs mount" --setting "hot=$mhot" \
      --notes "$same; $load_ok; training wall ${TW} s through the mount, $("$PY" -c "import json; print(json.load(open('$CTX'))['train_wall_s'])") s on the plain disk; daemon peak RSS $((HWM / 1024)) MiB; encode = daemon CPU incl. FUSE" \
      --out "$RES/$i-excpfs-mount-hot$mhot.json"
    rmdir "$MNT"
    i=$((i + 1))
  done
}

if [[ $PARALLEL == 1 ]]; then
  # independent parts side by side: CPU-time figures are unaffected, wall time shrinks on a shared machine
  pids=()
  # if this script stops early, stop the parts beside it and leave no mount behind
  trap 'kill "${pids[@]}" 2>/dev/null; sleep 1; fusermount -u "$WORK/mnt" 2>/dev/null; wait' EXIT
  lossless_part 2>"$WORK/part-lossless.log" & pids+=($!)
  ref_part 2>"$WORK/part-ref.log" & pids+=($!)
  if [[ $MOUNT == 1 ]]; then mount_part 2>"$WORK/part-mount.log" & pids+=($!); fi
  excpfs_part
  failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  trap - EXIT
  if ((failed)); then tail -n 20 "$WORK"/part-*.log >&2; exit 1; fi
else
  lossless_part
  ref_part
  excpfs_part
  [[ $MOUNT == 1 ]] && mount_part
fi

"$PY" - "$CTX" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["load_end"] = open("/proc/loadavg").read().split()[:3]
c["load_end"] = " ".join(c["load_end"])
json.dump(c, open(sys.argv[1], "w"), indent=1)
PYEOF
bench_args=()
[[ ${WRITE_BENCHMARKS:-0} == 1 ]] && bench_args+=(--benchmarks "$ROOT/BENCHMARKS.md")
"$PY" "$BP/report.py" "$RES" --context "$CTX" --markdown "$WORK/real-trainer.md" --curve-data "$WORK/rate-quality.json" \
  --png "${PNG_REF:-$WORK/rate-quality.png}" "${bench_args[@]}" >/dev/null
if [[ -f "$ROOT/bench/target/classes/io/excpfs/bench/RateQualityChart.class" && -f "$ROOT/bench/target/classpath.txt" ]]; then
  "$ROOT/bench/scripts/run.sh" -Djava.awt.headless=true io.excpfs.bench.RateQualityChart \
    "$WORK/rate-quality.json" "$WORK/rate-quality.png"
fi
cli report "$WORK/store-default" --out "$WORK/store-default.html" --title "excpfs default, $LAYOUT/$PRESET run" >&2 || true
log "done: $WORK/real-trainer.md"
