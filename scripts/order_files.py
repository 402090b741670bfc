"""Writing a data set's training orders, each file once: shared by the data scripts
(`scripts/mlbench_streams.py`, `scripts/weka_streams.py`). Standard library only.

An order whose file would repeat an earlier order's bytes is not written: two classes
in two halves are often their class order; the introduced-in-turn order is one of them
when its first class runs out before the second comes in; a table kept sorted is its
own sorted order. Streamed twice, such a stream would count twice in every tally of the
bars.
"""
import os


def write_distinct(folder, name, orders, suffix, **open_options):
    """Writes `folder/train-ORDER.SUFFIX` for each `(order, text)` of `orders`, in turn,
    unless `text` is an earlier order's, which it names instead (`open_options` go to
    `open`, after the UTF-8 encoding)."""
    written = {}
    for order, text in orders:
        same = next((earlier for earlier, kept in written.items() if kept == text), None)
        if same:
            print(f"{name}: {order} would be the rows of {same} in the same order; not written")
            continue
        written[order] = text
        with open(os.path.join(folder, f"train-{order}.{suffix}"), "w", encoding="utf-8", **open_options) as f:
            f.write(text)
