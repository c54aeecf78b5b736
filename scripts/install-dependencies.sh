#!/usr/bin/env bash
# Installs the system packages NeuralLevels needs on Debian 12 (run as root, or with sudo):
# OpenBLAS (gemm), zlib (gzip IDX files), Cairo + libpng + DejaVu fonts (charts), and
# Fashion-MNIST in MNIST's IDX format (/usr/share/datasets/fashion-mnist).
# python3-numpy runs the NumPy replay of References/ in the tests (compare-levels --references).
# Installs only what is missing, so it is quick when everything is there.
set -euo pipefail
packages=(libopenblas-dev zlib1g-dev libcairo2-dev libpng-dev fonts-dejavu-core dataset-fashion-mnist pkg-config python3-numpy)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -q
    $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
