#!/usr/bin/env python3
"""Real tables streamed as svmlight (LIBSVM) files and as CSV: the same prequential accuracy.

For each real table written by `scripts/mlbench_streams.py` whose features are all
numbers, none missing, its shuffled training rows are written twice: as svmlight by
scikit-learn's `dump_svmlight_file` (indices from 1, the values that are 0 left out),
and as CSV with the label first and every value, written alike. The classes are their
codes in order of appearance. Tables whose last feature is 0 in every row are passed
over: the svmlight file would be one feature narrower (its width is its largest index).
Each file streams through `moe stream --json` (one BLAS thread); an svmlight file is read
as the dense rows it describes, so the two prequential accuracies must be equal to the
last digit (`docs/data.md`, *svmlight (LIBSVM) files*).

    python3 scripts/svmlight_streams.py DATA_FOLDER [TABLE...]

Prints the tables that differ and a summary. Needs a release build
(`bash scripts/build.sh`).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd
from sklearn.datasets import dump_svmlight_file

MOE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "release", "moe")


def prequential(path, *options):
    """The stream's prequential accuracy, or the error that stopped it."""
    run = subprocess.run([MOE, "stream", "--source", "csv:" + path, "--json", *options], capture_output=True, text=True,
                         env=dict(os.environ, MOE_BLAS_THREADS="1"))
    if run.returncode != 0:
        lines = run.stderr.strip().splitlines()
        return "error: " + (lines[-1] if lines else f"status {run.returncode}")
    return json.loads(run.stdout.strip().splitlines()[-1])["prequential_accuracy"]


def main():
    data, tables = sys.argv[1], sys.argv[2:] or sorted(os.listdir(sys.argv[1]))
    same, differ, rows, widths = 0, 0, [], []
    with tempfile.TemporaryDirectory() as scratch:
        for table in tables:
            train = os.path.join(data, table, "train-shuffled.csv")
            if not os.path.exists(train):
                continue
            frame = pd.read_csv(train, header=None)
            features = frame.iloc[:, :-1]
            if not all(pd.api.types.is_numeric_dtype(features[c]) for c in features.columns) or features.isna().any().any():
                continue
            x = features.to_numpy(dtype=np.float64)
            if (x[:, -1] == 0).all():
                continue
            y = pd.factorize(frame.iloc[:, -1])[0]
            svm, csv = os.path.join(scratch, table + ".svm"), os.path.join(scratch, table + ".csv")
            dump_svmlight_file(x, y, svm, zero_based=False)
            with open(csv, "w") as out:
                for label, row in zip(y, x):
                    out.write(str(label) + "," + ",".join("%.17g" % v for v in row) + "\n")
            a, b = prequential(svm), prequential(csv, "--label-column", "first")
            rows.append(len(y))
            widths.append(x.shape[1])
            if a == b and not isinstance(a, str):
                same += 1
            else:
                differ += 1
                print(f"{table}: svmlight {a}, CSV {b}")
    print(f"{same + differ} tables ({min(rows)} to {max(rows)} rows, {min(widths)} to {max(widths)} features): "
          f"{same} the same prequential accuracy, {differ} not")


if __name__ == "__main__":
    main()
