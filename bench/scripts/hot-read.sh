#!/usr/bin/env bash
# First read of a HOT file through the mount (kernel transport), with the daemon's CPU split by thread kind.
# Mounts a fresh store from the build at SRC, then REPS times: writes SIZE_MB of random bytes into MNT/fN (sealed
# HOT at close), drops the page cache (root), and times `cat MNT/fN`. Per read it prints the wall seconds, MB/s and
# the daemon's CPU in milliseconds from /proc/PID/task/*/schedstat (nanosecond run time per thread): fuse (the
# FUSE workers: the read path itself), jit, gc and other; the load average beside. One warm-up read (JIT) is not
# counted. The last line has the medians. CPU time is the per-core cost a loaded machine does not distort; wall
# figures are only comparable at the same load.
#
#   bench/scripts/hot-read.sh                         # this checkout
#   SRC=/path/to/other/checkout bench/scripts/hot-read.sh   # another build (before/after)
#
# Environment: SRC=. SIZE_MB=256 REPS=5 WORK=/tmp/excpfs-hot-read EXCPFS_JAVA_OPTS=-Xmx2g JAVA_OPTS (extra, e.g.
# -Dexcpfs.fuse.threads=4). Needs the build at SRC: `mvn -o -q -B -pl fs -am package -Dmaven.test.skip=true`.
set -euo pipefail
export LC_ALL=C.UTF-8
HERE=$(cd "$(dirname "$0")/../.." && pwd)
SRC=$(cd "${SRC:-$HERE}" && pwd)
SIZE_MB=${SIZE_MB:-256}
REPS=${REPS:-5}
WORK=${WORK:-/tmp/excpfs-hot-read}
[[ -d "$SRC/fs/target/lib" ]] || { echo "build $SRC first (fs/target/lib missing)" >&2; exit 2; }
[[ -w /proc/sys/vm/drop_caches ]] || { echo "needs root (drop_caches)" >&2; exit 2; }
cp="$SRC/fs/target/classes:$SRC/codec/target/classes:$SRC/cache/target/classes:$SRC/fs/target/lib/*"
STORE="$WORK/store" MNT="$WORK/mnt"

DAEMON=
stop() { fusermount -u "$MNT" 2>/dev/null || true; [[ -n $DAEMON ]] && wait "$DAEMON" 2>/dev/null || true; DAEMON=; }
trap stop EXIT
fusermount -u "$MNT" 2>/dev/null || true
rm -rf "$WORK"; mkdir -p "$STORE" "$MNT"
# shellcheck disable=SC2086
java ${EXCPFS_JAVA_OPTS:--Xmx2g} ${JAVA_OPTS:-} -Dexcpfs.fuse.transport=kernel -cp "$cp" io.excpfs.fs.cli.Main mount "$STORE" "$MNT" -f 2>>"$WORK/daemon.log" &
DAEMON=$!
for _ in $(seq 600); do mountpoint -q "$MNT" && break; sleep 0.1; done
mountpoint -q "$MNT" || { cat "$WORK/daemon.log" >&2; exit 1; }
head -c "${SIZE_MB}M" /dev/urandom >"$WORK/random"

# "kind ns" per thread of the daemon
threads() {
  for t in /proc/"$DAEMON"/task/*; do
    local name ns
    name=$(cat "$t/comm" 2>/dev/null) || continue
    ns=$(cut -d' ' -f1 "$t/schedstat" 2>/dev/null) || continue
    case $name in
      fuse-kernel*) echo "fuse $ns" ;;
      C1\ Comp*|C2\ Comp*) echo "jit $ns" ;;
      G1*|GC*|VM\ Thread) echo "gc $ns" ;;
      *) echo "other $ns" ;;
    esac
  done | awk '{a[$1] += $2} END {printf "%d %d %d %d\n", a["fuse"], a["jit"], a["gc"], a["other"]}'
}
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

walls=() fuses=() totals=()
for i in $(seq 0 "$REPS"); do
  f="$MNT/f$i"
  cp "$WORK/random" "$f"
  sync; echo 3 >/proc/sys/vm/drop_caches; sleep 0.5
  read -r f0 j0 g0 o0 <<<"$(threads)"
  t0=$(date +%s.%N); cat "$f" >/dev/null; t1=$(date +%s.%N)
  read -r f1 j1 g1 o1 <<<"$(threads)"
  wall=$(echo "$t1 - $t0" | bc)
  fuse=$(( (f1 - f0) / 1000000 )) jit=$(( (j1 - j0) / 1000000 )) gc=$(( (g1 - g0) / 1000000 )) other=$(( (o1 - o0) / 1000000 ))
  total=$(( fuse + jit + gc + other ))
  mbs=$(echo "$SIZE_MB * 1.048576 / $wall" | bc)
  tag=$([[ $i == 0 ]] && echo "warm-up" || echo "read $i")
  echo "$tag: wall ${wall} s, ${mbs} MB/s; daemon cpu ${total} ms (fuse ${fuse}, jit ${jit}, gc ${gc}, other ${other}); load $(cut -d' ' -f1-3 /proc/loadavg)"
  if [[ $i != 0 ]]; then walls+=("$wall"); fuses+=("$fuse"); totals+=("$total"); fi
  rm -f "$f"
done
w=$(median "${walls[@]}")
echo "median of $REPS (${SIZE_MB} MiB, build $SRC): wall $w s, $(echo "$SIZE_MB * 1.048576 / $w" | bc) MB/s; daemon cpu $(median "${totals[@]}") ms, fuse workers $(median "${fuses[@]}") ms; load $(cut -d' ' -f1-3 /proc/loadavg)"
