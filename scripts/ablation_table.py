"""Prints the ablation table of docs/results.md from the JSON lines scripts/results.sh
writes: one row per learner configuration, one column per stream (final average
accuracy, class-incremental, and its difference from the default learner)."""
import json
import os
import sys

ROWS = [
    ("default", "the default learner"),
    ("no-half-learning", "plain Adam steps instead of half-learning"),
    ("no-covariance-cost", "no covariance cost"),
    ("no-replay", "no replay buffer"),
    ("no-experts", "no experts (growth off)"),
    ("gate-answers", "experts never answer (the gate answers in every slot)"),
    ("network-answers", "the networks always answer (no arbiter)"),
]


def main(folder, streams):
    print("| learner | " + " | ".join(streams) + " |")
    print("|---|" + "---|" * len(streams))
    base = {}
    for name, label in ROWS:
        cells = []
        for stream in streams:
            path = os.path.join(folder, f"{stream}-{name}.json")
            try:
                figure = json.loads(open(path).read())["final_average_accuracy"]
            except (OSError, ValueError, KeyError):
                cells.append("—")
                continue
            if name == "default":
                base[stream] = figure
                cells.append(f"**{figure:.4f}**")
            else:
                cells.append(f"{figure:.4f} ({figure - base.get(stream, figure):+.4f})")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
