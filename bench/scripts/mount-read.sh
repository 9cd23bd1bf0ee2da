#!/usr/bin/env bash
# First read of a HOT file after a fresh mount: a daemon of each build in BUILDS in turn on the same store, WAIT
# seconds after the mount (the daemon's warm-ups run), page cache dropped (needs root), `cat` of a SIZE_MB random
# file; prints per run the cat time, MB/s, the daemon's CPU seconds (user + system, /proc/PID/stat) during the cat
# and during the wait, and the load average. Then the same read again with the page cache dropped (warm daemon).
#
#   bench/scripts/mount-read.sh                                  # this tree
#   BUILDS="/path/to/before /path/to/after" ROUNDS=3 bench/scripts/mount-read.sh   # A/B, alternating
#
# Environment: BUILDS=<this tree> ROUNDS=3 SIZE_MB=256 WAIT=4 WORK=/tmp/excpfs-mount-read EXCPFS_JAVA_OPTS=-Xmx4g
# Each build needs `mvn -o -q -pl fs -am package -Dmaven.test.skip=true` (fs/target/lib).
set -euo pipefail
export LC_ALL=C.UTF-8
HERE=$(cd "$(dirname "$0")/../.." && pwd)
BUILDS=${BUILDS:-$HERE}
ROUNDS=${ROUNDS:-3}
SIZE_MB=${SIZE_MB:-256}
WAIT=${WAIT:-4}
WORK=${WORK:-/tmp/excpfs-mount-read}
STORE="$WORK/store" MNT="$WORK/mnt"
[[ -w /proc/sys/vm/drop_caches ]] || { echo "needs root (drops the page cache)" >&2; exit 2; }
for b in $BUILDS; do [[ -d "$b/fs/target/lib" ]] || { echo "build $b first (fs/target/lib missing)" >&2; exit 2; }; done

fusermount -u "$MNT" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$STORE" "$MNT"
trap 'fusermount -u "$MNT" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
cpu() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
now() { date +%s.%N; }
start() {
  local cp="$1/fs/target/classes:$1/codec/target/classes:$1/cache/target/classes:$1/fs/target/lib/*"
  # shellcheck disable=SC2086
  java ${EXCPFS_JAVA_OPTS:--Xmx4g} -cp "$cp" io.excpfs.fs.cli.Main mount "$STORE" "$MNT" -f 2>>"$WORK/daemon.log" &
  DAEMON=$!
  for _ in $(seq 600); do mountpoint -q "$MNT" && return; sleep 0.1; done
  cat "$WORK/daemon.log" >&2
  exit 1
}
stop() { fusermount -u "$MNT"; wait "$DAEMON" || true; }

start "${BUILDS%% *}"
head -c "${SIZE_MB}M" /dev/urandom >"$MNT/file"
stop

read_once() {
  sync
  echo 3 >/proc/sys/vm/drop_caches
  local c0 t0 t1 c1
  c0=$(cpu "$DAEMON"); t0=$(now)
  cat "$MNT/file" >/dev/null
  t1=$(now); c1=$(cpu "$DAEMON")
  python3 -c "import sys; s = $t1 - $t0; print(f'{s:.2f} s ({$SIZE_MB * 1048576 / 1e6 / s:.0f} MB/s), daemon CPU {$c1 - $c0:.2f} s', end='')"
}
for round in $(seq "$ROUNDS"); do
  for b in $BUILDS; do
    start "$b"
    c0=$(cpu "$DAEMON")
    sleep "$WAIT"
    c1=$(cpu "$DAEMON")
    first=$(read_once)
    again=$(read_once)
    echo "$b round $round: first read $first; again (warm daemon) $again; daemon CPU in the ${WAIT} s after mounting $(python3 -c "print(f'{$c1 - $c0:.2f}')") s; load $(cut -d' ' -f1-3 /proc/loadavg)"
    stop
  done
done
