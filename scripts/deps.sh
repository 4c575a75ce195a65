#!/usr/bin/env bash
# Install the Debian 12 packages secneuron needs to build and test.
# Quiet when everything is present; uses apt-get (run as root, or with sudo).
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh --fuzz   also clang and libFuzzer (for .ci/run)
set -euo pipefail

pkgs=(build-essential cmake pkg-config libssl-dev libcjson-dev libopenblas-dev)
if [[ "${1:-}" == "--fuzz" ]]; then
  pkgs+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "secneuron: installing Debian packages: ${missing[*]}" >&2
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "secneuron: need root (or sudo) to apt-get install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
