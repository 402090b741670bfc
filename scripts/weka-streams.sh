#!/usr/bin/env bash
# Weka's example ARFF files, streamed as ARFF through the user's commands: the 23 files
# Debian's `weka` package ships (usr/share/doc/weka/examples: soybean, credit-g, vote,
# segment, Reuters' corn and grain texts, supermarket baskets, …), fetched with
# `apt-get download` and unpacked without installing Weka or Java. Sets whose class is
# numeric are left out; each other is split 75/25 (the three that Weka ships as a
# training and a test file keep that split) and its training rows streamed in six
# orders (shuffled, class order, blocks of 20, the file as it came, the classes
# introduced one at a time, two halves of the classes; scripts/weka_streams.py, which
# leaves out an order that repeats another's rows) by
# `moe stream --source csv:train-ORDER.arff` (the class is the last attribute, the ARFF
# default) with the default learner, its gate alone, growth off and replay-500, each
# scored on test.arff by `moe eval`. One line per run, as scripts/mlbench-streams.sh
# writes them, then per stream whether the default meets both bars (at least its gate
# alone − 0.005 and replay-500, at full precision) and the means. Outside CI (it
# downloads a Debian package).
# Usage: bash scripts/weka-streams.sh [SET ...]   (the named sets only; all by default)
# MOE_WEKA_SEED=2 runs every learner with --seed 2.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/learners.sh
bash scripts/build.sh > /dev/null
moe=.build/release/moe
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
(cd "$folder" && { apt-get download weka > /dev/null 2>&1 || { apt-get update > /dev/null && apt-get download weka > /dev/null; }; } \
  && dpkg -x weka_*.deb package)
python3 scripts/weka_streams.py "$folder/package/usr/share/doc/weka/examples" "$folder/data"
field() { python3 -c "import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }
record="$folder/record.txt"
: > "$record"
for data in ${*:-$(ls "$folder/data")}; do
  for order in shuffled class blocks original intro halves; do
    [[ -f $folder/data/$data/train-$order.arff ]] || continue
    for learner in "${learners[@]}"; do
      learner_options "$learner"
      [[ -z ${MOE_WEKA_SEED:-} ]] || extra+=(--seed "$MOE_WEKA_SEED")
      stream_and_score "$data $order $learner" "$folder/data/$data/train-$order.arff" "$folder/data/$data/test.arff" "$record"
    done
  done
done
bars_summary "$record"
