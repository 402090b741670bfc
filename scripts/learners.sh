# The four learners of the suite as `moe stream` options, for the scripts that stream
# other data: `learner_options NAME` sets the array `extra`; `python_venv` and
# `torch_venv` make their Python environments, `json_of` keeps a run's JSON or its error,
# `stream_and_score` makes one learner's run on a stream and `bars_summary` tallies them.
# Sourced, not run.
learners=(default gate growth-off replay-500)
learner_options() {
  case $1 in
    default) extra=() ;;
    gate) extra=(--predictor discriminant) ;;
    growth-off) extra=(--growth off) ;;
    replay-500) extra=(--growth off --gate learned) ;;
  esac
}

# `python_venv FOLDER IMPORTS PACKAGE...`: a throw-away virtual environment at FOLDER
# whose Python can import every module of IMPORTS (comma-separated), the packages
# installed from PyPI when it cannot.
python_venv() {
  local folder=$1 imports=$2
  shift 2
  [ -x "$folder/bin/python" ] || python3 -m venv "$folder"
  "$folder/bin/python" -c "import $imports" 2>/dev/null || "$folder/bin/pip" install --quiet "$@"
}

# `torch_venv FOLDER`: a throw-away virtual environment at FOLDER with CPU PyTorch: from
# PyTorch's CPU wheel index, its dependencies from PyPI, or else PyPI's default wheel
# (larger: it bundles CUDA libraries it will not use here). `PYTHON` chooses the Python.
torch_venv() {
  local folder=$1
  [ -x "$folder/bin/python" ] || { echo "creating $folder" >&2; "${PYTHON:-python3}" -m venv "$folder"; }
  if ! "$folder/bin/python" -c "import torch" 2>/dev/null; then
    echo "installing PyTorch into $folder" >&2
    "$folder/bin/pip" install --quiet --timeout 30 --index-url https://download.pytorch.org/whl/cpu \
        --extra-index-url https://pypi.org/simple torch 2>/dev/null \
      || "$folder/bin/pip" install --quiet --timeout 30 torch
  fi
}

# `json_of OUT COMMAND...`: runs a `moe … --json` COMMAND and keeps the last line of its
# output (the JSON) in OUT. When the command fails, OUT is empty, `failure` holds the
# last line of its error output (the message that names the file, row or shape at
# fault) and the status is 1, so a run that fails shows its reason in the table rather
# than a Python error about empty JSON. Call it as a condition (`if json_of …`).
json_of() {
  local out=$1 errors status
  shift
  errors=$(mktemp)
  "$@" 2> "$errors" | tail -1 > "$out"
  status=${PIPESTATUS[0]}
  failure=$(grep -v '^[[:space:]]*$' "$errors" | tail -1)
  rm -f "$errors"
  [ "$status" = 0 ] || { : > "$out"; return 1; }
}

# `stream_and_score NAME TRAIN TEST RECORD [OPTION...]`: one learner's run on a stream,
# as a user makes it: `moe stream` on TRAIN with the OPTIONs (a label column, for moe
# stream and moe eval alike) and the learner's `extra`, saved under `$folder`, then `moe
# eval` on TEST. Prints "NAME held-out …, prequential …, N experts, S s" (or the error
# that stopped it) and adds "NAME ACCURACY" (full precision) or "NAME failed" to RECORD,
# for `bars_summary`. Uses the caller's `moe`, `folder` and `field` (a JSON reader).
# With `keep_models=1` the saved model is left at `$folder/NAME.h5` (spaces as dashes),
# for `paired_misses`, which removes it.
stream_and_score() {
  local name=$1 train=$2 test=$3 record=$4
  shift 4
  local run="$folder/${name// /-}"
  if json_of "$run.json" $moe stream --source "csv:$train" "$@" "${extra[@]}" --save "$run.h5" --json \
     && json_of "$run-eval.json" $moe eval "$run.h5" --source "csv:$test" "$@" --json; then
    echo "$name held-out $(field "$run-eval.json" "'%.3f' % test_accuracy")," \
      "prequential $(field "$run.json" "'%.3f' % prequential_accuracy"), $(field "$run.json" experts) experts," \
      "$(field "$run.json" "'%.1f' % seconds['total']") s"
    echo "$name $(field "$run-eval.json" "repr(test_accuracy)")" >> "$record"
  else
    echo "$name failed: $failure"
    echo "$name failed" >> "$record"
  fi
  [[ ${keep_models:-} == 1 ]] || rm -f "$run.h5"
}

