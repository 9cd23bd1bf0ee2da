#!/usr/bin/env bash
# Raw data path of the mount, both FUSE transports: dd of SIZE_MB MiB (bs=1M, conv=fsync) into MNT/x and into a
# plain directory on the same disk, then a HOT first read of MNT/x with `cat` after dropping the page cache (root),
# and the same read of the plain file. Each figure is the median of REPS runs; the load average is printed beside.
# daemon_cpu_*: the daemon's CPU seconds (user + system) for the same dd and first read of a second file, the
# per-core cost that a loaded machine does not distort.
#
#   bench/scripts/mount-dd.sh                       # kernel transport (default) and libfuse, alternating
#   TRANSPORTS=kernel REPS=5 bench/scripts/mount-dd.sh
#
# Environment: SIZE_MB=256 REPS=3 WORK=/tmp/excpfs-mount-dd TRANSPORTS="kernel libfuse" EXCPFS_JAVA_OPTS=-Xmx2g
# Needs the tree built with `mvn -o -q -pl fs -am package -Dmaven.test.skip=true` (fs/target/lib).
set -euo pipefail
export LC_ALL=C.UTF-8
HERE=$(cd "$(dirname "$0")/../.." && pwd)
SIZE_MB=${SIZE_MB:-256}
REPS=${REPS:-3}
WORK=${WORK:-/tmp/excpfs-mount-dd}
TRANSPORTS=${TRANSPORTS:-kernel libfuse}
[[ -d "$HERE/fs/target/lib" ]] || { echo "build first (fs/target/lib missing)" >&2; exit 2; }
cp="$HERE/fs/target/classes:$HERE/codec/target/classes:$HERE/cache/target/classes:$HERE/fs/target/lib/*"
STORE="$WORK/store" MNT="$WORK/mnt" PLAIN="$WORK/plain"

secs() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
drop() { sync; [[ -w /proc/sys/vm/drop_caches ]] && echo 3 >/proc/sys/vm/drop_caches; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
TICK=$(getconf CLK_TCK)
cpu() { awk -v t="$TICK" '{printf "%.2f", ($14 + $15) / t}' "/proc/$DAEMON/stat"; }
# Daemon CPU seconds (user + system) spent while running a command: the per-core cost, independent of load.
cpu_of() { local c0 c1; c0=$(cpu); "$@" >/dev/null 2>&1; c1=$(cpu); echo "$c1 - $c0" | bc; }

DAEMON=
stop() { fusermount -u "$MNT" 2>/dev/null || true; [[ -n $DAEMON ]] && wait "$DAEMON" 2>/dev/null || true; DAEMON=; }
trap stop EXIT

for transport in $TRANSPORTS; do
  stop
  rm -rf "$WORK"; mkdir -p "$STORE" "$MNT" "$PLAIN"
  # shellcheck disable=SC2086
  java ${EXCPFS_JAVA_OPTS:--Xmx2g} -Dexcpfs.fuse.transport="$transport" -cp "$cp" io.excpfs.fs.cli.Main mount "$STORE" "$MNT" -f 2>>"$WORK/daemon.log" &
  DAEMON=$!
  for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
  mountpoint -q "$MNT" || { cat "$WORK/daemon.log" >&2; exit 1; }
  w_mnt=() w_plain=() r_mnt=() r_plain=() w_cpu=() r_cpu=()
  for i in $(seq "$REPS"); do
    w_mnt+=("$(secs dd if=/dev/zero of="$MNT/x" bs=1M count="$SIZE_MB" conv=fsync)")
    w_plain+=("$(secs dd if=/dev/zero of="$PLAIN/x" bs=1M count="$SIZE_MB" conv=fsync)")
    drop; r_mnt+=("$(secs cat "$MNT/x")")
    drop; r_plain+=("$(secs cat "$PLAIN/x")")
    w_cpu+=("$(cpu_of dd if=/dev/zero of="$MNT/y" bs=1M count="$SIZE_MB" conv=fsync)")
    drop; r_cpu+=("$(cpu_of cat "$MNT/y")")
  done
  grep -o "transport=[^,]*" "$WORK/daemon.log" | head -1 >&2 || true
  echo "{\"transport\": \"$transport\", \"size_mb\": $SIZE_MB, \"dd_mount_s\": $(median "${w_mnt[@]}"), \"dd_plain_s\": $(median "${w_plain[@]}"), \"hot_read_mount_s\": $(median "${r_mnt[@]}"), \"hot_read_mount_mb_s\": $(echo "$SIZE_MB * 1.048576 / $(median "${r_mnt[@]}")" | bc), \"read_plain_s\": $(median "${r_plain[@]}"), \"daemon_cpu_dd_s\": $(median "${w_cpu[@]}"), \"daemon_cpu_hot_read_s\": $(median "${r_cpu[@]}"), \"dd_mount_all\": \"${w_mnt[*]}\", \"read_mount_all\": \"${r_mnt[*]}\", \"load\": \"$(load)\"}"
done
