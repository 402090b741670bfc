#!/usr/bin/env bash
# Streams of shapes the learner was never tuned on, through the user's commands: 100 and
# 500 classes (shuffled and in class order), 3,000 columns, 210,000 rows (also at one row
# a batch), and columns in units 1e30 apart with a constant, a copied column and labels
# holding commas and quotes (scripts/shape_streams.py draws them from Gaussian classes).
# Each runs with the default learner, its gate alone, growth off and the replay-500
# baseline, is scored on its held-out fifth by moe eval, and prints one line per run with
# the seconds the stream took and the process's peak memory; then an offline shrunk LDA
# for reference. Outside CI (it installs python3-sklearn and time); docs/results.md,
# *Shapes nobody tuned for*, shows its output.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/learners.sh
missing=()
/usr/bin/python3 -c "import sklearn" 2>/dev/null || missing+=(python3-sklearn)
[ -x /usr/bin/time ] || missing+=(time)
[ ${#missing[@]} = 0 ] || apt-get install -y "${missing[@]}" > /dev/null
bash scripts/build.sh > /dev/null
moe=.build/release/moe
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
/usr/bin/python3 scripts/shape_streams.py "$folder"
field() { /usr/bin/python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }
run() {  # run NAME LEARNER [moe stream options...]
  local stream=$1 learner=$2 run="$folder/$1-$2"
  shift 2
  learner_options "$learner"
  if json_of "$run.json" /usr/bin/time -f %M -o "$run.rss" $moe stream --source "csv:$folder/$stream-train.csv" \
       --label-column last "${extra[@]}" "$@" --save "$run.h5" --json \
     && json_of "$run-eval.json" $moe eval "$run.h5" --source "csv:$folder/$stream-test.csv" --label-column last --json; then
    echo "$stream $learner${*:+ $*} test accuracy $(field "$run-eval.json" "'%.3f' % test_accuracy")," \
      "$(field "$run.json" experts) experts, $(field "$run.json" "'%.1f' % seconds['total']") s," \
      "peak $(( $(tail -1 "$run.rss") / 1024 )) MiB"
  else
    echo "$stream $learner${*:+ $*} failed: $failure"
  fi
  rm -f "$run.h5"
}
for stream in $(/usr/bin/python3 scripts/shape_streams.py --names); do
  for learner in "${learners[@]}"; do run "$stream" "$learner"; done
done
run long-210k default --batch-size 1
"/usr/bin/python3" scripts/shape_streams.py --reference "$folder"