# `paired_misses STREAM TEST RECORD [OPTION...]`: after the learners of STREAM ("DATA
# ORDER") ran with `keep_models=1`, and when the default misses a bar there, scores the
# default against the learner it is below (its gate alone, replay-500) on the same test
# rows, paired (`moe eval --against`), and adds "STREAM paired LEARNER P" to RECORD: P is
# McNemar's exact p, below 0.05 when the gap is larger than the noise of the test rows.
# Removes the stream's saved models either way.
paired_misses() {
  local stream=$1 test=$2 record=$3
  shift 3
  local base="$folder/${stream// /-}"
  python3 - "$record" "$stream" <<'PY' > "$base-below.txt"
import sys
scores = {}
for line in open(sys.argv[1]):
    words = line.split()
    if len(words) == 4 and " ".join(words[:2]) == sys.argv[2] and words[3] != "failed":
        scores[words[2]] = float(words[3])
if {"default", "gate", "replay-500"} <= scores.keys():
    if scores["default"] < scores["gate"] - 0.005: print("gate")
    if scores["default"] < scores["replay-500"]: print("replay-500")
PY
  while read -r other; do
    if json_of "$base-paired.json" $moe eval "$base-default.h5" --source "csv:$test" "$@" --against "$base-$other.h5" --json; then
      echo "$stream paired $other $(field "$base-paired.json" "repr(against['p_value'])")" >> "$record"
    fi
  done < "$base-below.txt"
  rm -f "$base"-*.h5 "$base-below.txt" "$base-paired.json"
}

# `bars_summary RECORD`: the tally of a collection's runs. RECORD holds one line per run,
# `DATA ORDER LEARNER ACCURACY` (the held-out accuracy at full precision) or `DATA ORDER
# LEARNER failed`, and `DATA ORDER paired LEARNER P` where `paired_misses` scored a
# miss. Prints how many streams the default meets both bars on (at least its gate alone
# − 0.005 and at least replay-500), each stream that misses one (with McNemar's p where
# it was paired) or has a failed run, how many misses are larger than the noise of their
# test rows, and each learner's mean.
bars_summary() {
  python3 - "$1" <<'PY'
import collections, sys
runs = collections.defaultdict(dict)
paired = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    words = line.split()
    if len(words) == 4:
        runs[(words[0], words[1])][words[2]] = None if words[3] == "failed" else float(words[3])
    elif len(words) == 5 and words[2] == "paired":
        paired[(words[0], words[1])][words[3]] = float(words[4])
needed = ("default", "gate", "replay-500")
streams = [(k, v) for k, v in runs.items() if all(v.get(name) is not None for name in needed)]
failed = [k for k, v in runs.items() if any(v.get(name, 0) is None for name in needed)]
meet = [k for k, v in streams if v["default"] >= v["gate"] - 0.005 and v["default"] >= v["replay-500"]]
print(f"meet both bars: {len(meet)} of {len(streams)} streams")
for k, v in streams:
    if k not in meet:
        tests = "".join(f", against {name} p = {p:.3g}" for name, p in sorted(paired[k].items()))
        print(f"  {k[0]} {k[1]}: default {v['default']:.4f}, gate {v['gate']:.4f}, replay-500 {v['replay-500']:.4f}{tests}")
tested = [k for k, _ in streams if k not in meet and k in paired]
if tested:
    beyond = [k for k in tested if min(paired[k].values()) < 0.05]
    print(f"misses larger than the noise of their test rows (moe eval --against, McNemar's exact p < 0.05): {len(beyond)} of {len(tested)} paired")
for k in failed:
    print(f"  {k[0]} {k[1]}: a run failed ({', '.join(n for n in needed if runs[k].get(n, 0) is None)}), not counted")
for learner in ("default", "gate", "growth-off", "replay-500"):
    scores = [v[learner] for _, v in streams if v.get(learner) is not None]
    if scores:
        print(f"mean {learner}: {sum(scores) / len(scores):.4f} over {len(scores)} streams")
PY
}
