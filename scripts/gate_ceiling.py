#!/usr/bin/env python3
"""Where the per-domain ceiling of the gate comes from, measured offline.

One domain of Permuted Fashion-MNIST is 12,000 training rows of one permutation, and a
permutation changes nothing for a dense random projection or a dense network, so the
domain is a seeded sample of 12,000 rows of Fashion-MNIST's training set, scored on the
10,000 test rows. Everything follows the gate's recipe (`docs/algorithm.md`, *The gate*):
inputs standardized and clipped at 3, ReLU features `max(0, x W + b)` with
`W ~ N(0, 1/d)` and `b ~ N(0, 0.3^2)`, a linear discriminant with OAS shrinkage over
them. It asks three questions (`docs/history.md`, *The counts' quantile and the gate's
ceiling*):

1. would a stronger network (more passes, or reading the gate's features) lift the
   product of the gate and the network;
2. would several smaller discriminants, their log-posteriors summed, beat one as large
   at the same work;
3. would other draws of the 2,048 features (biases through data rows, whitened inputs,
   directions between rows) beat the plain draw.

    python3 scripts/gate_ceiling.py [--data DIR] [--seed N]

NumPy only; a few minutes on 2 cores. Not part of the learner.
"""
import argparse
import gzip
import os

import numpy as np


def read_idx(path):
    """An IDX file of unsigned bytes (gzip or plain), as `bench_reference.idx` reads it
    without torch: images as float rows, labels as integers."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8 or data[3] not in (1, 3):
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes (images or labels)")
    rank = data[3]
    if len(data) < 4 + 4 * rank:
        raise SystemExit(f"{path}: the file ends inside its header")
    sizes = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(rank)]
    values = np.frombuffer(data, np.uint8, offset=4 + 4 * rank)
    if values.size != int(np.prod(sizes)):
        raise SystemExit(f"{path}: the header says {sizes}, the file holds {values.size} bytes")
    if rank == 3:
        return values.reshape(sizes[0], -1).astype(np.float32)
    return values.astype(np.int64)


def find(folder, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f"{folder}: no {stem}[.gz] (install dataset-fashion-mnist or give --data)")


def softmax(z):
    z = z - z.max(1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(1, keepdims=True)


def log_posterior(z):
    return np.log(softmax(z) + 1e-30)


def discriminant(features, labels, test_features, classes=10):
    """The gate's head: class means, one pooled covariance shrunk by OAS."""
    n, p = features.shape
    means = np.stack([features[labels == k].mean(0) for k in range(classes)])
    residual = features - means[labels]
    scatter = (residual.T @ residual) / n
    trace, trace2 = np.trace(scatter), (scatter * scatter).sum()
    rho = min(1.0, ((1 - 2 / p) * trace2 + trace * trace) / ((n + 1 - 2 / p) * (trace2 - trace * trace / p)))
    covariance = (1 - rho) * scatter + rho * (trace / p) * np.eye(p)
    weight = np.linalg.solve(covariance, means.T)
    bias = -0.5 * (means * weight.T).sum(1) + np.log(np.bincount(labels, minlength=classes) / n)
    return test_features @ weight + bias


