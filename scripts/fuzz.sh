#!/usr/bin/env bash
# Builds the libFuzzer targets (with AddressSanitizer) and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60; 0 runs nothing and only replays and blames the crash
# files kept for checkpoint-rehashed). TARGETs (default: the first four):
#   checkpoint            Checkpoint.decode, makeModel, makeOptimizer, predict, a training step:
#                         the loader as users meet it, whole-file digest included
#   architecture          /model@architecture JSON -> validate -> model -> predict, train, save, reload
#   idx                   IDX.read, IDX.loadDataset, IDXSource read and resumed; plain and gzip
#   csv                   CSV.load, CSVSource on a path and a descriptor, read and resumed; every option
#   checkpoint-rehashed   the checkpoint target with the header's length and digests rewritten to
#                         match, so mutations reach libhdf5 (crafted files). Runs forked and goes on
#                         after crashes; each crash is replayed and blamed on libhdf5 or on us.
#
# Environment: FUZZ_DIR (default .build-fuzzer/runs) keeps corpora, crash files and logs
# between runs; FUZZ_FLAGS adds libFuzzer flags. Exit status 1 if a target other than
# checkpoint-rehashed crashed, or if one of its crashes is outside libhdf5.
# A crash input replays without libFuzzer: `swift build` then `.build/debug/FuzzCSV FILE`.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(checkpoint architecture idx csv)
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 64; }

scratch=.build-fuzzer
dir=${FUZZ_DIR:-$scratch/runs}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

product() {
    case $1 in
        checkpoint|checkpoint-rehashed) echo FuzzCheckpoint ;;
        architecture) echo FuzzArchitecture ;;
        idx) echo FuzzIDX ;;
        csv) echo FuzzCSV ;;
        *) echo "unknown target '$1' (checkpoint, architecture, idx, csv, checkpoint-rehashed)" >&2; exit 64 ;;
    esac
}

# Release build: about twice the executions per second of a debug build; preconditions
# and bounds checks stay on. -DFUZZING leaves out the replay main (libFuzzer has its own).
build_flags=(-c release --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
for target in "${targets[@]}"; do
    name=$(product "$target")
    echo "building $name (libFuzzer + AddressSanitizer)"
    swift build "${build_flags[@]}" --product "$name" 2>&1 | grep -E "error|warning: " | grep -v "ld.gold" || true
    [ -x "$scratch/release/$name" ] || { echo "build of $name failed" >&2; exit 1; }
done

# The deciding frame of a sanitizer or libFuzzer report on stdin (see the rehashed target).
blame() {
    grep -E '^ +#[0-9]+ ' | grep -vE 'libc\.so|libm\.so|ld-linux|libstdc|__asan|__sanitizer|__interceptor|__libc|fuzzer::|compiler-rt|<compiler-generated>|libswiftCore|swift_' | head -1
}

export SWIFT_BACKTRACE=enable=no          # let libFuzzer, not Swift's backtracer, handle crashes
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:handle_sigill=1}
status=0
summary=()
for target in "${targets[@]}"; do
    name=$(product "$target")
    binary="$scratch/release/$name"
    corpus="$dir/corpus/$target" seeds="$dir/seeds/$target" crashes="$dir/crashes/$target"
    log="$dir/logs/$target.log"
    # Input files are written for every execution: keep them in memory when possible.
    if [ -w /dev/shm ]; then tmp=/dev/shm/moe-fuzz-$target-$$; else tmp="$dir/tmp/$target"; fi
    rm -rf "$seeds" "$tmp"
    mkdir -p "$corpus" "$crashes" "$dir/logs" "$tmp"
    rehash=0
    [ "$target" = checkpoint-rehashed ] && rehash=1
    MOE_FUZZ_WRITE_SEEDS="$seeds" "$binary" >/dev/null
    before=$(find "$crashes" -type f | wc -l)
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1)
    case $target in
        csv) flags+=(-max_len=20000) ;;
        checkpoint-rehashed) flags+=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1) ;;
    esac
    code=0 runs=0 size=0 newer=(-newer "$seeds")
    if [ "$seconds" -gt 0 ]; then
        echo "fuzzing $target for $seconds s (log: $log)"
        set +e
        # shellcheck disable=SC2086
        TMPDIR="$tmp" MOE_FUZZ_REHASH=$rehash "$binary" "${flags[@]}" ${FUZZ_FLAGS:-} "$corpus" "$seeds" >"$log" 2>&1
        code=$?
        set -e
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
        [ -z "$runs" ] && runs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
        # libFuzzer's own count of the corpus at the end (inputs that add coverage).
        size=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
    elif [ "$rehash" = 1 ]; then
        newer=()  # replay every crash file kept so far
    fi
    found=$(( $(find "$crashes" -type f | wc -l) - before ))
    result="no crash"
    if [ "$rehash" = 1 ]; then
        hdf5=0 ours=0 alone=0 kinds=()
        [ ${#newer[@]} -eq 0 ] && found=$(find "$crashes" -type f | wc -l)
        for crash in $(find "$crashes" -type f "${newer[@]}" | sort); do
            report=$(TMPDIR="$tmp" MOE_FUZZ_REHASH=1 "$binary" -runs=1 -timeout=5 "$crash" 2>&1 || true)
            # Blame the first frame of the report's stack that is not libc, the sanitizer,
            # libFuzzer or the Swift runtime (a trap reports its caller).
            frame=$(blame <<<"$report" || true)
            if ! grep -qE 'ERROR: (AddressSanitizer|libFuzzer)|Fatal error' <<<"$report"; then
                # Runs clean on its own: the forked job had run other inputs first, whose
                # damage to libhdf5's state (or its heap) showed later.
                alone=$((alone + 1))
            elif grep -q 'libhdf5' <<<"$frame"; then
                hdf5=$((hdf5 + 1))
                kinds+=("$(grep -m1 -oE 'ERROR: (AddressSanitizer|libFuzzer): [A-Za-z -]+' <<<"$report" | sed 's/ERROR: //; s/ *$//' || true)")
            else
                ours=$((ours + 1))
                echo "  not in libhdf5: $crash: ${frame:-no stack}"
            fi
        done
        result="$found crashes and timeouts ($hdf5 in libhdf5, $ours elsewhere, $alone not reproduced alone)"
        [ ${#kinds[@]} -gt 0 ] && printf '%s\n' "${kinds[@]}" | sort | uniq -c | sed 's/^/  libhdf5: /'
        [ "$ours" -gt 0 ] && status=1
    elif [ "$code" -ne 0 ] || [ "$found" -gt 0 ]; then
        result="CRASH (exit $code): $(grep -m1 -E 'ERROR|Fatal error|SUMMARY' "$log" || echo 'see log')"
        status=1
        ls "$crashes"
    fi
    rm -rf "$tmp"
    line="$target: $runs executions in $seconds s, corpus $size inputs, $result"
    [ "$seconds" -eq 0 ] && line="$target: $result"
    echo "$line"
    summary+=("$line")
done
echo
printf '%s\n' "${summary[@]}"
exit $status
