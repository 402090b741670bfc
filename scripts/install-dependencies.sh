#!/usr/bin/env bash
# Installs the Debian packages the framework needs, only those that are missing.
# Runs apt-get as root, or through sudo when not root.
set -euo pipefail

packages=(
  pkg-config
  libhdf5-dev        # checkpoints (libhdf5, serial)
  hdf5-tools         # h5dump, to look inside checkpoints
  libopenblas-dev    # matrix products (cblas_sgemm) and Cholesky (LAPACK)
  zlib1g-dev         # gzip-compressed IDX and CSV files
  dataset-fashion-mnist  # the embedded default data set
  python3-h5py       # proves that h5py reads our checkpoints (tests)
  python3-numpy
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
echo "Installing: ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
