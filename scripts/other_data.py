"""Writes scikit-learn's bundled data sets (Debian's python3-sklearn) as CSV streams for
`moe stream --source csv:...`: features then a label column (`c<k>`), 75% of the rows to
train on and 25% to test, the training rows in class order (one class after another, the
hardest rhythm) and, for digits, also shuffled, in blocks of 20 rows with the classes
taking turns, and in class order twice over. Usage: python3 other_data.py FOLDER"""
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine


def write(folder, name, features, labels, order, rng):
    index = rng.permutation(len(labels))
    features, labels = features[index], labels[index]
    cut = int(0.75 * len(labels))
    train = (features[:cut], labels[:cut])
    test = (features[cut:], labels[cut:])
    if order in ("class", "twice", "blocks"):
        by_class = np.argsort(train[1], kind="stable")
        train = (train[0][by_class], train[1][by_class])
    if order == "twice":
        train = (np.concatenate([train[0], train[0]]), np.concatenate([train[1], train[1]]))
    if order == "blocks":
        # Blocks of 20 rows of one class, the classes taking turns.
        queues = {c: list(np.flatnonzero(train[1] == c)) for c in np.unique(train[1])}
        order_rows = []
        while any(queues.values()):
            for c in sorted(queues):
                order_rows += queues[c][:20]
                queues[c] = queues[c][20:]
        train = (train[0][order_rows], train[1][order_rows])
    for part, (x, y) in (("train", train), ("test", test)):
        with open(os.path.join(folder, f"{name}-{order}-{part}.csv"), "w") as f:
            for row, label in zip(x, y):
                f.write(",".join(repr(float(v)) for v in row) + f",c{label}\n")


def main(folder):
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    digits, wine, cancer = load_digits(), load_wine(), load_breast_cancer()
    write(folder, "digits", digits.data, digits.target, "class", rng)
    write(folder, "digits", digits.data, digits.target, "shuffled", rng)
    write(folder, "digits", digits.data, digits.target, "blocks", rng)
    write(folder, "digits", digits.data, digits.target, "twice", rng)
    write(folder, "wine", wine.data, wine.target, "class", rng)
    write(folder, "cancer", cancer.data, cancer.target, "class", rng)


if __name__ == "__main__":
    main(sys.argv[1])
