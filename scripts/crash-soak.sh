#!/bin/sh
# Kills a process that saves checkpoints again and again with SIGKILL at random moments,
# ROUNDS times, and checks after every kill that the checkpoint loads and holds one
# complete version (docs/reliability.md, promise 1). A longer run of the test
# `moeTests` "Crash during save".
#
#   scripts/crash-soak.sh [ROUNDS] [SEED]       (defaults: 500 rounds, seed 1)
#   MOE=.build/debug/moe scripts/crash-soak.sh  (use that executable, build nothing)
#
# Each round starts `moe checkpoint-soak`, which first loads and verifies the version
# already in the file (its weights included) and then saves the next versions until it is
# killed. Without MOE it builds and uses the release executable. Works in a temporary
# folder.
set -eu

rounds=${1:-500}
seed=${2:-1}
cd "$(dirname "$0")/.."
if [ -n "${MOE:-}" ]; then
    moe=$MOE
else
    bash scripts/build.sh >/dev/null
    moe="$(swift build -c release --show-bin-path)/moe"
fi
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
file="$folder/soak.h5"

"$moe" checkpoint-soak "$file" --count 1 >/dev/null
version=1
stray=0
# A small linear congruential generator, so a seed gives the same moments.
state=$seed
next_delay() {
    state=$(( (state * 1103515245 + 12345) % 2147483648 ))
    echo $(( state % 60000 ))   # microseconds
}

round=0
while [ "$round" -lt "$rounds" ]; do
    rm -f "$folder/out"   # so the wait below cannot see the previous round's output
    "$moe" checkpoint-soak "$file" >"$folder/out" 2>"$folder/err" &
    pid=$!
    # Wait for the first save of this round, then a random moment.
    until grep -q '^saved ' "$folder/out" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "round $round: the writer exited: $(cat "$folder/err")" >&2
            exit 1
        fi
        sleep 0.001
    done
    sleep "$(printf '0.%06d' "$(next_delay)")"
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    first=$(head -n 1 "$folder/out")
    if [ "$first" != "start $((version + 1))" ]; then
        echo "round $round: expected 'start $((version + 1))', got '$first'" >&2
        exit 1
    fi
    if ls -a "$folder" | grep -q '^\.soak\.h5\.tmp-'; then stray=$((stray + 1)); fi
    # The file loads (header, digest, structure, every shape) and says which version it holds.
    loaded=$("$moe" inspect "$file" | sed -n 's/^description: checkpoint-soak version //p')
    last=$(grep '^saved ' "$folder/out" | tail -n 1 | cut -d' ' -f2)
    if [ "$loaded" != "$last" ] && [ "$loaded" != "$((last + 1))" ]; then
        echo "round $round: the file holds version '$loaded', the last reported save was $last" >&2
        exit 1
    fi
    version=$loaded
    round=$((round + 1))
done

# A clean run verifies the last version's weights and removes the killed writers' temporaries.
"$moe" checkpoint-soak "$file" --count 1 >/dev/null
if ls -a "$folder" | grep -q '^\.soak\.h5\.tmp-'; then
    echo "temporary files were not cleaned up" >&2
    exit 1
fi
echo "crash-soak: $rounds SIGKILLs (seed $seed), last version $version; $stray kills left a temporary file; every load verified"
