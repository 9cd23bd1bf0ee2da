#!/usr/bin/env bash
# Usage: bench/compaction_rotation.sh KEEP_LAST [CHECKPOINTS]. Rotates nanoGPT-style checkpoint dirs (gen_run.py, real
# torch.save files) through a mount like save_total_limit=1, with keep_last=KEEP_LAST; prints the object file bytes after each.
set -euo pipefail
export LC_ALL=C.UTF-8
keep=$1; n=${2:-10}
wt="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
base=${TMPDIR:-/tmp}/excpfs-compaction-k$keep
rm -rf "$base"; mkdir -p "$base/mnt"
/usr/bin/python3 $wt/fs/src/test/resources/io/excpfs/fs/cli/gen_run.py "$base/src" "$n" >/dev/null
$wt/excpfs mount "$base/store" "$base/mnt" -o keep_last=$keep >/dev/null
trap 'fusermount -u "$base/mnt" || true' EXIT
mkdir -p "$base/mnt/run"
prev=""
for d in $(ls "$base/src" | grep checkpoint- | sort -t- -k2 -n); do
  cp -r "$base/src/$d" "$base/mnt/run/"
  [[ -n "$prev" ]] && rm -rf "$base/mnt/run/$prev"
  prev=$d
  $wt/excpfs flush "$base/mnt"
  echo "$d object_file_bytes=$(find "$base/store/objects" -type f -printf "%s\n" | awk "{s+=\$1} END {print s}")"
done
echo "raw checkpoint bytes: $(stat -c %s "$base/src/$prev/ckpt.pt")"
fusermount -u "$base/mnt"; trap - EXIT
$wt/excpfs stats "$base/store" --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print("stored_bytes", d["stored_bytes"], "reclaimed_bytes", d["reclaimed_bytes"], "versions", len(d["versions"]), [(v["id"], v["kind"], v["status"], v["stored_bytes"]) for v in d["versions"]])'
$wt/excpfs verify "$base/store" --deep
