#!/usr/bin/env bash
# The README's first command: install what is missing, build in release mode, and run
# the main job on the embedded default data: Split Fashion-MNIST streamed through the
# learner (experts grow automatically), saved to Checkpoints/, loaded back and
# evaluated, with the accuracy matrix, the growth events and a report folder. Extra
# arguments go to `moe stream`.
#
# MOE_QUICK=1 runs the same pipeline on a small stream (one pass, a smaller trunk, a
# pause after the first experience) into Checkpoints/split-fmnist-quick.h5; with
# MOE_CONFIGURATION=debug it uses the debug build. CI runs it that way (.ci/run) so that
# the pipeline's exit status stays 0.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-dependencies.sh
configuration=${MOE_CONFIGURATION:-release}
bash scripts/build.sh "$configuration"
moe=.build/$configuration/moe
name=split-fmnist
small=()
if [ "${MOE_QUICK:-0}" = 1 ]; then
  name=split-fmnist-quick
  small=(--passes 1 --hidden 64,64 --stop-after 1)
fi
$moe stream --scenario split-fmnist --save "Checkpoints/$name.h5" --report "reports/$name" "${small[@]}" "$@"
echo
echo "== loading Checkpoints/$name.h5 back and evaluating it on the Fashion-MNIST test set"
$moe eval "Checkpoints/$name.h5"
echo
echo "== what the checkpoint holds (the first 40 lines)"
# sed reads to the end, so moe never writes into a closed pipe (head would end it with
# SIGPIPE, and the script with status 141 under pipefail).
$moe inspect "Checkpoints/$name.h5" | sed -n '1,40p'
