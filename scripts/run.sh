#!/usr/bin/env bash
# The README's first command: install what is missing, build in release mode, and run
# the main job on the embedded default data: Split Fashion-MNIST streamed through the
# learner (experts grow automatically), saved to Checkpoints/, loaded back and
# evaluated, with the accuracy matrix, the growth events and a report folder.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
swift build -c release
moe=.build/release/moe
$moe stream --scenario split-fmnist --save Checkpoints/split-fmnist.h5 --report reports/split-fmnist "$@"
echo
echo "== loading Checkpoints/split-fmnist.h5 back and evaluating it on the Fashion-MNIST test set"
$moe eval Checkpoints/split-fmnist.h5
echo
echo "== what the checkpoint holds"
$moe inspect Checkpoints/split-fmnist.h5 | head -40
