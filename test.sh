#!/usr/bin/env bash
# Runs every test of excpfs, including the slow ones (real trainer checkpoints through torch, real FUSE mounts).
# On Debian 12 as root it first installs what the tests need.
set -euo pipefail
export LC_ALL=C.UTF-8
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"

pkgs=(fuse libfuse2 python3-torch libopenblas0-pthread p7zip-full util-linux-extra)
command -v java >/dev/null || pkgs+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || pkgs+=(maven)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "test.sh: missing packages ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${missing[@]}"
fi

# excluded.groups is empty: tests tagged "slow" run too.
exec mvn -B install -Dexcluded.groups= "$@"
