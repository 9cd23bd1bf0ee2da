#!/usr/bin/env bash
# Rate-quality points of excpfs on an HF run with the store's pairing (auto), the proposed layer-order pairing
# (layers) and the true pairing (truth), by PairingExperiment.java; the gap is resume.py from the reconstruction of
# the newest checkpoint against ORIGINAL (resume.py of the original). Build first: mvn -o -q -B -pl fs -am package -DskipTests
# KEEP=1 keeps each reconstruction in $WORK/<pairing>-<rule>.
# Usage: RUN=... ORIGINAL=... WORK=... [RESUME_STEPS=100] [PAIRINGS="auto layers truth"] [KEEP=1] pairing.sh published:1e-3 [budget:1 ...]
set -euo pipefail
export LC_ALL=C.UTF-8
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
PY=/usr/bin/python3
: "${RUN:?}" "${ORIGINAL:?}" "${WORK:?}"
RESUME_STEPS=${RESUME_STEPS:-100}
PAIRINGS=${PAIRINGS:-auto layers truth}
mkdir -p "$WORK"
first=$(ls -d "$RUN"/checkpoint-* | head -1)
"$PY" - "$first" >"$WORK/truth.txt" <<PYEOF
import sys; sys.path.insert(0, "$ROOT/bench/python")
import checkpoints
for name, index in checkpoints.Checkpoint("hf", sys.argv[1]).index.items(): print(name, index)
PYEOF
CP="${CODEC_CLASSES:-$ROOT/codec/target/classes}:$(ls "$ROOT"/fs/target/lib/*.jar | grep -v excpfs- | paste -sd:)"
for rule in "$@"; do
  for pairing in $PAIRINGS; do
    arg=$pairing
    [[ $pairing == truth ]] && arg="truth:$WORK/truth.txt"
    out="$WORK/$pairing-$rule"
    rm -rf "$out"
    line=$(java -Xmx4g -cp "$CP" "$ROOT/bench/scripts/high-compression/PairingExperiment.java" "$RUN" "$out" "$arg" "$rule" 2>"$out.log")
    ckpt=$("$PY" -c "import json,sys; print(json.loads(sys.argv[1])['checkpoint'])" "$line")
    "$PY" "$ROOT/bench/python/resume.py" --layout hf --ckpt "$ckpt" --steps "$RESUME_STEPS" --out "$out.resume.json" >/dev/null
    gap=$("$PY" "$ROOT/bench/python/gap.py" "$out.resume.json" "$ORIGINAL" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["gap"])')
    "$PY" -c "import json,sys; d=json.loads(sys.argv[1]); d['gap_percent']=round(100*float(sys.argv[2]),4); d.pop('checkpoint'); print(json.dumps(d))" "$line" "$gap"
    [[ ${KEEP:-0} == 1 ]] || rm -rf "$out"
  done
done
