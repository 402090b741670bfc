#!/usr/bin/env bash
# Reproduces the tables of docs/results.md with the release build, seed 1 unless given:
#   1. the stream suite (moe suite): every named stream, in memory and from CSV, with the
#      default learner, its gate alone, growth off and replay-500 -> results/suite/;
#   2. the ablations: the default learner with one part switched off by a learner
#      configuration (scripts/ablations/*.json) on Split, class-ordered, blurry and
#      Permuted Fashion-MNIST -> results/ablations/;
#   3. the learner's own training step against moe train on the joint stream.
# Takes about half an hour on 2 cores. Usage: bash scripts/results.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}
bash scripts/build.sh
moe=.build/release/moe
mkdir -p results/ablations results/joint

$moe suite --seed "$seed" --out results/suite --json > results/suite/summary.json

streams=(split-fmnist class-ordered-fmnist blurry-fmnist permuted-fmnist)
for stream in "${streams[@]}"; do
  echo "== $stream: default" >&2
  $moe stream --seed "$seed" --scenario "$stream" --json 2>/dev/null | tail -1 > "results/ablations/$stream-default.json"
  for config in scripts/ablations/*.json; do
    name=$(basename "$config" .json)
    echo "== $stream: $name" >&2
    $moe stream --seed "$seed" --scenario "$stream" --learner-config "$config" --json 2>/dev/null | tail -1 \
      > "results/ablations/$stream-$name.json"
  done
done
python3 scripts/ablation_table.py results/ablations "${streams[@]}" > results/ablations/ablations.md
cat results/ablations/ablations.md

echo "== joint stream (the learner's training step) against moe train, 2 passes" >&2
$moe stream --seed "$seed" --joint --growth off --replay 0 --gate learned --passes 2 --json 2>/dev/null | tail -1 \
  > results/joint/stream.json
$moe train --seed "$seed" --epochs 2 --hidden 256,256 --json 2>/dev/null | tail -1 > results/joint/train.json
cat results/joint/stream.json results/joint/train.json
