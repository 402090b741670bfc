#!/usr/bin/env python3
"""The same test rows in the layouts other tools write, read for one saved learner.

For each real table written by `scripts/mlbench_streams.py` (its shuffled training rows
and its test rows), the training rows, under a header of names (`c0`, `c1`, ...,
`label`), stream through `moe stream --label-column last --save` (the header found, not
declared: a stream that reads it as a row counts as a difference); the saved learner is
then scored by `moe eval` on the test rows written six ways:

  as learned    the training file's layout
  placed        the columns reversed, an identifier column first (read by their names)
  blanks        fields separated by runs of blanks, as numpy's savetxt writes them
  R             R's write.table: row names first, a header one name short, blanks,
                text quoted, NA for a gap
  without id    R's layout read by a learner that learned from it, but written without
                row names (read by their names)
  dressed       numbers written as reports write amounts and rates: '$' before or '%'
                after the values of two in three columns of numbers (every value a
                number or a gap, in the training and test rows), thousands grouped by
                ',' ('"$1,852.18"', '"12,345%"'); and a learner streamed from the
                training rows so written, scored on the plain test rows

A layout read as learned gives the same test accuracy, to the last digit. Tables with a
value holding a space are skipped (a space is a field's end in the blank layouts).

    python3 scripts/layout_streams.py DATA_FOLDER [TABLE...]

Prints one line per table and a summary. Needs a release build (`bash scripts/build.sh`).
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

MOE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "moe")


def is_number(value):
    try:
        float(value)
        return True
    except ValueError:
        return False


def quoted_csv(value):
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def quoted(value):
    try:
        float(value)
        return value
    except ValueError:
        return '"' + value.replace('"', '""') + '"'


def dressed(value, column):
    """`value` (a plain decimal) with a currency sign or a percent sign by `column`, its
    thousands grouped by ','; quoted, as a ',' in a CSV field must be. Other values (text,
    exponents, gaps, every third column) as they are, quoted where CSV needs it."""
    try:
        float(value)
    except ValueError:
        return quoted_csv(value)
    if "e" in value.lower() or column % 3 == 2 or value.strip() != value or value.lower() in ("nan", "inf", "-inf"):
        return quoted_csv(value)
    negative = value.startswith("-")
    digits = value.lstrip("+-")
    whole, _, fraction = digits.partition(".")
    if not whole.isdigit() or (fraction and not fraction.isdigit()):
        return quoted_csv(value)
    grouped = f"{int(whole):,}" + ("." + fraction if fraction else "")
    text = ("-" if negative else "") + ("$" + grouped if column % 3 == 0 else grouped + "%")
    return '"' + text + '"' if "," in text else text


def accuracy(model, path):
    run = subprocess.run([MOE, "eval", model, "--source", "csv:" + path, "--json"], capture_output=True, text=True)
    if run.returncode != 0:
        return "error: " + (run.stderr.strip().splitlines() or ["?"])[-1][:200]
    return json.loads(run.stdout.strip().splitlines()[-1])["test_accuracy"]


def main():
    folder, tables = sys.argv[1], sys.argv[2:] or sorted(os.listdir(sys.argv[1]))
    same = differ = skipped = 0
    with tempfile.TemporaryDirectory() as work:
        for table in tables:
            train = os.path.join(folder, table, "train-shuffled.csv")
            if not os.path.exists(train):
                continue
            rows = list(csv.reader(open(train, newline="")))
            test = list(csv.reader(open(os.path.join(folder, table, "test.csv"), newline="")))
            if any(" " in value for row in rows + test for value in row):
                skipped += 1
                continue
            n = len(rows[0])
            names = [f"c{j}" for j in range(n - 1)] + ["label"]
            path = lambda name: os.path.join(work, f"{table}-{name}")
            with open(path("train.csv"), "w", newline="") as f:
                csv.writer(f).writerows([names] + rows)
            with open(path("test.csv"), "w", newline="") as f:
                csv.writer(f).writerows([names] + test)
            with open(path("placed.csv"), "w", newline="") as f:
                csv.writer(f).writerows([["id"] + names[::-1]] + [[i] + row[::-1] for i, row in enumerate(test)])
            with open(path("blanks.txt"), "w") as f:
                f.write(" ".join(names) + "\n")
                f.writelines("  ".join(quoted(v) if v else "NA" for v in row) + "\n" for row in test)
            with open(path("R.txt"), "w") as f:
                f.write(" ".join(f'"{name}"' for name in names) + "\n")
                f.writelines(f'"{i + 1}" ' + " ".join(quoted(v) if v else "NA" for v in row) + "\n" for i, row in enumerate(test))
            with open(path("R-train.txt"), "w") as f:
                f.write(" ".join(f'"{name}"' for name in names) + "\n")
                f.writelines(f'"{i + 1}" ' + " ".join(quoted(v) if v else "NA" for v in row) + "\n" for i, row in enumerate(rows))
            # Columns of numbers only: a category whose levels look like numbers (`0`, `1`,
            # `3+`) keeps its values as written.
            numeric = {j for j in range(n - 1) if all(is_number(row[j]) or row[j] == "" for row in rows + test)}
            for name, chosen in [("dressed.csv", test), ("dressed-train.csv", rows)]:
                with open(path(name), "w") as f:
                    f.write(",".join(names) + "\n")
                    f.writelines(",".join(dressed(v, j) if j in numeric else quoted_csv(v) for j, v in enumerate(row)) + "\n"
                                 for row in chosen)
            model, r_model, d_model = path("m.h5"), path("r.h5"), path("d.h5")
            figures = []
            for source, saved in [(path("train.csv"), model), (path("R-train.txt"), r_model), (path("dressed-train.csv"), d_model)]:
                run = subprocess.run([MOE, "stream", "--source", "csv:" + source, "--label-column", "last",
                                      "--save", saved], capture_output=True, text=True)
                if run.returncode != 0:
                    figures = None
                    print(f"{table}: stream failed: {run.stderr.strip().splitlines()[-1][:200]}", flush=True)
                    break
                if "the first line was read as a row" in run.stderr:
                    figures = None
                    print(f"{table}: the header of {os.path.basename(source)} was read as a row", flush=True)
                    break
            if figures is None:
                differ += 1
                continue
            figures = [accuracy(model, path(name)) for name in ["test.csv", "placed.csv", "blanks.txt", "R.txt"]]
            figures.append(accuracy(r_model, path("test.csv")))
            reference = accuracy(r_model, path("R.txt"))
            figures.append(accuracy(model, path("dressed.csv")))
            figures.append(accuracy(d_model, path("test.csv")))
            ok = (len(set(figures[:4] + figures[5:])) == 1 and figures[4] == reference
                  and not isinstance(figures[0], str))
            same += ok
            differ += not ok
            shown = ", ".join(f"{x:.4f}" if not isinstance(x, str) else x for x in figures)
            print(f"{table} ({n - 1} columns, {len(test)} test rows): {shown}; R-learned on R {reference}: "
                  + ("the same" if ok else "DIFFERENT"), flush=True)
            for name in ["m.h5", "r.h5", "d.h5"]:
                if os.path.exists(path(name)):
                    os.remove(path(name))
    print(f"{same} tables read alike in every layout, {differ} not, {skipped} skipped (a value with a space)")


if __name__ == "__main__":
    main()
