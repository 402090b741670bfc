"""Writes streams from river (an online-learning library on PyPI, 0.26) as CSV files for
`moe stream --source csv:...` (features then a label column `c<k>`), and scores river's
own learners on them prequentially (predict each row, then learn it), as references.

Streams: concept drift with features of mixed ranges (Agrawal, its labelling function
changed at row 10,000 over 1,000 rows), abrupt concept changes (SEA, four concepts of
5,000 rows), gradual drift (a rotating hyperplane), drifting centroids (random RBF, 5
classes), LED digits with drifting attributes (10 classes, 24 binary features), waveform
(3 classes, 40 features), and river's bundled real data: phishing (1,250 rows), bananas
(5,300 rows, 2 features), image segments (2,310 rows, 7 classes, 18 features; 75%
streamed shuffled or in class order, 25% held out), solar flares (1,066 rows; three text
columns, written as text; the label is the number of C-class flares, 0-8), and the
shuttle anomalies (49,097 rows, 9 integer features, 7% anomalies), also with 10% of its
values replaced by '?' (missing, at random, seeded).

Usage: python river_streams.py FOLDER            (writes the CSV files)
       python river_streams.py FOLDER --reference  (prints river's prequential accuracy)"""
import csv
import itertools
import os
import sys

import numpy as np
from river import datasets
from river.datasets import synth

ROWS = 20000


def take(stream, n):
    rows = list(itertools.islice(stream, n))
    keys = list(rows[0][0].keys())
    x = np.array([[float(features[k]) for k in keys] for features, _ in rows])
    y = np.array([str(label) for _, label in rows])
    return x, y


def write(folder, name, x, y):
    with open(os.path.join(folder, f"{name}.csv"), "w") as f:
        for row, label in zip(x, y):
            f.write(",".join(repr(float(v)) for v in row) + f",c{label}\n")


def streams(folder):
    os.makedirs(folder, exist_ok=True)
    agrawal = synth.ConceptDriftStream(
        synth.Agrawal(classification_function=0, seed=1), synth.Agrawal(classification_function=2, seed=2),
        seed=1, position=10000, width=1000)
    write(folder, "agrawal-drift", *take(agrawal, ROWS))
    sea = itertools.chain(*[itertools.islice(synth.SEA(variant=v, noise=0.1, seed=v), ROWS // 4) for v in range(4)])
    write(folder, "sea-abrupt", *take(sea, ROWS))
    write(folder, "hyperplane-gradual", *take(synth.Hyperplane(
        seed=1, n_features=10, n_drift_features=5, mag_change=0.001, noise_percentage=0.05, sigma=0.1), ROWS))
    write(folder, "rbf-drift", *take(synth.RandomRBFDrift(
        seed_model=1, seed_sample=2, n_classes=5, n_features=10, n_centroids=50, change_speed=0.0001,
        n_drift_centroids=25), ROWS))
    write(folder, "led-drift", *take(synth.LEDDrift(
        seed=1, noise_percentage=0.1, irrelevant_features=True, n_drift_features=7), ROWS))
    write(folder, "waveform", *take(synth.Waveform(seed=1, has_noise=True), ROWS))
    write(folder, "phishing", *take(datasets.Phishing(), ROWS))
    write(folder, "bananas", *take(datasets.Bananas(), ROWS))
    x, y = take(datasets.ImageSegments(), ROWS)
    index = np.random.default_rng(0).permutation(len(y))
    x, y = x[index], y[index]
    cut = int(0.75 * len(y))
    write(folder, "segments-shuffled-train", x[:cut], y[:cut])
    write(folder, "segments-test", x[cut:], y[cut:])
    order = np.argsort(y[:cut], kind="stable")
    write(folder, "segments-class-train", x[:cut][order], y[:cut][order])
    real(folder)


def write_rows(folder, name, rows):
    with open(os.path.join(folder, f"{name}.csv"), "w") as f:
        for features, label in rows:
            f.write(",".join(features) + f",c{label}\n")


def raw(dataset, label):
    """Rows of a bundled river data set as written text (text features stay text)."""
    rows = []
    for x, y in dataset:
        target = y[label] if isinstance(y, dict) else y
        rows.append(([str(v) for v in x.values()], int(target)))
    return rows


def real(folder):
    write_rows(folder, "solar-flare", raw(datasets.SolarFlare(), "c-class-flares"))
    shuttle = raw(datasets.Shuttle(), None)
    write_rows(folder, "shuttle", shuttle)
    rng = np.random.default_rng(1)
    holes = [([v if rng.random() >= 0.1 else "?" for v in features], label) for features, label in shuttle]
    write_rows(folder, "shuttle-missing", holes)


def reference(folder):
    import numbers
    from river import compose, forest, metrics, neighbors, preprocessing, tree

    def knn():
        # Numbers scaled, text one-hot (river's trees take text as it is), missing values dropped.
        numeric = compose.SelectType(numbers.Number) | preprocessing.StandardScaler()
        text = compose.SelectType(str) | preprocessing.OneHotEncoder()
        return (numeric + text) | neighbors.KNNClassifier(n_neighbors=5)

    learners = (
        ("Hoeffding adaptive tree", lambda: tree.HoeffdingAdaptiveTreeClassifier(seed=1)),
        ("adaptive random forest", lambda: forest.ARFClassifier(seed=1, n_models=10)),
        ("5-NN, scaled", knn),
    )

    def value(text):
        if text == "?":
            return None
        try:
            return float(text)
        except ValueError:
            return text

    for name in sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".csv") and f != "segments-test.csv"):
        scores = []
        for _, make in learners:
            model, accuracy = make(), metrics.Accuracy()
            for row in csv.reader(open(os.path.join(folder, f"{name}.csv"))):
                x = {i: v for i, v in ((i, value(t)) for i, t in enumerate(row[:-1])) if v is not None}
                y = row[-1]
                accuracy.update(y, model.predict_one(x))
                model.learn_one(x, y)
            scores.append(accuracy.get())
        print(name, " ".join(f"{label}={score:.3f}" for (label, _), score in zip(learners, scores)), flush=True)


if __name__ == "__main__":
    if "--reference" in sys.argv[2:]:
        reference(sys.argv[1])
    else:
        streams(sys.argv[1])