def network(inputs, labels, test_inputs, passes, hidden=128, rows_per_step=64, seed=1):
    """An expert's shape (one ReLU layer of 128, output starting at zero), Adam at 1e-3,
    one step per 64 rows, the rows in stream order on the first pass."""
    rng = np.random.default_rng(seed)
    d = inputs.shape[1]
    params = [rng.normal(0, np.sqrt(2 / d), (d, hidden)), np.zeros(hidden), np.zeros((hidden, 10)), np.zeros(10)]
    params = [p.astype(np.float32) for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = 0
    for epoch in range(passes):
        order = np.arange(len(labels)) if epoch == 0 else rng.permutation(len(labels))
        for start in range(0, len(labels), rows_per_step):
            rows = order[start:start + rows_per_step]
            x, y = inputs[rows], labels[rows]
            a = x @ params[0] + params[1]
            h = np.maximum(a, 0)
            g = softmax(h @ params[2] + params[3])
            g[np.arange(len(y)), y] -= 1
            g /= len(y)
            gh = g @ params[2].T
            gh[a <= 0] = 0
            grads = [x.T @ gh, gh.sum(0), h.T @ g, g.sum(0)]
            t += 1
            for j, grad in enumerate(grads):
                m[j] = 0.9 * m[j] + 0.1 * grad
                v[j] = 0.999 * v[j] + 0.001 * grad * grad
                params[j] -= 1e-3 * (m[j] / (1 - 0.9 ** t)) / (np.sqrt(v[j] / (1 - 0.999 ** t)) + 1e-8)
    return np.maximum(test_inputs @ params[0] + params[1], 0) @ params[2] + params[3]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    x = read_idx(find(args.data, "train-images-idx3-ubyte"))
    y = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    xt = read_idx(find(args.data, "t10k-images-idx3-ubyte"))
    yt = read_idx(find(args.data, "t10k-labels-idx1-ubyte"))
    rng = np.random.default_rng(args.seed)
    chosen = rng.permutation(len(y))[:12000]
    x, y = x[chosen], y[chosen]
    mean, spread = x.mean(0), x.std(0) + 1e-3
    xs, xts = np.clip((x - mean) / spread, -3, 3), np.clip((xt - mean) / spread, -3, 3)

    def accuracy(scores):
        return (scores.argmax(1) == yt).mean()

    def draw(seed, p, inputs=xs, test_inputs=xts):
        r = np.random.default_rng(seed)
        d = inputs.shape[1]
        w = r.normal(0, 1 / np.sqrt(d), (d, p)).astype(np.float32)
        b = r.normal(0, 0.3, p).astype(np.float32)
        return np.maximum(inputs @ w + b, 0), np.maximum(test_inputs @ w + b, 0)

    print(f"seed {args.seed}: 12,000 training rows, 10,000 test rows")
    features, test_features = draw(100, 2048)
    gate = log_posterior(discriminant(features, y, test_features))
    print(f"\n1. the gate (2,048 features): {accuracy(gate):.4f}")
    print("   network input        passes  network  product with the gate")
    for name, (a, at) in {"standardized pixels": (xs, xts), "the gate's features": (features, test_features)}.items():
        for passes in (1, 3):
            z = network(a, y, at, passes)
            print(f"   {name:20s} {passes:6d}  {accuracy(z):.4f}   {accuracy(gate + log_posterior(z)):.4f}")

    print("\n2. discriminants on independent draws, log-posteriors summed")
    print("   draws x features  one alone  summed  scatter work against one of 2,048")
    for count, p in ((1, 2048), (2, 2048), (1, 4096), (4, 1024), (2, 1024), (8, 512)):
        posteriors = []
        for k in range(count):
            f, ft = draw(200 + k, p)
            posteriors.append(log_posterior(discriminant(f, y, ft)))
        print(f"   {count:5d} x {p:<8d}  {accuracy(posteriors[0]):.4f}     {accuracy(sum(posteriors)):.4f}  "
              f"{count * p * p / 2048 ** 2:.2f}")

    print("\n3. other draws of 2,048 features")
    r = np.random.default_rng(7)
    p = 2048
    g = r.normal(0, 1, (784, p)).astype(np.float32) / np.sqrt(784)
    early = xs[:512]

    def score(w, b, inputs=xs, test_inputs=xts):
        f, ft = np.maximum(inputs @ w + b, 0), np.maximum(test_inputs @ w + b, 0)
        return accuracy(discriminant(f, y, ft))

    print(f"   the gate's draw                                    {score(g, r.normal(0, 0.3, p).astype(np.float32)):.4f}")
    through = early[r.integers(0, len(early), p)]
    print(f"   each hyperplane through one of the first 512 rows  {score(g, -(through * g.T).sum(1)):.4f}")
    values, vectors = np.linalg.eigh(np.cov(early.T) + 1e-2 * np.eye(784))
    for k in (50, 100, 200):
        whiten = vectors[:, -k:] / np.sqrt(values[-k:])
        a, at = xs @ whiten, xts @ whiten
        w = r.normal(0, 1 / np.sqrt(k), (k, p)).astype(np.float32)
        print(f"   inputs whitened by the first 512 rows, {k:3d} components  "
              f"{score(w, r.normal(0, 0.3, p).astype(np.float32), a, at):.4f}")
    i, j = r.integers(0, len(early), p), r.integers(0, len(early), p)
    directions = (early[i] - early[j]).T
    directions /= np.linalg.norm(directions, axis=0, keepdims=True) + 1e-6
    print(f"   directions between two rows, through their middle   "
          f"{score(directions, -((early[i] + early[j]) / 2 * directions.T).sum(1)):.4f}")


if __name__ == "__main__":
    main()
