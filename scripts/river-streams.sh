#!/usr/bin/env bash
# Streams nobody tuned on, through the user's commands: synthetic drift streams and small
# real data sets from river (the online-learning library, installed from PyPI into a
# throw-away virtual environment, .build-reference/river; MOE_RIVER_VENV chooses another),
# written as CSV (scripts/river_streams.py). Each runs through `moe stream` with the
# default learner, its gate alone, growth off and the replay-500 baseline; the line gives
# prequential accuracy (each row predicted before it is learned), experts and seconds,
# and for image segments also the accuracy on its held-out 25% (`moe eval`). Then river's
# own prequential learners on the same files, as references. Not part of CI (it downloads
# river). docs/results.md shows its output. Usage: bash scripts/river-streams.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/learners.sh
venv="${MOE_RIVER_VENV:-.build-reference/river}"
python_venv "$venv" river,sklearn "river==0.26.*" scikit-learn
bash scripts/build.sh > /dev/null
moe=.build/release/moe
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
"$venv/bin/python" scripts/river_streams.py "$folder"
field() { "$venv/bin/python" -c "import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }
for stream in agrawal-drift sea-abrupt hyperplane-gradual rbf-drift led-drift waveform phishing bananas \
              segments-shuffled-train segments-class-train solar-flare shuttle shuttle-missing; do
  for learner in "${learners[@]}"; do
    learner_options "$learner"
    if ! json_of "$folder/$stream-$learner.json" $moe stream --source "csv:$folder/$stream.csv" --label-column last \
         "${extra[@]}" --save "$folder/$stream-$learner.h5" --json; then
      echo "$stream $learner failed: $failure"
      continue
    fi
    line="$stream $learner prequential $(printf '%.3f' "$(field "$folder/$stream-$learner.json" prequential_accuracy)")"
    line="$line, $(field "$folder/$stream-$learner.json" experts) experts"
    line="$line, $(printf '%.1f' "$("$venv/bin/python" -c "import json, sys; print(json.load(open(sys.argv[1]))['seconds']['total'])" "$folder/$stream-$learner.json")") s"
    if [[ $stream == segments-* ]]; then
      if json_of "$folder/$stream-$learner-eval.json" $moe eval "$folder/$stream-$learner.h5" \
           --source "csv:$folder/segments-test.csv" --label-column last --json; then
        line="$line, held-out $(printf '%.3f' "$(field "$folder/$stream-$learner-eval.json" test_accuracy)")"
      else
        line="$line, held-out failed: $failure"
      fi
    fi
    echo "$line"
  done
done
echo "river's own learners, prequential accuracy on the same files:"
"$venv/bin/python" scripts/river_streams.py "$folder" --reference
