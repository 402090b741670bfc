#!/usr/bin/env bash
# Long streams: five of river's generators at 1,000,000 rows each (scripts/long_streams.py:
# recurring and abrupt changes of concept, gradual drift, drifting and stationary
# centroids), streamed through `moe stream` by the default learner, its gate alone and
# the replay-500 baseline, one BLAS thread each. A line gives the prequential accuracy
# (each row predicted before it is learned), the experts, the seconds and the peak
# resident memory. River is installed from PyPI into a throw-away virtual environment
# (.build-reference/river, shared with river-streams.sh; MOE_RIVER_VENV chooses another).
# Not part of CI: about 25 minutes. docs/results.md (*Long streams*) shows its output.
# Usage: bash scripts/long-streams.sh [ROWS]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/learners.sh
venv="${MOE_RIVER_VENV:-.build-reference/river}"
python_venv "$venv" river "river==0.26.*"
[ -x /usr/bin/time ] || apt-get install -y time > /dev/null
bash scripts/build.sh > /dev/null
moe=.build/release/moe
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
"$venv/bin/python" scripts/long_streams.py "$folder" "${1:-1000000}"
field() { "$venv/bin/python" -c "import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }
for stream in sea-recurring agrawal-ten hyperplane-long rbf-long rbf-stationary; do
  for learner in default gate replay-500; do
    learner_options "$learner"
    if ! json_of "$folder/$stream-$learner.json" env MOE_BLAS_THREADS=1 /usr/bin/time -f "%M" -o "$folder/memory" \
         $moe stream --source "csv:$folder/$stream.csv" --label-column last "${extra[@]}" --json; then
      echo "$stream $learner failed: $failure"
      continue
    fi
    echo "$stream $learner prequential $(field "$folder/$stream-$learner.json" "'%.4f' % prequential_accuracy")," \
      "$(field "$folder/$stream-$learner.json" experts) experts," \
      "$(field "$folder/$stream-$learner.json" "'%.1f' % seconds['total']") s," \
      "$(( $(tail -1 "$folder/memory") / 1024 )) MiB"
  done
done
