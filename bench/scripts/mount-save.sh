#!/usr/bin/env bash
# Save speed through the mount: torch.save of a real checkpoint (tiny GPT at PRESET, model + AdamW state, one
# training step between saves) into MNT/ckpt.pt (an in-place overwrite from the second save on, so the daemon
# encodes the previous version meanwhile) and into PLAIN/ckpt.pt on the same disk, alternating which goes first,
# each followed by fsync. Prints one JSON line: save times, their medians, and the daemon's CPU seconds
# (user + system, from /proc/PID/stat) spent during the mount saves and in all.
#
#   bench/scripts/mount-save.sh                      # this tree
#   SRC=/path/to/other/checkout bench/scripts/mount-save.sh   # same script, another build (before/after figures)
#
# Environment: PRESET=medium REPS=8 WORK=/tmp/excpfs-mount-save MOUNT_OPTS= EXCPFS_JAVA_OPTS="-Xmx4g -Xms2g -Dexcpfs.warmHeap=768m"
# Needs the tree built with `mvn -o -q -pl fs -am package -Dmaven.test.skip=true` (fs/target/lib).
set -euo pipefail
export LC_ALL=C.UTF-8
HERE=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${SRC:-$HERE}
PY=/usr/bin/python3
PRESET=${PRESET:-medium}
REPS=${REPS:-8}
WORK=${WORK:-/tmp/excpfs-mount-save}
MOUNT_OPTS=${MOUNT_OPTS:-}
STORE="$WORK/store" MNT="$WORK/mnt" PLAIN="$WORK/plain"
[[ -d "$SRC/fs/target/lib" ]] || { echo "build $SRC first (fs/target/lib missing)" >&2; exit 2; }
cp="$SRC/fs/target/classes:$SRC/codec/target/classes:$SRC/cache/target/classes:$SRC/fs/target/lib/*"

fusermount -u "$MNT" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$STORE" "$MNT" "$PLAIN"
opts=()
[[ -n $MOUNT_OPTS ]] && opts=(-o "$MOUNT_OPTS")
# shellcheck disable=SC2086
java ${EXCPFS_JAVA_OPTS:--Xmx4g -Xms2g -Dexcpfs.warmHeap=768m} -cp "$cp" io.excpfs.fs.cli.Main mount "$STORE" "$MNT" "${opts[@]}" -f 2>>"$WORK/daemon.log" &
DAEMON=$!
trap 'fusermount -u "$MNT" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || { cat "$WORK/daemon.log" >&2; exit 1; }
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

"$PY" - "$HERE/bench/python" "$PRESET" "$REPS" "$PLAIN/ckpt.pt" "$MNT/ckpt.pt" "$DAEMON" "$LOAD0" "$SRC" <<'PYEOF'
import json, os, statistics, sys, time
import torch
sys.path.insert(0, sys.argv[1])
import tinygpt
preset, reps, plain, mnt, daemon, load0, src = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
tick = os.sysconf("SC_CLK_TCK")

def daemon_cpu():
    f = open(f"/proc/{daemon}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

tinygpt.setup_torch()
margs = tinygpt.model_args(preset)
torch.manual_seed(1)
model = tinygpt.GPT(margs)
opt = tinygpt.make_optimizer(model, 1e-3)
bs = tinygpt.PRESETS[preset]["batch_size"]

def save(path, step):
    t0 = time.perf_counter()
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "iter_num": step}, path)
    fd = os.open(path, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return time.perf_counter() - t0

times = {"plain": [], "mount": []}
cpu_in_saves = 0.0
cpu0 = daemon_cpu()
for step in range(1, reps + 1):
    x, y = tinygpt.batch(1, step, bs, margs["block_size"])
    loss = model(x, y)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    order = [("plain", plain), ("mount", mnt)] if step % 2 else [("mount", mnt), ("plain", plain)]
    for name, path in order:
        c = daemon_cpu()
        times[name].append(save(path, step))
        if name == "mount":
            cpu_in_saves += daemon_cpu() - c
med = {k: statistics.median(v[1:]) for k, v in times.items()}
print(json.dumps({
    "src": src, "preset": preset, "bytes": os.path.getsize(plain), "reps": reps,
    "load_before": load0, "load_after": " ".join(open("/proc/loadavg").read().split()[:3]),
    "plain": [round(t, 3) for t in times["plain"]], "mount": [round(t, 3) for t in times["mount"]],
    "first_ratio": round(times["mount"][0] / times["plain"][0], 2),
    "overwrite_median_plain": round(med["plain"], 3), "overwrite_median_mount": round(med["mount"], 3),
    "overwrite_ratio": round(med["mount"] / med["plain"], 2),
    "daemon_cpu_s_during_mount_saves": round(cpu_in_saves, 2), "daemon_cpu_s_total": round(daemon_cpu() - cpu0, 2),
}))
PYEOF
cmp "$PLAIN/ckpt.pt" "$MNT/ckpt.pt" || { echo "mount copy differs from the plain copy" >&2; exit 1; }
