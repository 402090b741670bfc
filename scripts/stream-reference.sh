#!/usr/bin/env bash
# The main job's stream beside replay-500 in plain PyTorch and in Avalanche, in turn, in
# the same minutes: Split Fashion-MNIST, five experiences of two classes, two passes,
# batches of 128, an MLP 784-256-256-10 with Adam (scripts/stream_reference.py says how
# each is trained). Each round runs the three one after the other; the table gives each
# one's median over the rounds of its own clock (the stream, loading the files included)
# and of the whole process (Python's imports, or moe's start and its sgemm yardstick),
# its final average accuracy, and its time over moe's, then the thread policy moe ran
# with. Not part of CI: it downloads PyTorch and Avalanche.
#
#   bash scripts/stream-reference.sh                # three rounds, two threads each
#   ROUNDS=5 THREADS=1 bash scripts/stream-reference.sh
#
# PyTorch (CPU wheel index first, PyPI's default wheel otherwise) and avalanche-lib go
# into a throw-away virtual environment, .build-reference/stream (ignored by git, like
# .build; MOE_STREAM_VENV chooses another folder).
set -euo pipefail
cd "$(dirname "$0")/.."

venv="${MOE_STREAM_VENV:-.build-reference/stream}"
rounds="${ROUNDS:-3}"
threads="${THREADS:-2}"
source scripts/learners.sh
torch_venv "$venv"
python_venv "$venv" avalanche avalanche-lib
bash scripts/build.sh > /dev/null
moe=.build/release/moe
results=$(mktemp)
trap 'rm -f "$results"' EXIT

now() { date +%s.%N; }
for round in $(seq "$rounds"); do
    for reference in pytorch avalanche; do
        start=$(now)
        line=$(PYTHONWARNINGS=ignore "$venv/bin/python" scripts/stream_reference.py --reference "$reference" \
            --threads "$threads" 2>/dev/null | tail -1)
        echo "$line" | "$venv/bin/python" -c "import json, sys; d = json.load(sys.stdin); \
d['wall'] = $(now) - $start; print(json.dumps(d))" >> "$results"
    done
    start=$(now)
    # Two threads: moe's own policy (two threads from 1e7 FLOPs when a core and a half
    # are free, as the README's first command runs it); one: MOE_BLAS_THREADS=1.
    policy=$([ "$threads" = 1 ] && echo 1 || echo auto)
    line=$(MOE_BLAS_THREADS=$policy $moe stream --scenario split-fmnist --json 2>/dev/null | tail -1)
    echo "$line" | "$venv/bin/python" -c "import json, sys; d = json.load(sys.stdin); \
print(json.dumps({'reference': 'moe', 'seconds': d['seconds']['total'], 'acc': d['final_average_accuracy'], \
'wall': $(now) - $start, 'threads': $threads, 'policy': d['blas_threads']}))" >> "$results"
    echo "round $round of $rounds done" >&2
done
"$venv/bin/python" - "$results" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
median = {}
for name in ("pytorch", "avalanche", "moe"):
    mine = [r for r in runs if r["reference"] == name]
    median[name] = {key: statistics.median(r[key] for r in mine) for key in ("seconds", "wall", "acc")}
    median[name]["each"] = ", ".join("%.2f" % r["seconds"] for r in mine)
titles = {"pytorch": "PyTorch, plain replay-500", "avalanche": "Avalanche, Replay(mem_size=500)",
          "moe": "moe stream (the default learner)"}
print("| stream (%d thread(s), medians of %d) | seconds (each) | process seconds | ACC | seconds / moe's |"
      % (runs[0]["threads"], len(runs) // 3))
print("|---|---|---|---|---|")
for name, m in median.items():
    print("| %s | %.2f (%s) | %.2f | %.4f | %.2f |"
          % (titles[name], m["seconds"], m["each"], m["wall"], m["acc"], m["seconds"] / median["moe"]["seconds"]))
print("moe's BLAS threads: " + "; ".join(sorted({r["policy"] for r in runs if r["reference"] == "moe"})))
EOF
