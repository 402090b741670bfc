"""Writes five long streams from river's generators (river 0.26, PyPI) as CSV files for
`moe stream --source csv:...` (features then a label column `c<k>`), 1,000,000 rows each
unless ROWS is given, to see what a learner does over a stream fifty times longer than
the drift streams of river_streams.py:

- sea-recurring: SEA's four concepts (the same three features, other thresholds), 10%
  label noise, in blocks of an eighth of the stream: 0 1 2 3 0 1 2 3 (recurring concepts);
- agrawal-ten: Agrawal's ten labelling functions over the same nine features of mixed
  ranges, in blocks of a tenth (nine abrupt changes of concept);
- hyperplane-long: a rotating hyperplane in 10 features, 5 of them drifting (gradual);
- rbf-long: random RBF, 5 classes, 10 features, 25 of 50 centroids drifting;
- rbf-stationary: random RBF, 5 classes, 10 features, no drift.

Usage: python long_streams.py FOLDER [ROWS]"""
import itertools
import os
import sys

from river.datasets import synth


def write(folder, name, stream, rows):
    with open(os.path.join(folder, f"{name}.csv"), "w") as f:
        keys = None
        for features, label in itertools.islice(stream, rows):
            if keys is None:
                keys = list(features.keys())
            f.write(",".join(repr(float(features[k])) for k in keys) + f",c{label}\n")


def main(folder, rows):
    os.makedirs(folder, exist_ok=True)
    block = rows // 8
    write(folder, "sea-recurring", itertools.chain(*[
        itertools.islice(synth.SEA(variant=i % 4, noise=0.1, seed=10 + i), block) for i in range(8)]), rows)
    block = rows // 10
    write(folder, "agrawal-ten", itertools.chain(*[
        itertools.islice(synth.Agrawal(classification_function=f, seed=20 + f), block) for f in range(10)]), rows)
    write(folder, "hyperplane-long", synth.Hyperplane(
        seed=1, n_features=10, n_drift_features=5, mag_change=0.001, noise_percentage=0.05, sigma=0.1), rows)
    write(folder, "rbf-long", synth.RandomRBFDrift(
        seed_model=1, seed_sample=2, n_classes=5, n_features=10, n_centroids=50, change_speed=0.0001,
        n_drift_centroids=25), rows)
    write(folder, "rbf-stationary", synth.RandomRBF(
        seed_model=3, seed_sample=4, n_classes=5, n_features=10, n_centroids=50), rows)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
