#!/usr/bin/env bash
# PyTorch beside `moe bench`: the same MLP (784-256-128-10, ReLU), the same optimizer
# (Adam 1e-3), the same batches (the first 16,384 Fashion-MNIST training rows), with 1
# and 2 threads, then one comparison table. Not part of CI: it downloads PyTorch.
#
#   bash scripts/bench-reference.sh                 # one round
#   ROUNDS=3 bash scripts/bench-reference.sh        # three rounds, PyTorch and moe in turn
#   bash scripts/bench-reference.sh --repeats 15    # options after the script go to moe bench
#
# CPU PyTorch goes into a throw-away virtual environment, .build-reference/venv (ignored
# by git, like .build; delete it at will; MOE_REFERENCE_VENV chooses another folder). It
# tries PyTorch's CPU-only wheel index first and falls back to PyPI's default wheel
# (larger: it bundles CUDA libraries it will not use here).
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/learners.sh
venv="${MOE_REFERENCE_VENV:-.build-reference/venv}"
rounds="${ROUNDS:-1}"
threads="${REFERENCE_THREADS:-1,2}"
batches="${REFERENCE_BATCHES:-32,128,512}"
repeats="${REFERENCE_REPEATS:-9}"

torch_venv "$venv"

bash scripts/build.sh >&2
moe=.build/release/moe

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for round in $(seq 1 "$rounds"); do
    echo "round $round of $rounds: load $(cut -d ' ' -f 1-3 /proc/loadavg)" >&2
    "$venv/bin/python" -W ignore scripts/bench_reference.py --threads "$threads" --batches "$batches" \
        --repeats "$repeats" > "$work/pytorch-$round.json"
    "$moe" bench --reference "$work/pytorch-$round.json" --batches "$batches" --repeats "$repeats" "$@"
done
