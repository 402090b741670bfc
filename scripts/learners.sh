# The four learners of the suite as `moe stream` options, for the scripts that stream
# other data: `learner_options NAME` sets the array `extra`. Sourced, not run.
learners=(default gate growth-off replay-500)
learner_options() {
  case $1 in
    default) extra=() ;;
    gate) extra=(--predictor discriminant) ;;
    growth-off) extra=(--growth off) ;;
    replay-500) extra=(--growth off --gate learned) ;;
  esac
}
