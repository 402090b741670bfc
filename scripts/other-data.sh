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
field() { /usr/bin/python3 -c "import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]; print('%.3f' % v if isinstance(v, float) else v)" "$@"; }
for stream in digits-class digits-shuffled digits-blocks digits-twice wine-class cancer-class \
              digits-sensor digits-outliers digits-timestamp digits-tiny digits-huge; do
  for learner in "${learners[@]}"; do
    learner_options "$learner"
    if json_of "$folder/$stream-$learner.json" $moe stream --source "csv:$folder/$stream-train.csv" --label-column last \
         "${extra[@]}" --save "$folder/$stream-$learner.h5" --json \
       && json_of "$folder/$stream-$learner-eval.json" $moe eval "$folder/$stream-$learner.h5" \
         --source "csv:$folder/$stream-test.csv" --label-column last --json; then
      accuracy=$(field "$folder/$stream-$learner-eval.json" test_accuracy)
      experts=$(field "$folder/$stream-$learner.json" experts)
      echo "$stream $learner test accuracy $accuracy, $experts experts"
    else
      echo "$stream $learner failed: $failure"
    fi
  done
done
# The outlier stream again with the scaler winsorising gross errors (off by default).
config="$folder/winsorise.json"
echo '{"inputScaling": {"online": {"winsorise": 20}}}' > "$config"
if json_of /dev/null $moe stream --source "csv:$folder/digits-outliers-train.csv" --label-column last \
     --learner-config "$config" --save "$folder/digits-outliers-winsorise.h5" --json \
   && json_of "$folder/winsorise-eval.json" $moe eval "$folder/digits-outliers-winsorise.h5" \
     --source "csv:$folder/digits-outliers-test.csv" --label-column last --json; then
  accuracy=$(field "$folder/winsorise-eval.json" test_accuracy)
else
  accuracy="failed: $failure"
fi
echo "digits-outliers default with winsorise 20 test accuracy $accuracy"
