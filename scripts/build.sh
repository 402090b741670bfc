#!/usr/bin/env bash
# `bash scripts/build.sh [CONFIGURATION]`: builds the two programs a user runs, `moe` and
# `moe-checkpoint-reader` (the separate process in which `moe` parses every checkpoint it
# loads: `moe eval`, `moe stream --resume`, `moe inspect`), in release mode unless told
# otherwise. Building `moe` alone leaves the reader out, and every load then fails.
set -euo pipefail
cd "$(dirname "$0")/.."
configuration=${1:-release}
swift build -c "$configuration" --product moe
swift build -c "$configuration" --product moe-checkpoint-reader
