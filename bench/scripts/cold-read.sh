#!/usr/bin/env bash
# First read of a COLD checkpoint through the mount: mounts a copy of STORE read-only on a fresh daemon, drops the
# page cache, times a sequential read of MNT/.excp/history/FILE@N in 128 KiB requests (as `cat` does) for each N
# in VERSIONS (a fresh daemon per read, so nothing is cached), REPS times. Prints one line per read: wall seconds,
# MB/s, when the first 128 KiB arrived, the daemon's CPU seconds spent in the read (user + system from
# /proc/PID/stat) and the load average before it; then a warm re-read of the last version on the same daemon.
#
#   bench/scripts/cold-read.sh                                   # store of the lead's medium-GPT run
#   STORE=/path/to/store FILE=ckpt.pt VERSIONS="2 1" REPS=3 bench/scripts/cold-read.sh
#   SRC=/path/to/other/checkout bench/scripts/cold-read.sh      # same script, another build (before/after)
#
# Needs root (drop_caches) and the tree built with `mvn -o -q -B -pl fs -am package -Dmaven.test.skip=true`.
# Environment: STORE=/tmp/coldread-bench/store FILE=ckpt.pt VERSIONS="2 1" REPS=3 WORK=/tmp/excpfs-cold-read
#              EXCPFS_JAVA_OPTS=-Xmx4g DROP=1 (0: keep the page cache, e.g. without root)
#              NICE=-20 runs the daemon and cat at that nice level (root), so that on a machine busy with other work
#              they get the cores first: a stand-in for an idle machine, not a replacement
#              SAME_DAEMON=1 reads VERSIONS in order on one daemon per rep (page cache dropped before each read), e.g.
#              VERSIONS="1 2" SAME_DAEMON=1: a residual read on its cached base
#              JFR=DIR records each daemon with Java Flight Recorder (profile settings) into DIR/rep<R>-v<N>.jfr
set -euo pipefail
export LC_ALL=C.UTF-8
HERE=$(cd "$(dirname "$0")/../.." && pwd)
SRC=${SRC:-$HERE}
STORE_IN=${STORE:-/tmp/coldread-bench/store}
FILE=${FILE:-ckpt.pt}
VERSIONS=${VERSIONS:-2 1}
REPS=${REPS:-3}
WORK=${WORK:-/tmp/excpfs-cold-read}
DROP=${DROP:-1}
NICE=${NICE:-0}
SAME_DAEMON=${SAME_DAEMON:-0}
JFR=${JFR:-}
STORE="$WORK/store" MNT="$WORK/mnt"
[[ -d "$SRC/fs/target/lib" ]] || { echo "build $SRC first (fs/target/lib missing)" >&2; exit 2; }
cp="$SRC/fs/target/classes:$SRC/codec/target/classes:$SRC/cache/target/classes:$SRC/fs/target/lib/*"
tick=$(getconf CLK_TCK)

fusermount -u "$MNT" 2>/dev/null || true
rm -rf "$WORK"
mkdir -p "$WORK" "$MNT"
cp -a "$STORE_IN" "$STORE"
rm -f "$STORE/lock"

DAEMON=
stop() {
  if [[ -n $DAEMON ]]; then
    fusermount -u "$MNT" 2>/dev/null || true
    wait "$DAEMON" 2>/dev/null || true
    DAEMON=
  fi
}
trap stop EXIT

start() { # [jfr file name]
  local jfr=()
  if [[ -n $JFR ]]; then mkdir -p "$JFR"; jfr=("-XX:StartFlightRecording=settings=profile,filename=$JFR/$1.jfr"); fi
  # shellcheck disable=SC2086
  nice -n "$NICE" java ${EXCPFS_JAVA_OPTS:--Xmx4g} "${jfr[@]}" -cp "$cp" io.excpfs.fs.cli.Main mount "$STORE" "$MNT" -o ro -f 2>>"$WORK/daemon.log" &
  DAEMON=$!
  for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
  mountpoint -q "$MNT" || { cat "$WORK/daemon.log" >&2; exit 1; }
  sleep 2 # the decoder warm-up of a fresh daemon (DecoderWarmUp) runs first, as it would on a mount serving reads
}

cpu() { awk -v t="$tick" '{ n = split($0, a, ")"); split(a[n], f, " "); printf "%.2f", (f[12] + f[13]) / t }' "/proc/$DAEMON/stat"; }

timed_cat() { # path -> "seconds bytes first-byte-seconds": open, then a sequential read in 128 KiB requests as cat does
  nice -n "$NICE" /usr/bin/python3 - "$1" <<'PYEOF'
import os, sys, time
t0 = time.perf_counter()
fd = os.open(sys.argv[1], os.O_RDONLY)
n = len(os.read(fd, 131072))
first = time.perf_counter() - t0
while True:
    b = os.read(fd, 131072)
    if not b:
        break
    n += len(b)
print(f"{time.perf_counter() - t0:.3f} {n} {first:.3f}")
PYEOF
}

echo "store $STORE_IN, file $FILE, versions $VERSIONS, reps $REPS, build $SRC, $(nproc) cores, nice $NICE"
for rep in $(seq "$REPS"); do
  [[ $SAME_DAEMON == 1 ]] && start "rep$rep"
  for v in $VERSIONS; do
    [[ $SAME_DAEMON == 1 ]] || start "rep$rep-v$v"
    path="$MNT/.excp/history/$FILE@$v"
    [[ -e $path ]] || { echo "no $path" >&2; ls "$MNT/.excp/history" >&2; exit 1; }
    if [[ $DROP == 1 ]]; then sync; echo 3 > /proc/sys/vm/drop_caches; fi
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    c0=$(cpu)
    read -r secs bytes first < <(timed_cat "$path")
    c1=$(cpu)
    printf 'rep %d  @%-3s %s %6.3f s  %7.1f MB/s  first 128 KiB after %6.3f s  daemon cpu %5.2f s  load %s\n' \
      "$rep" "$v" "$([[ $SAME_DAEMON == 1 ]] && echo "read      " || echo "first read")" "$secs" "$(echo "$bytes / $secs / 1000000" | bc -l)" "$first" "$(echo "$c1 - $c0" | bc -l)" "$load"
    if [[ $rep == "$REPS" && $v == "${VERSIONS##* }" ]]; then
      c0=$(cpu)
      read -r secs bytes first < <(timed_cat "$path")
      c1=$(cpu)
      printf 'rep %d  @%-3s warm re-read %6.3f s  %7.1f MB/s  daemon cpu %5.2f s  load %s\n' "$rep" "$v" "$secs" \
        "$(echo "$bytes / $secs / 1000000" | bc -l)" "$(echo "$c1 - $c0" | bc -l)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    fi
    [[ $SAME_DAEMON == 1 ]] || stop
  done
  stop
done
