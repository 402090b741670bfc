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
