"""Real data sets from R packages (Debian's r-cran-mlbench, r-cran-kernlab and r-cran-caret,
read from their .rda and .RData files without R) as CSV files for scripts/mlbench-streams.sh: a seeded stratified 75/25 split of each,
the training rows in three orders (shuffled; class order; blocks of 20 rows with the
classes taking turns), label last, no header, missing values as empty fields, factors as
their level names (text columns for the learner). With --reference: an offline shrunk LDA
and a logistic regression on the whole training split, scored on the test rows.

Usage: python mlbench_streams.py SITE_LIBRARY OUT_FOLDER | python mlbench_streams.py OUT_FOLDER --reference
"""
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
SEED = 1


def package(name, extension, sets):
    """`sets` (name: (label column, columns left out)) of one R package, each read from
    `<package>/data/<name>.<extension>` in the R site library; the object in the file
    has the set's name."""
    return {set_name: (f"{name}/data/{set_name}.{extension}", label, dropped)
            for set_name, (label, dropped) in sets.items()}


# name: (file in the R site library, label column, columns left out). One generator
# splits them all in this order, so a set added at the end leaves the splits of those
# before it unchanged.
SETS = {
    **package("mlbench", "rda", {
        "LetterRecognition": ("lettr", []), "Satellite": ("classes", []), "Vehicle": ("Class", []),
        "Glass": ("Type", []), "Sonar": ("Class", []), "Ionosphere": ("Class", []), "Vowel": ("Class", []),
        "Zoo": ("type", []), "Soybean": ("Class", []), "HouseVotes84": ("Class", []), "DNA": ("Class", []),
        "BreastCancer": ("Class", ["Id"]), "PimaIndiansDiabetes": ("diabetes", []), "Shuttle": ("Class", []),
    }),
    **package("kernlab", "rda", {
        "spam": ("type", []), "ticdata": ("CARAVAN", []), "musk": ("Class", []), "promotergene": ("Class", []),
    }),
    **package("caret", "RData", {
        "GermanCredit": ("Class", []), "segmentationData": ("Class", ["Cell", "Case"]),
    }),
}


def split(codes, rng):
    """Stratified: a quarter of each class (rounded) to the test rows."""
    train, test = [], []
    for k in np.unique(codes):
        rows = rng.permutation(np.flatnonzero(codes == k))
        cut = int(round(len(rows) * 0.25))
        test += rows[:cut].tolist()
        train += rows[cut:].tolist()
    return rng.permutation(train), np.sort(test)


def write(library, out):
    import rdata
    rng = np.random.default_rng(SEED)
    for name, (path, label, dropped) in SETS.items():
        frame = rdata.read_rda(os.path.join(library, path))[name].drop(columns=dropped)
        y = frame[label].astype("category").cat.remove_unused_categories()
        x = frame.drop(columns=[label])
        columns = {}
        for c in x.columns:
            s = x[c]
            if str(s.dtype) == "boolean":
                s = s.astype("Int64")
            columns[c] = s.astype(object).map(lambda v: "" if pd.isna(v) else str(v))
        rows = pd.DataFrame(columns)
        rows["label"] = y.astype(str).to_numpy()
        codes = y.cat.codes.to_numpy()
        train, test = split(codes, rng)
        by_class = train[np.argsort(codes[train], kind="stable")]
        queues = [list(train[codes[train] == k]) for k in np.unique(codes)]
        blocks = []
        while any(queues):
            for q in queues:
                blocks += q[:20]
                del q[:20]
        folder = os.path.join(out, name)
        os.makedirs(folder, exist_ok=True)
        for order, index in (("shuffled", train), ("class", by_class), ("blocks", np.array(blocks))):
            rows.iloc[index].to_csv(os.path.join(folder, f"train-{order}.csv"), header=False, index=False)
        rows.iloc[test].to_csv(os.path.join(folder, "test.csv"), header=False, index=False)
        print(f"{name}: {len(train)} training rows, {len(test)} test rows, {x.shape[1]} columns, {len(y.cat.categories)} classes")


def reference(out):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    for name in ("LetterRecognition", "Satellite"):
        train = pd.read_csv(os.path.join(out, name, "train-class.csv"), header=None)
        test = pd.read_csv(os.path.join(out, name, "test.csv"), header=None)
        xs, ys = train.iloc[:, :-1].to_numpy(float), train.iloc[:, -1].astype(str)
        xt, yt = test.iloc[:, :-1].to_numpy(float), test.iloc[:, -1].astype(str)
        lda = LinearDiscriminantAnalysis(solver="lsqr", shrinkage="auto").fit(xs, ys)
        logistic = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)).fit(xs, ys)
        print(json.dumps({"data": name, "shrunk_lda": round(lda.score(xt, yt), 4),
                          "logistic_regression": round(logistic.score(xt, yt), 4)}))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[2] == "--reference":
        reference(sys.argv[1])
    else:
        write(sys.argv[1], sys.argv[2])
