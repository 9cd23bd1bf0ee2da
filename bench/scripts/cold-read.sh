#!/usr/bin/env bash
# First read of a COLD checkpoint through the mount: mounts a copy of STORE read-only on a fresh daemon, drops the
# page cache, times a sequential read of MNT/.excp/history/FILE@N in 128 KiB requests (as `cat` does) for each N
# in VERSIONS (a fresh daemon per read, so nothing is cached), REPS times. Prints one line per read: wall seconds,
# MB/s, when the first 128 KiB arrived, the daemon's CPU seconds spent in the read (user + system from
# /proc/PID/stat) and by kind of thread (decode: object reader, chain and decode pool; jit: C1/C2 compilers; gc:
# G1 and VM threads; fuse: the FUSE loop), the load average before it and how long the daemon's decoder warm-up
# took; then a warm re-read of the last version on the same daemon.
#
#   bench/scripts/cold-read.sh                                   # store of the lead's medium-GPT run
#   STORE=/path/to/store FILE=ckpt.pt VERSIONS="2 1" REPS=3 bench/scripts/cold-read.sh
#   SRC=/path/to/other/checkout bench/scripts/cold-read.sh      # same script, another build (before/after)
#
# Needs root (drop_caches) and the tree built with `mvn -o -q -B -pl fs -am package -Dmaven.test.skip=true`.
# Environment: STORE=/tmp/coldread-bench/store FILE=ckpt.pt VERSIONS="2 1" REPS=3 WORK=/tmp/excpfs-cold-read
#              EXCPFS_JAVA_OPTS="-Xmx4g -Xms2g -Dexcpfs.warmHeap=768m" (the launcher's) DROP=1 (0: keep the page cache, e.g. without root)
#              NICE=-20 runs the daemon and cat at that nice level (root), so that on a machine busy with other work
#              they get the cores first: a stand-in for an idle machine, not a replacement
#              SAME_DAEMON=1 reads VERSIONS in order on one daemon per rep (page cache dropped before each read), e.g.
#              VERSIONS="1 2" SAME_DAEMON=1: a residual read on its cached base
#              WARMUP=30: a read starts once the daemon logged the end of its decoder warm-up (at most this many
#              seconds after the mount answered), plus 0.5 s
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
WARMUP=${WARMUP:-30}
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
  local warm0
  warm0=$(grep -c "decoder warm-up" "$WORK/daemon.log" 2>/dev/null || true)
  nice -n "$NICE" java ${EXCPFS_JAVA_OPTS:--Xmx4g -Xms2g -Dexcpfs.warmHeap=768m} "${jfr[@]}" -cp "$cp" io.excpfs.fs.cli.Main --log-level info mount "$STORE" "$MNT" -o ro -f 2>>"$WORK/daemon.log" &
  DAEMON=$!
  for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
  mountpoint -q "$MNT" || { cat "$WORK/daemon.log" >&2; exit 1; }
  # the decoder warm-up of a fresh daemon (DecoderWarmUp) runs first, as it would on a mount serving reads later:
  # wait for its log line (at most WARMUP seconds), then 0.5 s for the JIT compiler to drain its queue
  for _ in $(seq $((WARMUP * 10))); do
    (( $(grep -c "decoder warm-up" "$WORK/daemon.log" || true) > ${warm0:-0} )) && break
    sleep 0.1
  done
  WARMED=$(grep "decoder warm-up" "$WORK/daemon.log" | tail -1 | sed 's/.*decoder warm-up //')
  sleep 0.5
}

# CPU seconds of the daemon's threads by kind: decode (object read, chain, decode pool), jit, gc, fuse, other
threads() {
  local t n
  for t in /proc/"$DAEMON"/task/*; do
    n=$(tr ' ' _ <"$t/comm" 2>/dev/null) || continue
    awk -v n="$n" -v id="${t##*/}" '{ k = split($0, a, ")"); split(a[k], f, " "); print id, n, f[12] + f[13] }' "$t/stat" 2>/dev/null
  done
}
breakdown() { # before after -> "decode X jit X gc X fuse X other X"
  awk -v tick="$tick" 'NR == FNR { b[$1] = $3; next } {
      d = ($3 - b[$1]) / tick; k = "other"
      if ($2 ~ /^excpfs-(chain|decode|object)/) k = "decode"; else if ($2 ~ /^C[12]_Compiler/) k = "jit"
      else if ($2 ~ /^(GC_Thread|G1_|VM_Thread)/) k = "gc"; else if ($2 ~ /^fuse/) k = "fuse"
      s[k] += d } END { printf "decode %.2f jit %.2f gc %.2f fuse %.2f other %.2f", s["decode"], s["jit"], s["gc"], s["fuse"], s["other"] }' "$1" "$2"
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
    threads >"$WORK/threads.0"
    read -r secs bytes first < <(timed_cat "$path")
    c1=$(cpu)
    threads >"$WORK/threads.1"
    printf 'rep %d  @%-3s %s %6.3f s  %7.1f MB/s  first 128 KiB after %6.3f s  daemon cpu %5.2f s (%s)  load %s  (warm-up %s)\n' \
      "$rep" "$v" "$([[ $SAME_DAEMON == 1 ]] && echo "read      " || echo "first read")" "$secs" "$(echo "$bytes / $secs / 1000000" | bc -l)" "$first" "$(echo "$c1 - $c0" | bc -l)" \
      "$(breakdown "$WORK/threads.0" "$WORK/threads.1")" "$load" "${WARMED:-?}"
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
