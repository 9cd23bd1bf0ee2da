#!/usr/bin/env bash
# One rate-quality point of excpfs on an HF run: import (--hot 0) with the given options, residual ratio from
# `stats`, export, resume the newest checkpoint RESUME_STEPS steps, gap against ORIGINAL (resume.py output of the
# original checkpoint). Runs the CLI straight from target/classes (build first: mvn -o -q -B package -DskipTests).
# CODEC_CLASSES=<copy of codec/target/classes> keeps a batch of points on one codec while the tree is rebuilt.
# Usage: RUN=... ORIGINAL=... WORK=... [JAVA_OPTS=-D...] bench/scripts/ratio-point.sh NAME [import options...]
set -euo pipefail
export LC_ALL=C.UTF-8
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
name=$1; shift
: "${RUN:?}" "${ORIGINAL:?}" "${WORK:?}"
RESUME_STEPS=${RESUME_STEPS:-20}
cli() { java ${JAVA_OPTS:-} -Xmx4g -cp "$ROOT/fs/target/classes:${CODEC_CLASSES:-$ROOT/codec/target/classes}:$ROOT/cache/target/classes:$ROOT/fs/target/lib/*" io.excpfs.fs.cli.Main "$@"; }
store=$WORK/store-$name dest=$WORK/export-$name
rm -rf "$store" "$dest"
cli import "$RUN" "$store" --hot 0 "$@" >"$WORK/import-$name.log" 2>&1
cli stats "$store" --json >"$WORK/stats-$name.json"
cli export "$store" "$dest" >"$WORK/export-$name.log" 2>&1
last=$("$PY" -c "import sys; sys.path.insert(0, '$ROOT/bench/python'); import checkpoints; print(checkpoints.find('hf', '$RUN')[-1])")
"$PY" "$ROOT/bench/python/resume.py" --layout hf --ckpt "$dest/$last" --steps "$RESUME_STEPS" --out "$dest.resume.json"
"$PY" - "$WORK/stats-$name.json" "$dest.resume.json" "$ORIGINAL" "$name" "$*" <<'PYEOF'
import json, sys
sys.path.insert(0, sys.argv[0] and ".")
stats = json.load(open(sys.argv[1]))
res = [v for v in stats["versions"] if v["kind"] == "residual"]
raw, stored = sum(v["raw_bytes"] for v in res), sum(v["stored_bytes"] for v in res)
a = json.load(open(sys.argv[2]))["losses"]; b = json.load(open(sys.argv[3]))["losses"]
n = min(len(a), len(b))
gap = sum(abs(x - y) / abs(y) for x, y in zip(a[:n], b[:n])) / n
print(json.dumps({"name": sys.argv[4], "options": sys.argv[5], "residual_ratio": round(raw / stored, 3),
                  "residual_stored": stored, "gap_percent": round(100 * gap, 4)}))
PYEOF
