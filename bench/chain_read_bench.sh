#!/usr/bin/env bash
# Read latency of a COLD checkpoint by residual chain depth, through the mount.
#
# STORE is a store whose checkpoints are COLD residual chains (bench/real_trainer.sh keeps one: its
# store-default, imported with --hot 0). For each depth d in DEPTHS (1 2 4 8 16 ..., capped at the deepest
# checkpoint) the checkpoint whose largest file sits at depth d is read whole (cat of every file) through a
# read-only mount:
#   cold     a fresh daemon (empty reconstruction cache) and the OS page cache dropped: seed + d residuals decoded
#   base     the checkpoint before it read first (its reconstruction cached), page cache dropped: one residual
#   warm     the same checkpoint again, page cache dropped: served from the daemon's reconstruction cache
# and the daemon's peak RSS (VmHWM) after each depth's reads.
#
# Environment: STORE (required) WORK=/tmp/excpfs-chain-bench DEPTHS="1 2 4 8 16 32" MOUNT_OPTS=ro
#              EXCPFS_JAVA_OPTS="-Xmx4g -Xms2g -Dexcpfs.warmHeap=768m" OUT=$WORK/chain-read.md
# Needs the project built without installing: mvn -o -q -B -pl fs -am package -DskipTests
set -euo pipefail
export LC_ALL=C.UTF-8
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
: "${STORE:?set STORE to a store with COLD residual chains, e.g. the store-default of bench/real_trainer.sh}"
WORK=${WORK:-/tmp/excpfs-chain-bench}
DEPTHS=${DEPTHS:-1 2 4 8 16 32}
MOUNT_OPTS=${MOUNT_OPTS:-ro}
OUT=${OUT:-$WORK/chain-read.md}
JOPTS=${EXCPFS_JAVA_OPTS:--Xmx4g -Xms2g -Dexcpfs.warmHeap=768m}
[[ -d "$ROOT/fs/target/classes" && -d "$ROOT/fs/target/lib" ]] ||
  { echo "build first: mvn -o -q -B -pl fs -am package -DskipTests" >&2; exit 2; }
CP="$ROOT/fs/target/classes:$ROOT/codec/target/classes:$ROOT/cache/target/classes:$ROOT/fs/target/lib/*"
read -r -a CLI <<<"java $JOPTS"
CLI+=(-cp "$CP" io.excpfs.fs.cli.Main)
log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }

MNT="$WORK/mnt"
fusermount -u "$MNT" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$MNT"
"${CLI[@]}" stats "$STORE" --json >"$WORK/stats.json"
# depth -> checkpoint directory (relative), by the depth of the checkpoint's largest file
"$PY" - "$WORK/stats.json" "$DEPTHS" >"$WORK/plan.txt" <<'PYEOF'
import json, os, sys
stats, wanted = json.load(open(sys.argv[1])), [int(d) for d in sys.argv[2].split()]
largest = {}
for v in stats["versions"]:
    if v["status"] != "live":
        continue
    unit = os.path.dirname(v["path"]) or v["path"]
    if unit not in largest or v["raw_bytes"] > largest[unit]["raw_bytes"]:
        largest[unit] = v
by_depth = {}
for unit, v in largest.items():
    by_depth.setdefault(v["depth"], (unit, v))
units = sorted(largest, key=lambda u: largest[u]["id"])
for d in wanted:
    if d in by_depth:
        unit, v = by_depth[d]
        i = units.index(unit)
        prev = units[i - 1] if i > 0 else ""
        size = sum(x["raw_bytes"] for x in stats["versions"] if x["status"] == "live" and
                   (os.path.dirname(x["path"]) or x["path"]) == unit)
        print(d, unit.lstrip("/"), prev.lstrip("/") or "-", size, v["kind"])
PYEOF
[[ -s "$WORK/plan.txt" ]] || { echo "no COLD residual chain of the wanted depths in $STORE" >&2; cat "$WORK/stats.json" | head -40 >&2; exit 1; }

DAEMON=""
start_daemon() {
  "${CLI[@]}" mount "$STORE" "$MNT" -o "$MOUNT_OPTS" -f 2>>"$WORK/daemon.log" &
  DAEMON=$!
  for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
  mountpoint -q "$MNT" || { tail -20 "$WORK/daemon.log" >&2; exit 1; }
}
stop_daemon() { fusermount -u "$MNT"; wait "$DAEMON" || true; DAEMON=""; }
trap 'fusermount -u "$MNT" 2>/dev/null || true' EXIT
drop_caches() { sync; if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; else echo "cannot drop caches" >&2; fi; }
read_secs() { # cat every file of $1 (a path under the mount); prints seconds
  local t0 t1
  t0=$(date +%s.%N)
  if [[ -d $1 ]]; then find "$1" -type f -exec cat {} + >/dev/null; else cat "$1" >/dev/null; fi
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
: >"$WORK/rows.txt"
while read -r depth unit prev size kind; do
  log "depth $depth: $unit ($kind, $size bytes)"
  start_daemon
  drop_caches
  cold=$(read_secs "$MNT/$unit")
  drop_caches
  warm=$(read_secs "$MNT/$unit")
  stop_daemon
  base=""
  if [[ $prev != - ]]; then
    start_daemon
    read_secs "$MNT/$prev" >/dev/null
    drop_caches
    base=$(read_secs "$MNT/$unit")
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON/status")
    stop_daemon
  fi
  echo "$depth $unit $size $cold ${base:--} $warm ${hwm:-0}" >>"$WORK/rows.txt"
done <"$WORK/plan.txt"
trap - EXIT

"$PY" - "$WORK/rows.txt" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" "$("$PY" "$ROOT/bench/python/machine.py" "$STORE")" \
  "$STORE" "$MOUNT_OPTS" >"$OUT" <<'PYEOF'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
load0, load1, machine, store, opts = sys.argv[2:7]
print(f"Store `{store}`, mounted with `-o {opts}`; machine: {machine}; load average {load0} at the start, "
      f"{load1} at the end. Each row reads one whole checkpoint (every file) with `cat`, the OS page cache dropped "
      "before each read.")
print()
print("| chain depth | checkpoint | bytes | cold: fresh daemon | base cached: previous checkpoint read first | "
      "warm: read again | daemon peak RSS |")
print("|---|---|---|---|---|---|---|")
def mb(n, s):
    rate = int(n) / 1e6 / float(s)
    return f"{float(s):.2f} s ({rate:.0f} MB/s)" if rate >= 10 else f"{float(s):.2f} s ({rate:.1f} MB/s)"
for depth, unit, size, cold, base, warm, hwm in rows:
    print(f"| {depth} | `{unit}` | {int(size):,} | {mb(size, cold)} | {'—' if base == '-' else mb(size, base)} | "
          f"{mb(size, warm)} | {int(hwm) // 1024} MiB |")
PYEOF
cat "$OUT"
