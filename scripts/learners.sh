# The four learners of the suite as `moe stream` options, for the scripts that stream
# other data: `learner_options NAME` sets the array `extra`; `python_venv` makes their
# Python environments. Sourced, not run.
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
