#!/usr/bin/env bash
# Mount benchmark: a store mounted on a temp dir vs a plain directory on the same disk.
#
#   save   torch.save(path) of a real checkpoint (tiny GPT at PRESET, model + AdamW state, one training step
#          between saves) into MNT/ckpt.pt and into PLAIN/ckpt.pt, alternating, then fsync; REPS times each.
#          Through the mount the seal (block CRCs, fsync, commit) happens at close, inside torch.save.
#   read   cat and torch.load of the HOT newest ckpt.pt and of a COLD older version (/.excp/history, after a
#          flush and a remount, so the daemon's reconstruction cache starts empty), first with the OS page cache
#          dropped (echo 3 > /proc/sys/vm/drop_caches, needs root) and then again; the plain file for scale.
#   memory daemon VmHWM (peak RSS) from /proc/<pid>/status at the end.
#
# Environment: PRESET=medium (about 19M parameters, ~230 MB checkpoint) REPS=3 WORK=/tmp/excpfs-mount-bench
#              MOUNT_OPTS= (extra -o options) EXCPFS_JAVA_OPTS="-Xmx4g -Xms2g -Dexcpfs.warmHeap=768m"
# Needs the project built (mvn -q -o install -DskipTests; fs/target/lib from mvn package or ./excpfs once).
set -euo pipefail
export LC_ALL=C.UTF-8
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=/usr/bin/python3
BP="$ROOT/bench/python"
PRESET=${PRESET:-medium}
REPS=${REPS:-3}
WORK=${WORK:-/tmp/excpfs-mount-bench}
MOUNT_OPTS=${MOUNT_OPTS:-}
STORE="$WORK/store" MNT="$WORK/mnt" PLAIN="$WORK/plain"

"$PY" -c 'import torch' 2>/dev/null || { echo "$PY with torch is required" >&2; exit 2; }
[[ -d "$ROOT/fs/target/classes" && -d "$ROOT/fs/target/lib" ]] || { echo "build first: ./excpfs --help" >&2; exit 2; }
cp="$ROOT/fs/target/classes:$ROOT/codec/target/classes:$ROOT/cache/target/classes:$ROOT/fs/target/lib/*"

log() { echo "[$(date -u +%H:%M:%S)] $*" >&2; }
drop_caches() { sync; if [[ -w /proc/sys/vm/drop_caches ]]; then echo 3 >/proc/sys/vm/drop_caches; else log "cannot drop caches (not root)"; fi; }
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); echo "$t1 - $t0" | bc -l; }
mbps() { echo "scale=0; $1 / 1000000 / $2" | bc -l; }

fusermount -u "$MNT" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$STORE" "$MNT" "$PLAIN"
opts=()
[[ -n $MOUNT_OPTS ]] && opts=(-o "$MOUNT_OPTS")
start_daemon() {
  # shellcheck disable=SC2086
  java ${EXCPFS_JAVA_OPTS:--Xmx4g -Xms2g -Dexcpfs.warmHeap=768m} -cp "$cp" io.excpfs.fs.cli.Main mount "$STORE" "$MNT" "${opts[@]}" -f 2>>"$WORK/daemon.log" &
  DAEMON=$!
  for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
  mountpoint -q "$MNT" || { cat "$WORK/daemon.log" >&2; exit 1; }
  log "mounted (daemon pid $DAEMON); load: $(cut -d' ' -f1-3 /proc/loadavg)"
}
stop_daemon() { fusermount -u "$MNT"; wait "$DAEMON" || true; }
trap 'fusermount -u "$MNT" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
start_daemon

log "save: $PRESET, $REPS reps"
"$PY" - "$BP" "$PRESET" "$REPS" "$PLAIN/ckpt.pt" "$MNT/ckpt.pt" >"$WORK/save.json" <<'PYEOF'
import json, os, sys, time
import torch
sys.path.insert(0, sys.argv[1])
import tinygpt
preset, reps, plain, mnt = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
tinygpt.setup_torch()
margs = tinygpt.model_args(preset)
torch.manual_seed(1)
model = tinygpt.GPT(margs)
opt = tinygpt.make_optimizer(model, 1e-3)
bs = tinygpt.PRESETS[preset]["batch_size"]

def save(path):
    t0 = time.perf_counter()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": step}, path)
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return time.perf_counter() - t0

times = {"plain": [], "mount": []}
for step in range(1, reps + 1):
    x, y = tinygpt.batch(1, step, bs, margs["block_size"])
    loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    order = [("plain", plain), ("mount", mnt)] if step % 2 else [("mount", mnt), ("plain", plain)]
    for name, path in order:
        times[name].append(save(path))
print(json.dumps({"bytes": os.path.getsize(plain), "params": model.num_params(), **times}))
PYEOF
cat "$WORK/save.json" >&2
cmp "$PLAIN/ckpt.pt" "$MNT/ckpt.pt" || { echo "mount copy differs from the plain copy" >&2; exit 1; }
BYTES=$("$PY" -c "import json; print(json.load(open('$WORK/save.json'))['bytes'])")

