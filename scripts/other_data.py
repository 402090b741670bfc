"""Writes scikit-learn's bundled data sets (Debian's python3-sklearn) as CSV streams for
`moe stream --source csv:...`: features then a label column (`c<k>`), 75% of the rows to
train on and 25% to test, the training rows in class order (one class after another, the
hardest rhythm) and, for digits, also shuffled, in blocks of 20 rows with the classes
taking turns, and in class order twice over. Digits shuffled also come with awkward
features: a sensor that is 0 for the first 400 training rows and then tells the class, rare
huge outliers in the training rows, a timestamp column, and every value times 1e-6 or 1e8.
Usage: python3 other_data.py FOLDER"""
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine


def write(folder, name, features, labels, order, rng, awkward=None):
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
    if awkward:
        train, test = awkward(train, test, rng)
    for part, (x, y) in (("train", train), ("test", test)):
        with open(os.path.join(folder, f"{name}-{order}-{part}.csv"), "w") as f:
            for row, label in zip(x, y):
                f.write(",".join(repr(float(v)) for v in row) + f",c{label}\n")


def sensor(train, test, rng):
    """An extra feature that tells the class (3 label + noise), 0 for the first 400 rows."""
    def column(y, off):
        value = 3.0 * y + rng.normal(0, 1, len(y))
        value[:off] = 0
        return value[:, None]
    return ((np.hstack([train[0], column(train[1], 400)]), train[1]),
            (np.hstack([test[0], column(test[1], 0)]), test[1]))


def outliers(train, test, rng):
    """0.5% of the training values become 1e6 times themselves plus 1e6 (the test rows are clean)."""
    x = train[0].copy()
    mask = rng.random(x.shape) < 0.005
    x[mask] = x[mask] * 1e6 + 1e6
    return (x, train[1]), test


def timestamp(train, test, rng):
    """A first column of Unix times a minute apart, uninformative, the test rows after."""
    n = len(train[1])
    times = 1.7e9 + 60.0 * np.arange(n + len(test[1]))
    return ((np.hstack([times[:n, None], train[0]]), train[1]),
            (np.hstack([times[n:, None], test[0]]), test[1]))


def scaled(factor):
    return lambda train, test, rng: ((train[0] * factor, train[1]), (test[0] * factor, test[1]))


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
    for order, awkward in (("sensor", sensor), ("outliers", outliers), ("timestamp", timestamp),
                           ("tiny", scaled(1e-6)), ("huge", scaled(1e8))):
        write(folder, "digits", digits.data, digits.target, order, rng, awkward)


if __name__ == "__main__":
    main(sys.argv[1])
