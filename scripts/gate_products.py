#!/usr/bin/env python3
"""How much could a network add to the learner's answer on Split Fashion-MNIST?

Split's errors lie between its slots, which only the gate's pair posterior decides: a
slot's network tells apart its own slot's classes. So the question is whether a network
over every class, multiplied into the learner's answer, would lift it, and by how much
at best. The answers compared are the probabilities `moe predict --scores --uncalibrated`
writes for the 10,000 test images: the learner's (the gate answering in every slot on the
main job) and each network's. Each product `log p_learner + w log p_network` (a
temperature on the learner's answer is the same as a larger weight) is scored at every
weight `w` of a grid. The best weight is chosen on the very rows it is scored on, so it
is an upper bound for any rule that picks `w` on the stream (`docs/history.md`, *Round summaries*, the sixth round of
2026-12-07):

    moe stream --scenario split-fmnist --save learner.h5
    moe stream --scenario split-fmnist --growth off --gate learned --replay 5000 --save replay5000.h5
    moe train --epochs 2 --save joint.h5
    for m in learner replay5000 joint; do
      moe predict $m.h5 --images /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \\
        --scores --uncalibrated --output $m.csv
    done
    python3 scripts/gate_products.py learner.csv replay5000.csv joint.csv

The first file is the learner's answer; every other file is a network multiplied into it.
A probability written as 0 (below what six digits hold) is read as 1e-30.

With `--matrix L N`, the product at `--weight` (1) is scored after each of Split's five
experiences instead: `L-K.csv` and `N-K.csv` are the two learners' scores after
experience K, each answering among the classes it has seen. It prints the accuracy
matrix's ACC and forgetting, as `moe stream` computes them (the learner alone gives
the stream's own figures), for the learner alone and for the product:

    for k in 1 2 3 4 5; do
      moe stream --scenario split-fmnist --stop-after $k --save learner-$k.h5
      moe stream --scenario split-fmnist --growth off --gate learned --replay 5000 \\
        --stop-after $k --save replay5000-$k.h5
      # then moe predict each into learner-$k.csv and replay5000-$k.csv, as above
    done
    python3 scripts/gate_products.py --matrix learner replay5000

NumPy only; seconds. Not part of the learner.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gate_ceiling import find, read_idx  # noqa: E402

WEIGHTS = (0.03, 0.1, 0.3, 1, 3, 10)
FLOOR = np.log(1e-30)


def log_scores(path, rows):
    """A `moe predict --scores` file as logarithms, one column per class 0-9 (a class the
    model has not seen reads 1e-30)."""
    if not os.path.isfile(path):
        raise SystemExit(f"{path}: no such file (write it with `moe predict ... --scores --uncalibrated --output {path}`)")
    with open(path) as f:
        header = f.readline().strip().split(",")
    classes = header[1:]
    if header[:1] != ["class"] or not classes or not set(classes) <= {str(k) for k in range(10)}:
        raise SystemExit(f"{path}: not a file of `moe predict --scores` on Fashion-MNIST "
                         "(its header is not 'class' and some of the classes 0-9)")
    scores = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)[:, 1:]
    if scores.shape != (rows, len(classes)):
        raise SystemExit(f"{path}: {scores.shape[0]} rows of {scores.shape[1]} scores, where the test set's "
                         f"{rows} rows of the {len(classes)} classes of its header were expected")
    full = np.full((rows, 10), FLOOR)
    full[:, [int(c) for c in classes]] = np.log(np.maximum(scores, 1e-30))
    return full, [int(c) for c in classes]


def matrix(learner, network, weight, labels):
    """ACC and forgetting of Split's accuracy matrix, the learner alone and the product."""
    figures = {}
    for name, w in (("the learner alone", 0.0), (f"the product, weight {weight}", weight)):
        accuracy = np.zeros((5, 5))
        for k in range(1, 6):
            mine, seen = log_scores(f"{learner}-{k}.csv", len(labels))
            theirs, _ = log_scores(f"{network}-{k}.csv", len(labels))
            answer = np.full(10, -np.inf)
            answer[seen] = 0
            predicted = (mine + w * theirs + answer).argmax(1)
            for e in range(k):
                rows = np.isin(labels, (2 * e, 2 * e + 1))
                accuracy[k - 1, e] = (predicted[rows] == labels[rows]).mean()
        forgetting = np.mean([accuracy[:4, e].max() - accuracy[4, e] for e in range(4)])
        figures[name] = accuracy[4].mean(), forgetting, np.diag(accuracy)
    for name, (acc, forgetting, diagonal) in figures.items():
        print(f"{name}: ACC {acc:.4f}, forgetting {forgetting:.4f}; each experience at its end "
              + " ".join(f"{a:.4f}" for a in diagonal))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("learner", nargs="?", help="the learner's scores on the test images")
    parser.add_argument("networks", nargs="*", help="each network's scores on the same images")
    parser.add_argument("--matrix", nargs=2, metavar=("L", "N"),
                        help="prefixes of the two learners' scores after each experience, L-1.csv … L-5.csv")
    parser.add_argument("--weight", type=float, default=1.0, help="the network's weight with --matrix")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    labels = read_idx(find(args.data, "t10k-labels-idx1-ubyte"))
    if args.matrix:
        matrix(*args.matrix, args.weight, labels)
        return
    if not args.networks:
        parser.error("give the learner's scores and at least one network's, or --matrix")
    learner, _ = log_scores(args.learner, len(labels))
    alone = (learner.argmax(1) == labels).mean()
    print(f"{args.learner}: {alone:.4f} alone")
    for path in args.networks:
        network, _ = log_scores(path, len(labels))
        products = [((learner + w * network).argmax(1) == labels).mean() for w in WEIGHTS]
        best = int(np.argmax(products))
        print(f"{path}: {(network.argmax(1) == labels).mean():.4f} alone; multiplied into the learner's "
              "answer with weight " + ", ".join(f"{w}: {a:.4f}" for w, a in zip(WEIGHTS, products))
              + f"; the best {products[best]:.4f} (weight {WEIGHTS[best]}), {products[best] - alone:+.4f}")


if __name__ == "__main__":
    main()
