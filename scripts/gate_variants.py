#!/usr/bin/env python3
"""Would another nonlinearity, or routing by each slot's own covariance, lift the gate?

Measured offline on all of Fashion-MNIST's 60,000 training rows (the rows Split streams),
scored on the 10,000 test rows, with the gate's recipe (`docs/algorithm.md`, *The gate*):
inputs standardized and clipped at 3, features `f(x W + b)` with `W ~ N(0, 1/d)` and
`b ~ N(0, 0.3^2)`, a linear discriminant with OAS shrinkage over them
(`gate_ceiling.discriminant`). Two questions (`docs/history.md`, *Scores, named columns,
and the gate's nonlinearity*):

1. does the nonlinearity `f` matter (ReLU, the gate's, against |z|, ReLU squared, its
   square root, tanh, a shifted ReLU, and cosines of three bandwidths)?
2. Split's errors are between its slots (five pairs of classes), which the pooled
   discriminant's masses decide: would each slot's own Gaussian (its classes' means, its
   own OAS-shrunk covariance, its log-determinant) route better, alone or mixed with
   the pooled masses at a temperature?
3. with `--shrinkage`, only this: how far should the pooled covariance be shrunk once the
   statistics hold more samples than features, where the learner stops choosing among
   blends and takes OAS's intensity (`docs/algorithm.md`, *How far to shrink*)? OAS, and
   fixed intensities, on the first 2,000 to 24,000 of the shuffled training rows.

    python3 scripts/gate_variants.py [--data DIR] [--features 2048] [--shrinkage]

NumPy only; about two minutes on 2 cores. Not part of the learner.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gate_ceiling import discriminant, find, read_idx  # noqa: E402

GROUPS = [(0, 1), (2, 3), (4, 5), (6, 7), (8, 9)]


def shrunk(scatter, n):
    """OAS, as the gate shrinks its pooled covariance."""
    p = scatter.shape[0]
    trace, trace2 = np.trace(scatter), (scatter * scatter).sum()
    rho = min(1.0, ((1 - 2 / p) * trace2 + trace * trace) / ((n + 1 - 2 / p) * (trace2 - trace * trace / p)))
    return (1 - rho) * scatter + rho * (trace / p) * np.eye(p)


def intensity(features, labels, test_features, rho=None, classes=10):
    """The gate's head at shrinkage intensity `rho` (OAS's when None): scores and the intensity."""
    n, p = features.shape
    means = np.stack([features[labels == k].mean(0) for k in range(classes)])
    residual = features - means[labels]
    scatter = residual.T @ residual / n
    trace, trace2 = np.trace(scatter), (scatter * scatter).sum()
    if rho is None:
        rho = min(1.0, ((1 - 2 / p) * trace2 + trace * trace) / ((n + 1 - 2 / p) * (trace2 - trace * trace / p)))
    weight = np.linalg.solve((1 - rho) * scatter + rho * (trace / p) * np.eye(p), means.T)
    bias = -0.5 * (means * weight.T).sum(1) + np.log(np.bincount(labels, minlength=classes) / n)
    return test_features @ weight + bias, rho


def logsumexp(a, axis):
    top = a.max(axis, keepdims=True)
    return (top + np.log(np.exp(a - top).sum(axis, keepdims=True))).squeeze(axis)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--features", type=int, default=2048)
    parser.add_argument("--shrinkage", action="store_true", help="only question 3")
    args = parser.parse_args()
    x = read_idx(find(args.data, "train-images-idx3-ubyte")) / 255
    y = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    xt = read_idx(find(args.data, "t10k-images-idx3-ubyte")) / 255
    yt = read_idx(find(args.data, "t10k-labels-idx1-ubyte"))
    mean, spread = x.mean(0), x.std(0)
    spread[spread == 0] = 1
    x, xt = (np.clip((v - mean) / spread, -3, 3).astype(np.float32) for v in (x, xt))
    rng = np.random.default_rng(1)
    d, p = x.shape[1], args.features
    w = (rng.standard_normal((d, p)) / np.sqrt(d)).astype(np.float32)
    b = (0.3 * rng.standard_normal(p)).astype(np.float32)
    phase = (b / 0.3) * np.pi
    nonlinearities = {
        "relu (the gate's)": lambda z: np.maximum(z, 0),
        "|z|": np.abs,
        "relu squared": lambda z: np.maximum(z, 0) ** 2,
        "square root of relu": lambda z: np.sqrt(np.maximum(z, 0)),
        "tanh": np.tanh,
        "relu shifted by 0.5": lambda z: np.maximum(z - 0.5, 0),
        "cos, bandwidth 0.5": lambda z: np.cos(0.5 * z + phase),
        "cos, bandwidth 1": lambda z: np.cos(z + phase),
        "cos, bandwidth 2": lambda z: np.cos(2 * z + phase),
    }
    if args.shrinkage:
        features = np.maximum(x @ w + b, 0).astype(np.float64)
        test = np.maximum(xt @ w + b, 0).astype(np.float64)
        order = np.random.default_rng(2).permutation(len(y))
        print(f"{p} features; test accuracy with OAS's intensity, then fixed ones")
        for n in (2000, 4000, 8000, 12000, 24000):
            rows = order[:n]
            scores = [intensity(features[rows], y[rows], test, rho) for rho in (None, 0.01, 0.03, 0.1, 0.2)]
            print(f"  {n} rows: OAS ({scores[0][1]:.4f}) {(scores[0][0].argmax(1) == yt).mean():.4f}, "
                  + ", ".join(f"{rho} {(s.argmax(1) == yt).mean():.4f}" for rho, (s, _) in zip((0.01, 0.03, 0.1, 0.2), scores[1:])),
                  flush=True)
        return
    print(f"{p} features, 60,000 training rows, 10,000 test rows")
    for name, f in nonlinearities.items():
        scores = discriminant(f(x @ w + b).astype(np.float64), y, f(xt @ w + b).astype(np.float64))
        print(f"  {name}: {(scores.argmax(1) == yt).mean():.4f}", flush=True)

    features = np.maximum(x @ w + b, 0).astype(np.float64)
    test = np.maximum(xt @ w + b, 0).astype(np.float64)
    pooled = discriminant(features, y, test)
    print(f"routing, pooled discriminant over 10 classes: {(pooled.argmax(1) == yt).mean():.4f}")
    own = np.zeros_like(pooled)
    for group in GROUPS:
        rows = np.isin(y, group)
        f, labels = features[rows], y[rows]
        means = {c: f[labels == c].mean(0) for c in group}
        residual = f - np.stack([means[c] for c in labels])
        factor = np.linalg.cholesky(shrunk(residual.T @ residual / len(f), len(f)))
        log_determinant = 2 * np.log(np.diag(factor)).sum()
        for c in group:
            solved = np.linalg.solve(factor, (test - means[c]).T)
            own[:, c] = -0.5 * (solved * solved).sum(0) - 0.5 * log_determinant + np.log(0.1)
    print(f"  each slot's own Gaussian: {(own.argmax(1) == yt).mean():.4f}")
    pooled_mass = np.stack([logsumexp(pooled[:, list(g)], 1) for g in GROUPS], 1)
    for temperature in (1, 0.5, 0.25, 0.1):
        own_mass = np.stack([logsumexp(own[:, list(g)] * temperature, 1) for g in GROUPS], 1)
        for share in (1.0, 0.5):
            route = share * own_mass + (1 - share) * pooled_mass
            mixed = np.zeros_like(pooled)
            for s, g in enumerate(GROUPS):
                mixed[:, list(g)] = route[:, [s]] + pooled[:, list(g)] - logsumexp(pooled[:, list(g)], 1)[:, None]
            print(f"  slot masses from the own Gaussians at temperature {temperature}, "
                  f"{share:.0%} of the log-mass, within slots the pooled: {(mixed.argmax(1) == yt).mean():.4f}", flush=True)


if __name__ == "__main__":
    main()
