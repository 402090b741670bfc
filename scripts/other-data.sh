#!/usr/bin/env bash
# Streams data the learner was never tuned on through the user's commands: scikit-learn's
# bundled digits (8x8 images, 10 classes), wine (13 chemical measurements of mixed
# ranges, 3 classes) and breast cancer (30 features, 2 classes), from Debian's
# python3-sklearn, as CSV files with the training rows in class order (digits also
# shuffled, in blocks of 20 rows with the classes taking turns, and twice over). Each
# runs with the default learner, its gate alone, growth off and the replay-500
# baseline, and is scored on its held-out 25% by moe eval. Digits shuffled also stream with
# awkward features (a late sensor, rare huge outliers, a timestamp column, tiny and huge
# units; scripts/other_data.py). Prints one line per run.
# Outside CI (it installs python3-sklearn); docs/results.md shows its output.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/learners.sh
if ! /usr/bin/python3 -c "import sklearn" 2>/dev/null; then
  apt-get install -y python3-sklearn > /dev/null
fi
bash scripts/build.sh > /dev/null
moe=.build/release/moe
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
/usr/bin/python3 scripts/other_data.py "$folder"
for stream in digits-class digits-shuffled digits-blocks digits-twice wine-class cancer-class \
              digits-sensor digits-outliers digits-timestamp digits-tiny digits-huge; do
  for learner in "${learners[@]}"; do
    learner_options "$learner"
    $moe stream --source "csv:$folder/$stream-train.csv" --label-column last "${extra[@]}" \
      --save "$folder/$stream-$learner.h5" --json 2>/dev/null | tail -1 > "$folder/$stream-$learner.json"
    accuracy=$($moe eval "$folder/$stream-$learner.h5" --source "csv:$folder/$stream-test.csv" --label-column last --json \
      2>/dev/null | tail -1 | /usr/bin/python3 -c "import json, sys; print('%.3f' % json.load(sys.stdin)['test_accuracy'])")
    experts=$(/usr/bin/python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['experts'])" "$folder/$stream-$learner.json")
    echo "$stream $learner test accuracy $accuracy, $experts experts"
  done
done
# The outlier stream again with the scaler winsorising gross errors (off by default).
config="$folder/winsorise.json"
echo '{"inputScaling": {"online": {"winsorise": 20}}}' > "$config"
$moe stream --source "csv:$folder/digits-outliers-train.csv" --label-column last --learner-config "$config" \
  --save "$folder/digits-outliers-winsorise.h5" --json 2>/dev/null | tail -1 > /dev/null
accuracy=$($moe eval "$folder/digits-outliers-winsorise.h5" --source "csv:$folder/digits-outliers-test.csv" --label-column last --json \
  2>/dev/null | tail -1 | /usr/bin/python3 -c "import json, sys; print('%.3f' % json.load(sys.stdin)['test_accuracy'])")
echo "digits-outliers default with winsorise 20 test accuracy $accuracy"
