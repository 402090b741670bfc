#!/usr/bin/env bash
# The README's first command: install what is missing, build in release mode, run the
# main job on the embedded default data (Fashion-MNIST).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
swift build -c release
.build/release/moe train "$@"
