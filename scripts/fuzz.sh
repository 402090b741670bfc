#!/usr/bin/env bash
# Builds the libFuzzer targets (with AddressSanitizer) and runs each for a bounded time.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# SECONDS per target (default 60; 0 runs nothing and only replays and blames the crash
# files kept for the targets). TARGETs (default: all six):
#   checkpoint            Checkpoint.decode, makeModel, makeOptimizer, predict, a training step:
#                         the loader as users meet it, whole-file digest included, libhdf5 in
#                         the reader process
#   checkpoint-rehashed   the checkpoint target with the header's length and digests rewritten to
#                         match, so that every mutation reaches libhdf5 in the reader process
#                         (crafted files): its crashes and hangs must come back as errors
#   snapshot-wire         the reader process's answer: the wire decoder, then the checkpoint
#                         reader and everything after it (no libhdf5, no child process)
#   architecture          /model@architecture JSON -> validate -> model -> predict, train, save, reload
#   idx                   IDX.read, IDX.loadDataset, IDXSource read and resumed; plain and gzip
#   csv                   CSV.load, CSVSource on a path and a descriptor, read and resumed; every option
#
# Environment: FUZZ_DIR (default .build-fuzzer/runs) keeps corpora, crash files and logs
# between runs; FUZZ_FLAGS adds libFuzzer flags; FUZZ_READER_TIMEOUT (default 1) is the
# reader process's wall-clock limit in seconds for one file (a hang costs that much).
# Exit status 1 if any target crashed, timed out or ran out of memory: libhdf5 runs in the
# reader process, so a crash of the fuzzing process is a bug in this library, wherever its
# stack ends. A crash input replays without libFuzzer: `swift build` then
# `.build/debug/FuzzCheckpoint FILE` (MOE_FUZZ_REHASH=1 for checkpoint-rehashed).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(checkpoint checkpoint-rehashed snapshot-wire architecture idx csv)
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2; exit 64; }

scratch=.build-fuzzer
dir=${FUZZ_DIR:-$scratch/runs}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

product() {
    case $1 in
        checkpoint|checkpoint-rehashed) echo FuzzCheckpoint ;;
        snapshot-wire) echo FuzzSnapshotWire ;;
        architecture) echo FuzzArchitecture ;;
        idx) echo FuzzIDX ;;
        csv) echo FuzzCSV ;;
        *) echo "unknown target '$1' (checkpoint, checkpoint-rehashed, snapshot-wire, architecture, idx, csv)" >&2; exit 64 ;;
    esac
}

# Release build: about twice the executions per second of a debug build; preconditions
# and bounds checks stay on. -DFUZZING leaves out the replay main (libFuzzer has its own).
build_flags=(-c release --scratch-path "$scratch" --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING)
built=()
for target in "${targets[@]}"; do
    name=$(product "$target")
    [[ " ${built[*]} " == *" $name "* ]] && continue
    built+=("$name")
    echo "building $name (libFuzzer + AddressSanitizer)"
    swift build "${build_flags[@]}" --product "$name" 2>&1 | grep -E "error|warning: " | grep -v "ld.gold" || true
    [ -x "$scratch/release/$name" ] || { echo "build of $name failed" >&2; exit 1; }
done
# The reader process that parses checkpoints for the fuzzers: an ordinary release build
# (libFuzzer's main must not replace its own).
echo "building moe-checkpoint-reader (release)"
swift build -c release --product moe-checkpoint-reader 2>&1 | grep -E "error|warning: " || true
reader=$(swift build -c release --show-bin-path)/moe-checkpoint-reader
[ -x "$reader" ] || { echo "build of moe-checkpoint-reader failed" >&2; exit 1; }
export MOE_CHECKPOINT_READER=$reader
export MOE_FUZZ_READER_TIMEOUT=${FUZZ_READER_TIMEOUT:-1}

# The deciding frame of a sanitizer or libFuzzer report on stdin: the first that is not
# libc, the sanitizer, libFuzzer or the Swift runtime (a trap reports its caller).
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
    MOE_FUZZ_WRITE_SEEDS="$seeds" MOE_FUZZ_REHASH=$rehash "$binary" >/dev/null
    before=$(find "$crashes" -type f | wc -l)
    flags=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$crashes/" -print_final_stats=1)
    [ "$target" = csv ] && flags+=(-max_len=20000)
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
    else
        newer=()  # replay every crash file kept so far
    fi
    found=$(( $(find "$crashes" -type f | wc -l) - before ))
    [ ${#newer[@]} -eq 0 ] && found=$(find "$crashes" -type f | wc -l)
    result="no crash"
    if [ "$code" -ne 0 ] || [ "$found" -gt 0 ]; then
        status=1
        result="$found crash, timeout or out-of-memory input(s)"
        [ "$seconds" -gt 0 ] && result+=" (exit $code: $(grep -m1 -E 'ERROR|Fatal error|SUMMARY' "$log" || echo 'see log'))"
        # Replay each alone and name the frame it died in.
        for crash in $(find "$crashes" -type f "${newer[@]}" | sort); do
            report=$(TMPDIR="$tmp" MOE_FUZZ_REHASH=$rehash "$binary" -runs=1 -timeout=10 "$crash" 2>&1 || true)
            kind=$(grep -m1 -oE 'ERROR: (AddressSanitizer|libFuzzer): [A-Za-z -]+|Fatal error: .*' <<<"$report" || echo "runs clean alone")
            echo "  $crash: $kind; $(blame <<<"$report" || echo 'no stack')"
        done
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
