"""Streams of shapes the learner was never tuned on, drawn from Gaussian classes.

`python3 shape_streams.py FOLDER` writes FOLDER/NAME-train.csv and FOLDER/NAME-test.csv
(a header, the label last; the test rows are a random fifth of each stream's rows, in
the file's order) for every stream below; `--names` prints their names;
`--reference FOLDER` prints, per stream, an offline shrunk LDA (scikit-learn,
Ledoit-Wolf) on the standardized training rows and on 2,048 random ReLU features of
them, the form of the learner's gate, each scored on the test rows.

Each class is a Gaussian around its own centre (unit variance per feature), so an
offline shrunk LDA on the raw columns is the best answer there is: these streams test
how the learner scales and what its random features keep, not what a real table holds
(`docs/results.md`, *Shapes nobody tuned for*). numpy only, seeded.
"""
import csv
import sys

import numpy as np


def gaussian_classes(rng, classes, rows, features, spread):
    centres = rng.normal(0, spread, (classes, features))
    x = np.vstack([centres[k] + rng.normal(0, 1, (rows, features)) for k in range(classes)])
    return x, np.repeat(np.arange(classes), rows)


def streams():
    """name: (rows, labels, order, label names or None, seed). The seed draws the rows and
    then the test fifth and the order, so the two orders of one set hold the same test
    rows."""
    out = {}
    x, y = gaussian_classes(np.random.default_rng(101), 100, 60, 20, 0.6)
    out["classes-100-shuffled"] = (x, y, "shuffled", None, 101)
    out["classes-100-class"] = (x, y, "class", None, 101)
    x, y = gaussian_classes(np.random.default_rng(102), 500, 30, 30, 0.8)
    out["classes-500-shuffled"] = (x, y, "shuffled", None, 102)
    out["classes-500-class"] = (x, y, "class", None, 102)
    x, y = gaussian_classes(np.random.default_rng(103), 5, 300, 3000, 0.08)
    out["wide-3000"] = (x, y, "shuffled", None, 103)
    x, y = gaussian_classes(np.random.default_rng(104), 3, 70000, 8, 0.5)
    out["long-210k"] = (x, y, "shuffled", None, 104)
    x, y = gaussian_classes(np.random.default_rng(105), 4, 500, 12, 0.7)
    x[:, 0] *= 1e30   # a column in huge units
    x[:, 1] *= 1e-30  # one in tiny units
    x[:, 2] = 5.0     # a constant
    x[:, 3] = x[:, 4]  # a copy of another column
    out["ranges"] = (x, y, "shuffled", ['a, one', 'b "two"', "c", "d"], 105)
    return out


def write(folder, name, x, y, order, names, seed):
    rng = np.random.default_rng([seed, 1])
    n = len(y)
    test = np.zeros(n, bool)
    test[rng.permutation(n)[: n // 5]] = True
    train = np.flatnonzero(~test)
    train = rng.permutation(train) if order == "shuffled" else train[np.argsort(y[train], kind="stable")]
    for part, rows in (("train", train), ("test", np.flatnonzero(test))):
        with open(f"{folder}/{name}-{part}.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow([f"f{j}" for j in range(x.shape[1])] + ["label"])
            for i in rows:
                w.writerow([repr(float(v)) for v in x[i]] + [names[y[i]] if names else f"k{y[i]}"])


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[:-1]] for r in rows]), np.array([r[-1] for r in rows])


def reference(folder):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.preprocessing import StandardScaler

    for name in streams():
        x, y = read(f"{folder}/{name}-train.csv")
        tx, ty = read(f"{folder}/{name}-test.csv")
        scaler = StandardScaler().fit(x)
        a, b = np.nan_to_num(scaler.transform(x)), np.nan_to_num(scaler.transform(tx))
        lda = lambda u, v: LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(u, y).score(v, ty)
        rng = np.random.default_rng(1)
        w = rng.normal(0, 1 / np.sqrt(a.shape[1]), (a.shape[1], 2048))
        c = rng.normal(0, 0.3, 2048)
        features = lambda u: np.maximum(u @ w + c, 0)
        # The features' LDA on at most 20,000 training rows drawn at random (memory).
        some = np.sort(rng.permutation(len(y))[:20000])
        lda_some = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(features(a[some]), y[some])
        print(f"{name} offline shrunk LDA: raw columns {lda(a, b):.3f},"
              f" 2048 random ReLU features {lda_some.score(features(b), ty):.3f}"
              + (f" (on {len(some):,} of the {len(y):,} training rows)" if len(some) < len(y) else ""))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--names"]:
        print(" ".join(streams()))
    elif sys.argv[1:2] == ["--reference"]:
        reference(sys.argv[2])
    else:
        for name, (x, y, order, names, seed) in streams().items():
            write(sys.argv[1], name, x, y, order, names, seed)
