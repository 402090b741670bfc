#!/usr/bin/env bash
# Reproduces every row of docs/results.md: the method and the baselines through the same
# code path (`moe stream`), each printing its JSON summary into results/NAME.json and
# its peak memory (from /usr/bin/time -v) into results/NAME.err.
# Takes about 20-30 minutes on 2 cores. Usage: bash scripts/results.sh [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-1}
swift build -c release
mkdir -p results
run() {
  local name=$1; shift
  echo "== $name: moe stream --json $*" >&2
  /usr/bin/time -v .build/release/moe stream --json "$@" > "results/$name.out" 2> "results/$name.err"
  tail -1 "results/$name.out" > "results/$name.json"
  cat "results/$name.json"
}
run split-method          --seed "$seed"
run split-method-noreplay --seed "$seed" --replay 0
run split-gate-only       --seed "$seed" --predictor discriminant
run split-finetune        --seed "$seed" --growth off --replay 0 --gate learned
run split-replay          --seed "$seed" --growth off --replay 500 --gate learned
run split-joint           --seed "$seed" --joint --growth off --replay 0 --gate learned
run permuted-method       --seed "$seed" --scenario permuted-fmnist --passes 1
run permuted-finetune     --seed "$seed" --scenario permuted-fmnist --passes 1 --growth off --replay 0 --gate learned
run permuted-replay       --seed "$seed" --scenario permuted-fmnist --passes 1 --growth off --replay 500 --gate learned
