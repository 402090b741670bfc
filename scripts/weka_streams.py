"""Weka's example ARFF files (Debian's `weka` package, usr/share/doc/weka/examples) as
streams for scripts/weka-streams.sh, written as ARFF files: each file's header kept as it
is, its rows split 75/25 (seeded, stratified by class; the sets Weka ships as a training
and a test file keep that split), the training rows in the orders of
scripts/mlbench_streams.py that a small table has: shuffled, class order (the classes in
the order the header declares them), blocks of 20 rows with the classes taking turns, the
file as it came, the classes introduced one at a time, and two halves of the classes.
Sets whose class is numeric (a regression) are left out. An order that would repeat an
earlier order's rows (two classes in two halves are often their class order) is not
written. Standard library only.

Usage: python3 weka_streams.py EXAMPLES_FOLDER OUT_FOLDER   (prints one line per set)
"""
import os
import random
import sys

from order_files import write_distinct

SEED = 1
PAIRS = {"segment-challenge": "segment-test", "ReutersCorn-train": "ReutersCorn-test",
         "ReutersGrain-train": "ReutersGrain-test"}


def fields(line):
    """The values of a dense ARFF row, quotes and escapes read."""
    values, value, quote, k = [], [], None, 0
    while k < len(line):
        ch = line[k]
        if quote:
            if ch == "\\" and k + 1 < len(line):
                value.append(line[k + 1])
                k += 2
                continue
            if ch == quote:
                quote = None
            else:
                value.append(ch)
        elif ch in "'\"" and not "".join(value).strip():
            quote, value = ch, []
        elif ch == ",":
            values.append("".join(value).strip())
            value = []
        elif ch == "%":
            break
        else:
            value.append(ch)
        k += 1
    values.append("".join(value).strip())
    return values


def read(path):
    """The header's lines (up to and with @data), the class attribute's declared values
    (None for a numeric class), and the data lines."""
    header, rows, in_data, last_attribute = [], [], False, None
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            if in_data:
                if line.strip() and not line.lstrip().startswith("%"):
                    rows.append(line)
                continue
            header.append(line)
            word = line.strip().split(None, 1)[0].lower() if line.strip() else ""
            if word == "@attribute":
                last_attribute = line
            elif word == "@data":
                in_data = True
    declared = None
    if "{" in last_attribute:
        spec = last_attribute[last_attribute.index("{") + 1:last_attribute.rindex("}")]
        declared = [v.strip().strip("'\"") for v in fields(spec)]
    return header, declared, rows


def introduced(train, label):
    order = list(dict.fromkeys(label[i] for i in train))
    remaining = {k: [i for i in train if label[i] == k] for k in order}
    chooser, span, rows = random.Random(7), len(train) / len(order), []
    for t in range(len(train)):
        active = [k for k in order[:max(1, int(t / span) + 1)] if remaining[k]] or [k for k in order if remaining[k]]
        k = chooser.choices(active, weights=[len(remaining[k]) for k in active])[0]
        rows.append(remaining[k].pop(0))
    return rows


def write(examples, out):
    rng = random.Random(SEED)
    names = sorted(f[:-5] for f in os.listdir(examples) if f.endswith(".arff"))
    for name in names:
        if name in PAIRS.values():
            continue
        header, declared, rows = read(os.path.join(examples, name + ".arff"))
        if declared is None:
            print(f"{name}: left out, its class is numeric")
            continue
        if name in PAIRS:
            _, _, test_rows = read(os.path.join(examples, PAIRS[name] + ".arff"))
            train_rows = rows
        else:
            by_class = {}
            for i, row in enumerate(rows):
                by_class.setdefault(fields(row)[-1], []).append(i)
            train_index, test_index = [], []
            for k in sorted(by_class):
                members = by_class[k][:]
                rng.shuffle(members)
                cut = int(round(len(members) * 0.25))
                test_index += members[:cut]
                train_index += members[cut:]
            train_index.sort()
            test_rows = [rows[i] for i in sorted(test_index)]
            train_rows = [rows[i] for i in train_index]
        label = [fields(row)[-1] for row in train_rows]
        place = {v: k for k, v in enumerate(declared)}
        file_order = list(range(len(train_rows)))
        shuffled = file_order[:]
        rng.shuffle(shuffled)
        by_class = sorted(shuffled, key=lambda i: place.get(label[i], len(place)))
        queues = [[i for i in shuffled if label[i] == k] for k in dict.fromkeys(label[i] for i in by_class)]
        turns = []
        while any(queues):
            for q in queues:
                turns += q[:20]
                del q[:20]
        first = list(dict.fromkeys(label[i] for i in shuffled))
        half = set(first[:(len(first) + 1) // 2])
        orders = {"shuffled": shuffled, "class": by_class, "blocks": turns, "original": file_order,
                  "intro": introduced(shuffled, label),
                  "halves": [i for i in shuffled if label[i] in half] + [i for i in shuffled if label[i] not in half]}
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        # Each order's file once: an order that repeats an earlier one's rows (two classes
        # in two halves are often their class order) would count twice.
        write_distinct(folder, name, ((order, "\n".join(header + [train_rows[i] for i in index]) + "\n")
                                      for order, index in orders.items()), "arff", errors="surrogateescape")
        with open(os.path.join(folder, "test.arff"), "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write("\n".join(header + test_rows) + "\n")
        print(f"{name}: {len(train_rows)} training rows, {len(test_rows)} test rows, {len(set(label))} classes")


if __name__ == "__main__":
    write(sys.argv[1], sys.argv[2])
