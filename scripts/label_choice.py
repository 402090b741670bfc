#!/usr/bin/env python3
"""Which column `moe stream` takes for the label when `--label-column` is not given.

For each real table written by `scripts/mlbench_streams.py`, its training rows in three
orders (as the table came, shuffled, in class order) are headerless with the class
last. Each file, and a copy with the class moved first, streams one batch through
`moe stream` without `--label-column`; the line `label column: the first|last` says
which column the reader chose (`docs/data.md`, *The label column when none is given*).

A copy with the class first must read the first column every time: a rule that took
the last there would turn a file right before into one wrong. A file with the class
last reads the last where its first column is an identifier or a measurement whose
values never recur in 64 rows; otherwise the first, as before (then a warning, or an
error naming the row, says that the label looks wrong).

    python3 scripts/label_choice.py DATA_FOLDER [TABLE...]

Prints the files read otherwise than expected and a summary. Needs a release build
(`bash scripts/build.sh`).
"""
import os
import re
import subprocess
import sys
import tempfile

MOE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "moe")


def chosen(path):
    """'first', 'last', or the error that stopped the stream."""
    run = subprocess.run([MOE, "stream", "--source", "csv:" + path, "--stop-after-batches", "1", "--hidden", "8"],
                         capture_output=True, text=True)
    found = re.search(r"label column: the (first|last)", run.stdout)
    if found:
        return found.group(1)
    lines = run.stderr.strip().splitlines()
    return "error: " + (lines[-1] if lines else f"status {run.returncode}")


def main():
    root, tables = sys.argv[1], sys.argv[2:] or sorted(os.listdir(sys.argv[1]))
    counts = {}
    with tempfile.TemporaryDirectory() as folder:
        for table in tables:
            for order in ["original", "shuffled", "class"]:
                path = os.path.join(root, table, f"train-{order}.csv")
                if not os.path.exists(path):
                    continue
                first = os.path.join(folder, f"{table}-{order}.csv")
                with open(path, encoding="utf-8") as source, open(first, "w", encoding="utf-8") as copy:
                    for line in source.read().splitlines():
                        # The class is the last field; the files quote no separator.
                        head, _, label = line.rpartition(",")
                        copy.write(f"{label},{head}\n")
                for placed, file in [("last", path), ("first", first)]:
                    got = chosen(file)
                    kind = got if got in ("first", "last") else "error"
                    counts[(placed, kind)] = counts.get((placed, kind), 0) + 1
                    if placed == "first" and got != "first":
                        print(f"class first, read {got}: {table} ({order})")
                os.remove(first)
    for placed in ["last", "first"]:
        total = sum(n for (p, _), n in counts.items() if p == placed)
        read = ", ".join(f"{kind} {counts.get((placed, kind), 0)}" for kind in ["last", "first", "error"])
        print(f"class {placed} in {total} files: read as the label: {read}")


if __name__ == "__main__":
    main()
