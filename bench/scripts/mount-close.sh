#!/usr/bin/env bash
# What the close of a write-only descriptor costs through the mount (kernel transport, FOPEN_DIRECT_IO on 6.6+:
# the close answers its FLUSH after FUSE_NOTIFY_INVAL_INODE, and seals the version). REPS times: open(MNT/fK, "wb"),
# write SIZE bytes, close; K cycles over FILES names (in-place overwrites, as a trainer's `last.ckpt`). Prints one
# JSON line: medians and p90 of the write and close times (ms), the daemon's CPU seconds, the load average.
#
#   bench/scripts/mount-close.sh                          # this tree
#   SRC=/path/to/other/build bench/scripts/mount-close.sh  # another build (before/after figures)
#
# Environment: REPS=300 SIZE=1048576 FILES=4 WORK=/tmp/excpfs-mount-close EXCPFS_JAVA_OPTS="-Xmx1g"
# Needs the tree built with `mvn -o -q -pl fs -am package -Dmaven.test.skip=true` (fs/target/lib).
set -euo pipefail
export LC_ALL=C.UTF-8
HERE=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${SRC:-$HERE}
REPS=${REPS:-300}
SIZE=${SIZE:-1048576}
FILES=${FILES:-4}
WORK=${WORK:-/tmp/excpfs-mount-close}
STORE="$WORK/store" MNT="$WORK/mnt"
[[ -d "$SRC/fs/target/lib" ]] || { echo "build $SRC first (fs/target/lib missing)" >&2; exit 2; }
cp="$SRC/fs/target/classes:$SRC/codec/target/classes:$SRC/cache/target/classes:$SRC/fs/target/lib/*"

fusermount -u "$MNT" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$STORE" "$MNT"
# shellcheck disable=SC2086
java ${EXCPFS_JAVA_OPTS:--Xmx1g} -cp "$cp" io.excpfs.fs.cli.Main mount "$STORE" "$MNT" -o mode=lossless -f 2>>"$WORK/daemon.log" &
DAEMON=$!
trap 'fusermount -u "$MNT" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || { cat "$WORK/daemon.log" >&2; exit 1; }

/usr/bin/python3 - "$MNT" "$REPS" "$SIZE" "$FILES" "$DAEMON" "$SRC" <<'PYEOF'
import json, os, statistics, sys, time
mnt, reps, size, files, daemon, src = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
tick = os.sysconf("SC_CLK_TCK")

def daemon_cpu():
    f = open(f"/proc/{daemon}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tick

data = os.urandom(size)
writes, closes = [], []
cpu0, load0 = daemon_cpu(), os.getloadavg()
for i in range(reps):
    fd = os.open(os.path.join(mnt, f"f{i % files}"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t0 = time.perf_counter()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    t1 = time.perf_counter()
    os.close(fd)
    t2 = time.perf_counter()
    writes.append((t1 - t0) * 1e3)
    closes.append((t2 - t1) * 1e3)

def p90(xs):
    return sorted(xs)[int(len(xs) * 0.9)]

print(json.dumps({"src": src, "reps": reps, "size": size, "write_ms_median": round(statistics.median(writes), 3),
                  "write_ms_p90": round(p90(writes), 3), "close_ms_median": round(statistics.median(closes), 3),
                  "close_ms_p90": round(p90(closes), 3), "daemon_cpu_s": round(daemon_cpu() - cpu0, 2),
                  "loadavg_before": load0, "loadavg_after": os.getloadavg()}))
PYEOF
