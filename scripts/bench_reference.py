"""PyTorch reference for `moe bench`: the same MLP, optimizer and batches, timed the same way.

MLP 784-256-128-10 (ReLU), Adam (rate 0.001, betas 0.9/0.999, eps 1e-8), mean
cross-entropy, on the first 16,384 rows of Fashion-MNIST's training set (pixels / 255,
in file order) cut into consecutive batches that the steps cycle through, as
Sources/Benchmarks/TrainingBenchmark.swift does. A training step is zero_grad, forward,
loss, backward, optimizer step; inference is a forward pass and an argmax under
no_grad. Each figure is the median of `repeats` timings of `steps` consecutive steps,
after one untimed round, training and inference interleaved.

Adam is timed in PyTorch's default CPU implementation (a loop of element-wise tensor
operations per parameter) and, where this PyTorch has it, the fused CPU kernel
(`fused=True`); the comparison uses the faster of the two.

Prints one JSON object on stdout (see scripts/bench-reference.sh).
"""

import argparse
import gzip
import json
import platform
import statistics
import sys
import time

import torch


def mlp(sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def idx(path):
    """The array of an IDX file of unsigned bytes (gzip or plain)."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] != 8:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    rank = data[3]
    sizes = [int.from_bytes(data[4 + 4 * d:8 + 4 * d], "big") for d in range(rank)]
    return torch.frombuffer(bytearray(data[4 + 4 * rank:]), dtype=torch.uint8).reshape(sizes)


def workload(images, labels, rows):
    """The first `rows` training rows, pixels / 255, labels as class indices."""
    x = idx(images)[:rows].reshape(-1, 784).to(torch.float32) / 255
    y = idx(labels)[:rows].to(torch.int64)
    return x, y


def measure(sizes, data, batch, repeats, steps, fused, seed):
    torch.manual_seed(seed)
    model = mlp(sizes)
    options = {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8}
    if fused:
        options["fused"] = True
    optimizer = torch.optim.Adam(model.parameters(), **options)
    loss_function = torch.nn.CrossEntropyLoss()
    features, targets = data
    count = max(1, features.shape[0] // batch)
    batches = [(features[k * batch:(k + 1) * batch].contiguous(), targets[k * batch:(k + 1) * batch].contiguous())
               for k in range(count)]
    position = [0]

    def train():
        for _ in range(steps):
            x, y = batches[position[0]]
            position[0] = (position[0] + 1) % count
            optimizer.zero_grad(set_to_none=True)
            loss = loss_function(model(x), y)
            loss.backward()
            optimizer.step()

    def infer():
        with torch.no_grad():
            for k in range(steps):
                model(batches[k % count][0]).argmax(dim=1)

    train()
    infer()
    train_times, infer_times = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        train()
        train_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        infer()
        infer_times.append(time.perf_counter() - start)
    step = statistics.median(train_times) / steps
    forward = statistics.median(infer_times) / steps
    return {"train_samples_per_second": batch / step, "inference_samples_per_second": batch / forward}


def fused_available():
    try:
        torch.optim.Adam(torch.nn.Linear(2, 2).parameters(), fused=True)
        return True
    except (RuntimeError, TypeError, ValueError):
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="32,128,512")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--images", default="/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")
    parser.add_argument("--labels", default="/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz")
    parser.add_argument("--rows", type=int, default=16384)
    args = parser.parse_args()
    sizes = [784, 256, 128, 10]
    data = workload(args.images, args.labels, args.rows)
    batches = [int(b) for b in args.batches.split(",")]
    thread_counts = [int(t) for t in args.threads.split(",")]
    variants = ["default"] + (["fused"] if fused_available() else [])
    result = {
        "library": "pytorch",
        "version": torch.__version__,
        "python": platform.python_version(),
        "sizes": sizes,
        "data": f"Fashion-MNIST train, first {data[0].shape[0]} rows",
        "optimizer": "Adam(lr=0.001, betas=(0.9, 0.999), eps=1e-08)",
        "repeats": args.repeats,
        "steps_per_repeat": args.steps,
        "adam_variants": variants,
        "threads": {},
    }
    for threads in thread_counts:
        torch.set_num_threads(threads)
        per_batch = {}
        for batch in batches:
            figures = {v: measure(sizes, data, batch, args.repeats, args.steps, v == "fused", args.seed) for v in variants}
            best = max(variants, key=lambda v: figures[v]["train_samples_per_second"])
            per_batch[str(batch)] = {
                "train_samples_per_second": figures[best]["train_samples_per_second"],
                "inference_samples_per_second": max(f["inference_samples_per_second"] for f in figures.values()),
                "adam": best,
                "variants": figures,
            }
            print(f"pytorch {threads} thread(s), batch {batch}: "
                  + ", ".join(f"{v} Adam {figures[v]['train_samples_per_second']:.0f} samples/s" for v in variants),
                  file=sys.stderr)
        result["threads"][str(threads)] = per_batch
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