log "flush (demotes the older versions to COLD)"
FLUSH_S=$(secs sh -c "echo > '$MNT/.excp/flush'")
HWM_WRITE=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON/status")
log "remount: the daemon's reconstruction cache starts empty"
stop_daemon
start_daemon
COLD=$(ls "$MNT/.excp/history/" | sort -t@ -k2 -n | tail -1)
COLD="$MNT/.excp/history/$COLD"
xattr() { "$PY" -c 'import os, sys; print(os.getxattr(sys.argv[1], sys.argv[2]).decode())' "$1" "$2"; }
log "COLD version $COLD: state $(xattr "$COLD" user.excp.state), kind $(xattr "$COLD" user.excp.kind)"

load_secs() {
  "$PY" - "$1" <<'PYEOF'
import sys, time, torch
t0 = time.perf_counter()
torch.load(sys.argv[1], map_location="cpu")
print(time.perf_counter() - t0)
PYEOF
}

declare -A R
for what in plain:"$PLAIN/ckpt.pt" hot:"$MNT/ckpt.pt" cold:"$COLD"; do
  name=${what%%:*} file=${what#*:}
  drop_caches
  R[$name.cat.cold]=$(secs cat "$file")
  R[$name.cat.warm]=$(for _ in 1 2 3; do secs cat "$file"; done | sort -g | head -1)
  drop_caches
  R[$name.load.cold]=$(load_secs "$file")
  R[$name.load.warm]=$(load_secs "$file")
  log "$name: cat $(mbps "$BYTES" "${R[$name.cat.cold]}") / $(mbps "$BYTES" "${R[$name.cat.warm]}") MB/s (dropped / warm)," \
    "torch.load ${R[$name.load.cold]} / ${R[$name.load.warm]} s"
done
HWM=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON/status")

"$PY" - "$WORK/save.json" "$BYTES" "$FLUSH_S" "$HWM_WRITE" "$HWM" "$(cut -d' ' -f1-3 /proc/loadavg)" "$PRESET" "$REPS" \
  "${R[plain.cat.cold]}" "${R[plain.cat.warm]}" "${R[plain.load.cold]}" "${R[plain.load.warm]}" \
  "${R[hot.cat.cold]}" "${R[hot.cat.warm]}" "${R[hot.load.cold]}" "${R[hot.load.warm]}" \
  "${R[cold.cat.cold]}" "${R[cold.cat.warm]}" "${R[cold.load.cold]}" "${R[cold.load.warm]}" <<'PYEOF'
import json, statistics, sys
a = sys.argv
save = json.load(open(a[1]))
n = int(a[2])
flush, hwm_write, hwm_read, load, preset, reps = float(a[3]), int(a[4]), int(a[5]), a[6], a[7], a[8]
r = [float(x) for x in a[9:]]
mb = lambda s: n / 1e6 / s
sp, sm = statistics.median(save["plain"]), statistics.median(save["mount"])
p1, m1 = save["plain"][0], save["mount"][0]
print(f"checkpoint: {preset} GPT, {save['params']} parameters, model + AdamW state, {n} bytes; {reps} saves each; "
      f"load average at the end {load}")
print()
print("| what | plain dir | mount | mount / plain |")
print("|---|---|---|---|")
print(f"| torch.save + fsync, first save (new file) | {p1:.2f} s ({mb(p1):.0f} MB/s) | {m1:.2f} s ({mb(m1):.0f} MB/s) | {m1 / p1:.2f}x |")
print(f"| torch.save + fsync, median of {reps} (later saves overwrite: the daemon encodes the previous version meanwhile) "
      f"| {sp:.2f} s ({mb(sp):.0f} MB/s) | {sm:.2f} s ({mb(sm):.0f} MB/s) | {sm / sp:.2f}x |")
rows = [("cat, first read (page cache dropped; COLD: fresh daemon, decoded now)", 0), ("cat, again (best of 3)", 1),
        ("torch.load, page cache dropped", 2), ("torch.load, again", 3)]
for label, i in rows:
    p, h, c = r[i], r[4 + i], r[8 + i]
    print(f"| {label}: plain / HOT / COLD | {p:.2f} s ({mb(p):.0f} MB/s) | HOT {h:.2f} s ({mb(h):.0f} MB/s); "
          f"COLD {c:.2f} s ({mb(c):.0f} MB/s) | {h / p:.2f}x / {c / p:.2f}x |")
print(f"| flush (encode the {int(reps) - 1} older versions) | | {flush:.1f} s | |")
print(f"| daemon peak RSS (VmHWM): saves + flush / reads after a remount | | {hwm_write / 1024:.0f} MiB / {hwm_read / 1024:.0f} MiB | |")
print()
print("save times (s): plain " + ", ".join(f"{x:.2f}" for x in save["plain"]) + "; mount "
      + ", ".join(f"{x:.2f}" for x in save["mount"]))
PYEOF
