"""Replay-500 in PyTorch and in Avalanche on the main job's stream, timed as a whole.

Split Fashion-MNIST (Debian's IDX files): five experiences of two classes in class
order (0-1, 2-3, ..., 8-9), two passes over each experience's 12,000 training rows in
shuffled batches of 128, pixels / 255, an MLP 784-256-256-10 (ReLU, the learner's
trunk), Adam (rate 0.001), mean cross-entropy, a replay buffer of 500 samples kept by
reservoir sampling. After each experience the model is scored on the test rows of
every experience seen so far (class-incremental: an argmax over all ten outputs), as
`moe stream` does; the figures are the final average accuracy over the five test sets
and the wall time of the whole stream, loading the files included.

- `pytorch`: a hand-rolled loop; each step trains on its 128 new rows and 64 rows drawn
  from the buffer (`moe stream`'s replay-per-step), and the new rows then enter the
  buffer.
- `avalanche`: Avalanche's `Replay` strategy (`mem_size=500`, `train_mb_size=128`,
  `train_epochs=2`, its default storage policy and replay loader) on the same tensors,
  evaluated with `eval_mb_size=1000`.

Prints one JSON object per run on stdout (see scripts/stream-reference.sh).
"""

import argparse
import json
import sys
import time

import torch

from bench_reference import idx


def load(folder):
    def images(name):
        return idx(f"{folder}/{name}-images-idx3-ubyte.gz").reshape(-1, 784).to(torch.float32) / 255

    def labels(name):
        return idx(f"{folder}/{name}-labels-idx1-ubyte.gz").to(torch.int64)

    return images("train"), labels("train"), images("t10k"), labels("t10k")


def trunk():
    return torch.nn.Sequential(
        torch.nn.Linear(784, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10))


EXPERIENCES = [(2 * e, 2 * e + 1) for e in range(5)]


def rows_of(labels, classes):
    return torch.nonzero((labels == classes[0]) | (labels == classes[1])).flatten()


def accuracy(model, x, y):
    with torch.no_grad():
        return (model(x).argmax(dim=1) == y).float().mean().item()


def final_average(model, test_x, test_y):
    return sum(accuracy(model, test_x[r], test_y[r])
               for r in (rows_of(test_y, c) for c in EXPERIENCES)) / len(EXPERIENCES)


def pytorch(folder, passes, batch, replay, per_step, seed):
    start = time.perf_counter()
    train_x, train_y, test_x, test_y = load(folder)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = trunk()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_function = torch.nn.CrossEntropyLoss()
    buffer_x = torch.empty(replay, 784)
    buffer_y = torch.empty(replay, dtype=torch.int64)
    seen = 0
    for classes in EXPERIENCES:
        rows = rows_of(train_y, classes)
        for _ in range(passes):
            order = rows[torch.randperm(len(rows), generator=generator)]
            for first in range(0, len(order), batch):
                chosen = order[first:first + batch]
                x, y = train_x[chosen], train_y[chosen]
                kept = min(seen, replay)
                if kept > 0:
                    drawn = torch.randint(kept, (per_step,), generator=generator)
                    x = torch.cat([x, buffer_x[drawn]])
                    y = torch.cat([y, buffer_y[drawn]])
                optimizer.zero_grad()
                loss_function(model(x), y).backward()
                optimizer.step()
                # Reservoir sampling, the row at stream position i kept at a uniform slot
                # of 0...i when that slot is in the buffer (drawn for the batch at once).
                positions = torch.arange(seen, seen + len(chosen))
                slots = (torch.rand(len(chosen), generator=generator) * (positions + 1)).long()
                slots = torch.where(positions < replay, positions, slots)
                for r, slot in zip(chosen[slots < replay].tolist(), slots[slots < replay].tolist()):
                    buffer_x[slot] = train_x[r]
                    buffer_y[slot] = train_y[r]
                seen += len(chosen)
        # Scored after every experience, as the learner is (the last scoring gives the figure).
        acc = final_average(model, test_x, test_y)
    return {"reference": "pytorch", "seconds": time.perf_counter() - start, "acc": acc}


def avalanche(folder, passes, batch, replay, seed):
    start = time.perf_counter()
    from avalanche.benchmarks import nc_benchmark
    from avalanche.training import Replay
    from avalanche.training.determinism.rng_manager import RNGManager
    train_x, train_y, test_x, test_y = load(folder)
    RNGManager.set_random_seeds(seed)

    def dataset(x, y):
        tensors = torch.utils.data.TensorDataset(x, y)
        tensors.targets = y
        return tensors

    benchmark = nc_benchmark(
        dataset(train_x, train_y), dataset(test_x, test_y),
        n_experiences=5, task_labels=False, fixed_class_order=list(range(10)), seed=seed)
    model = trunk()
    strategy = Replay(model, torch.optim.Adam(model.parameters(), lr=1e-3), torch.nn.CrossEntropyLoss(),
                      mem_size=replay, train_mb_size=batch, train_epochs=passes, eval_mb_size=1000,
                      device="cpu", evaluator=None)
    for experience in benchmark.train_stream:
        strategy.train(experience, num_workers=0)
        strategy.eval(benchmark.test_stream[:experience.current_experience + 1], num_workers=0)
    return {"reference": "avalanche", "seconds": time.perf_counter() - start,
            "acc": final_average(model, test_x, test_y)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--reference", choices=["pytorch", "avalanche"], required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--passes", type=int, default=2)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--replay", type=int, default=500)
    parser.add_argument("--replay-per-step", type=int, default=64)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.reference == "pytorch":
        result = pytorch(args.data, args.passes, args.batch, args.replay, args.replay_per_step, args.seed)
    else:
        result = avalanche(args.data, args.passes, args.batch, args.replay, args.seed)
    result.update(threads=args.threads, torch=torch.__version__)
    print(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
