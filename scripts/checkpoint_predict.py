#!/usr/bin/env python3
"""Reproduce a moe checkpoint's predictions with numpy and h5py only.

    checkpoint_predict.py CHECKPOINT INPUTS [--classes | --scores] [--labelled] [--output FILE] [--no-verify]

INPUTS is a .npy file of the network's inputs, one sample per row, or a CSV file. A
learner streamed from a CSV file reads a CSV file as `moe predict` reads it for that
learner (read_stream_csv, with the layout /sections/stream saved): the rows have the
columns of the file the learner learned from, without its label column (with
--labelled, with it, and the accuracy goes to stderr); a header is skipped, and one
that names the columns in another order is placed by name; columns left out are left
out; text columns become their indicators (an unseen value in a column whose values
all had their own reads as missing, with a warning); missing values take the stream's
means and set their columns' flags; plain numbers, decimal commas (where `,` does not
separate fields) and numbers in dress (`$1,852.18`, `30%`) are read as moe reads them.
Not read here (refused with a sentence; use `moe predict`): ARFF, JSON lines and
svmlight files, rows folded into hashed columns, R's row names. Any other checkpoint
reads a CSV file as plain numbers, one sample per row. The logits are printed as CSV,
or with --classes the predicted class of every row (the label stored in /classes), or
with --scores every class's probability as `moe predict --scores` gives it
(calibrated_scores; a header line names the classes), or written to FILE (.npy or .csv).

The checkpoint's 512-byte header (magic, format version, payload length, XXH64
digest; see docs/checkpoint-format.md) is verified first unless --no-verify is given;
h5py itself skips the header (it is an HDF5 user block). A signature in the header is
not checked here (that needs an Ed25519 implementation; `moe inspect --trust-key` does).

What it reproduces, format version 1, one small function per step, as the Swift library
computes it (MixtureOfExperts.forward, MixtureOfExperts.predictions for a model, and
Learner.predict for a learner's checkpoint, which is what `moe eval` uses):

  scale_inputs       a learner's input scaler (/sections/scaler): (x - center) * inverse
                     scale, clipped to +-clip, or beyond it, log1p of the excess past
                     the knee, where the scaler widened a feature's tails (knee > 0);
                     a plain model reads x as it is
  trunk_forward      x @ W + b per dense layer, then relu/tanh/sigmoid; the hidden
                     activations are the outputs of the nonlinearities
  extension_logits   classes added later: the last dense layer's input @ V_k + c_k,
                     appended as columns
  gate_input         what the gate reads: the network input or a hidden layer
  slot_columns       the head columns of each slot: its (slot, class) pairs when the
                     gate routes by pairs (/model@architecture gatePairs), else its classes
  class_head         a class-posterior gate's head: as stored, or, for a learner whose
                     head is stale, refitted from /sections/gate_statistics
                     (fit_discriminant: pooled within-class covariance shrunk by OAS, moved
                     toward the identity by the learner's shrinkage choice while
                     its samples are fewer than its features, or over the leading
                     features alone when a narrow head answers,
                     w_c = S^-1 mu_c, b_c = -mu_c.w_c/2 + log(n_c/n)), as
                     Learner.snapshot() does
  route_by_classes   softmax over the head's logits on random ReLU features of the gate
                     input; a slot's mass is the probability of its columns, its score
                     the log of that; the top k slots, weights renormalised; a slot with
                     its own head (/sections/slot_statistics, slot_heads, refitted from
                     the slot's own statistics as the gate's head is) splits its mass
                     among its classes by that head (adjust_by_slot_heads)
  route_learned      a learned gate: linear scores plus bias per slot, softmax; all slots
                     or the top k; weights the probabilities (renormalised if configured)
  expert_output      an expert: its detectors' activations, then its context (the
                     layer's input or output), through dense-activation-dense
  forward            trunk logits plus, on the rows routed to each expert, its output
                     times its routing weight; with expertOutput "slot" the trunk's logits
                     count with the trunk slot's weight (each slot writes its own logits)
  judge_held_slots   before predicting, every slot with held rows (/sections/holdout) is
                     judged as Learner.judge does: the mixture with the gate, the network,
                     the product and the prior answering in the slot in turn, scored on
                     the rows, each weighed by its class's share of the slot's first
                     visits (class_weights, tally), chosen with holdoutZ
  learner_answers    a learner with a pair-routing gate: the heaviest slots until 99% of
                     the mass (at most 3) each answer among their classes with the
                     network's, the gate's or the product's posterior or the slot's prior
                     (prior_log; arbiter_answer: the held rows' decision, else the
                     arbiter's tallies in /sections/learner/state), mixed by mass;
                     the "discriminant" predictor answers with the gate's mass per class;
                     otherwise the logits answer among the classes seen
  model_answers      a model: the argmax, among the routed slots' classes when the gate
                     restricts predictions
  calibrated_scores  --scores: a learner's class weights (learner_answers) normalised,
                     tempered and given a share of doubt as fitted in the learner state's
                     calibration (fitted_calibration); a model's softmax (model_scores)

Read as saved (load_served): /sections/served, which `moe stream` and every learner
checkpoint write from 2026-12-07, holds what `moe eval` answers with after the learner's
snapshot: who answers in each slot, whether the stream's most frequent class answers
every input, and the gate's heads where the snapshot refitted or judged them. With it
nothing is judged here and every learner is answered as `moe eval` answers it.

Files saved before it: the judgements are repeated where they can be (class_head,
slot_heads, judge_held_slots). A learner whose gate head `moe eval` judges on the
replayed rows first (a head other than plain OAS answering, a judgement due, labels in
runs; Learner.headJudgementPending) is refused with a sentence. In a stream whose labels
or inputs came in runs (stream_comes_in_runs), `moe eval` also judges answers on the
replayed rows (the prior and the stream's most frequent class against the gate, scored
leave-one-out; a holdout's choice where the inputs run), which this script does not
repeat and says so on stderr: where such a judgement changed a slot's answer, the
predictions differ on the rows that slot answers.

Swift computes in float32 and this script in float64 from the same float32 weights, so
logits agree to about 1e-6 relative; a prediction can differ only on a near tie.
"""
import argparse
import json
import math
import struct
import sys

import h5py
import numpy as np

HEADER_SIZE = 512
MAGIC = b"MOE-CKPT"
SUPPORTED_VERSION = 1
UNSEEN_CLASS_BIAS = -1e9
MASK = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


class CheckpointError(Exception):
    pass


# ---- the file ------------------------------------------------------------------------

def _rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK


def _round(acc, lane):
    return (_rotl((acc + lane * P2) & MASK, 31) * P1) & MASK


def xxh64(data, seed=0):
    """XXH64 of bytes (the reference algorithm, in plain Python)."""
    n, i = len(data), 0
    if n >= 32:
        v = [(seed + P1 + P2) & MASK, (seed + P2) & MASK, seed, (seed - P1) & MASK]
        lanes = np.frombuffer(data, dtype="<u8", count=(n // 32) * 4).tolist()
        for k in range(0, len(lanes), 4):
            v = [_round(v[j], lanes[k + j]) for j in range(4)]
        i = (n // 32) * 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & MASK
        for lane in v:
            h = ((h ^ _round(0, lane)) * P1 + P4) & MASK
    else:
        h = (seed + P5) & MASK
    h = (h + n) & MASK
    while i + 8 <= n:
        h ^= _round(0, struct.unpack_from("<Q", data, i)[0])
        h = (_rotl(h, 27) * P1 + P4) & MASK
        i += 8
    if i + 4 <= n:
        h ^= (struct.unpack_from("<I", data, i)[0] * P1) & MASK
        h = (_rotl(h, 23) * P2 + P3) & MASK
        i += 4
    while i < n:
        h ^= (data[i] * P5) & MASK
        h = (_rotl(h, 11) * P1) & MASK
        i += 1
    h ^= h >> 33
    h = (h * P2) & MASK
    h ^= h >> 29
    h = (h * P3) & MASK
    return h ^ (h >> 32)


def verify(path):
    """Checks the checkpoint header and the digest of the HDF5 payload."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < HEADER_SIZE or data[:8] != MAGIC:
        raise CheckpointError(f"{path} is not a checkpoint (no 'MOE-CKPT' header)")
    if struct.unpack_from("<Q", data, 504)[0] != xxh64(data[:504]):
        raise CheckpointError(f"{path}: the checkpoint header is damaged")
    version, = struct.unpack_from("<I", data, 8)
    if version != SUPPORTED_VERSION:
        raise CheckpointError(f"{path}: unsupported format version {version}; this script reads {SUPPORTED_VERSION}")
    length, = struct.unpack_from("<Q", data, 16)
    if len(data) - HEADER_SIZE != length:
        raise CheckpointError(f"{path}: {len(data)} bytes, the header says {HEADER_SIZE + length} (truncated or extended)")
    if struct.unpack_from("<Q", data, 32)[0] != xxh64(data[HEADER_SIZE:]):
        raise CheckpointError(f"{path}: the content digest does not match (the file is corrupt)")


def parameter(f, path):
    """A parameter (float32 in the file) as float64."""
    if f"parameters/{path}" not in f:
        raise CheckpointError(f"the checkpoint lacks parameter {path!r}")
    return f[f"parameters/{path}"][()].astype(np.float64)


def load_architecture(f):
    """The architecture JSON of /model@architecture, or a trunk-only one for files
    written before it existed (the trunk then owns every class)."""
    text = f["model"].attrs.get("architecture")
    if text is None:
        return {"headExtensions": [], "experts": [], "gate": None, "trunkClasses": None}
    return json.loads(text)


def load_learner_state(f):
    """The learner's saved state (configuration, counters), or None for a plain model."""
    if "sections/learner/state" not in f:
        return None
    return json.loads(f["sections/learner/state"].asstr()[0])


def load_served(f, learner):
    """/sections/served: what `moe eval` answers with after the learner's snapshot (who
    answers in each slot, whether the stream's most frequent class answers every input,
    the gate's heads where the snapshot's differ from the saved ones), read into the
    learner's state (`_served`) so that nothing is judged again here. Files saved before
    2026-12-07 have none: the script then repeats what it can of the judgements."""
    if learner is None or "sections/served" not in f:
        return
    s = f["sections/served"]
    architecture = load_architecture(f)
    slots = len(architecture["experts"]) + (1 if architecture["gate"].get("includesTrunk", True) else 0)
    answers = [a.decode() if isinstance(a, bytes) else str(a) for a in s["slot_answers"][()]]
    if len(answers) != slots or any(a not in TRIED for a in answers):
        raise CheckpointError(f"/sections/served/slot_answers holds {answers}; the model has {slots} slots, "
                              f"each answered by one of {', '.join(TRIED)}")
    served = {"answers": answers, "most_frequent": bool(s.attrs.get("answers_most_frequent", 0))}
    p, width = parameter(f, "gate.head.weight").shape
    for prefix in ("", "slot_"):
        if prefix + "head_weight" in s:
            weight = s[prefix + "head_weight"][()].astype(np.float64)
            bias = s[prefix + "head_bias"][()].astype(np.float64).reshape(1, -1)
            if weight.shape[0] != p or bias.shape[1] != weight.shape[1]:
                raise CheckpointError(f"/sections/served/{prefix}head_weight is {weight.shape} and its bias "
                                      f"{bias.shape}; the gate has {p} features")
            served[prefix + "head"] = (weight, bias)
    if "slot_head" in served:
        served["slot_head_answering"] = [int(v) for v in s["slot_head_answering"][()]]
    learner["_served"] = served


def labels_come_in_runs(arbiter):
    """AnswerArbiter.labelsComeInRuns for some slot: its first visits share their label
    with the visit before more often than its class shares make likely (3 standard errors)."""
    for repeats, visits, samples in zip(arbiter.get("repeats") or [], arbiter.get("visits") or [],
                                        arbiter.get("classSamples") or []):
        if visits <= 1:
            continue
        q = sum((c / visits) ** 2 for c in samples.values())
        pairs = visits - 1
        if q < 1 and (repeats - pairs * q) / (pairs * q * (1 - q)) ** 0.5 > 3:
            return True
    return False


RUNS_TAIL = 0.5 * math.erfc(3 / math.sqrt(2))  # AnswerArbiter.runsZ = 3, one-sided


def upper_quantile(p):
    """The standard normal's upper quantile of p (Abramowitz and Stegun 26.2.23, as
    InputMoments.normalQuantile)."""
    t = math.sqrt(-2 * math.log(p))
    return t - (2.515517 + 0.802853 * t + 0.010328 * t * t) / (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t ** 3)


def inputs_come_in_runs(arbiter):
    """AnswerArbiter.inputsComeInRuns for some slot (InputRuns): the largest lag-one serial
    correlation of a feature, times the square root of the rows, among the features whose
    spread is not on a few rows, passes the normal quantile of the runs' tail over their
    number."""
    if not (arbiter.get("settings") or {}).get("checksInputRuns"):
        return False
    for runs in arbiter.get("inputRuns") or []:
        n = runs["count"]
        if n <= 2:
            continue
        m2, m4 = np.asarray(runs["m2"], dtype=float), np.asarray(runs["m4"], dtype=float)
        successive = np.asarray(runs["successive"], dtype=float)
        spread = (m2 > 0) & (m4 > 0)
        effective = np.where(spread, m2 * m2 / np.where(spread, m4, 1), 0)
        tested = spread & (effective * effective / n >= 30)
        if tested.sum() and ((1 - successive[tested] / (2 * m2[tested])) * math.sqrt(n)).max() > upper_quantile(RUNS_TAIL / tested.sum()):
            return True
    return False


def stream_comes_in_runs(learner):
    """Whether moe eval judges this learner's answers on its replayed rows: its arbiter
    chooses (enabled, no fixed answer) with a judgement on the replayed rows, and the
    stream's labels or inputs came in runs (AnswerArbiter.streamComesInRuns)."""
    arbiter = (learner or {}).get("arbiter") or {}
    settings = arbiter.get("settings") or {}
    if settings.get("fixed") or not settings.get("enabled", True):
        return False
    if not (settings.get("judgesPriorOnReplayedRows") or settings.get("checksReplayedRows")):
        return False
    return labels_come_in_runs(arbiter) or inputs_come_in_runs(arbiter)


def head_judged_on_replayed_rows(f, learner):
    """Whether `moe eval` judges the gate's head on the replayed rows before it predicts
    (Learner.headJudgementPending): a head other than plain OAS answers, the judgement
    is due, and the stream's labels come in runs. That judgement scores every replayed
    row with the head fitted without it, which this script does not reproduce."""
    choice = learner.get("shrinkage") if learner else None
    if not choice or not choice.get("judgesRunsOnReplayedRows") or "sections/gate_statistics" not in f:
        return False
    blends = choice["blends"]
    leading = choice.get("leading") or [None] * len(blends)
    plain = next((k for k in range(len(blends)) if leading[k] is None and blends[k] == 0), 0)
    if choice["current"] == plain:
        return False
    counts = f["sections/gate_statistics/counts"][()]
    judged_at = choice.get("judgedAt")
    if judged_at is not None and not (counts.sum() > judged_at or len(counts) != choice.get("judgedClasses", 0)):
        return False
    return labels_come_in_runs(learner.get("arbiter") or {})


def case(value):
    """The case name and payload of a Swift enum encoded as JSON ({"name": {...}})."""
    if isinstance(value, str):
        return value, None
    (name, payload), = value.items()
    return name, payload.get("_0", payload) if isinstance(payload, dict) else payload


# ---- the network ---------------------------------------------------------------------

ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
}


def scale_inputs(f, learner, x):
    """The input as the model reads it: a learner's scaler (/sections/scaler) centres and
    scales every feature, then clips to +-clip; a feature with a knee (`knee` > 0, with
    @widens_tails or @trend_tails: its values reached past the clip, or trended with
    their arrival) goes on beyond the clip as InputScaler.widened does, the clip up to
    the knee and `clip + log1p(|u| - knee)` past it. A plain model reads it as it is."""
    if "sections/scaler" not in f:
        return x
    scaler = f["sections/scaler"]
    center = scaler["center"][()].astype(np.float32)[0]
    inverse = scaler["inverse_scale"][()].astype(np.float32)[0]
    clip = np.float32(scaler.attrs["clip"])
    u = (x.astype(np.float32) - center) * inverse
    scaled = np.clip(u, -clip, clip)
    if "knee" in scaler:
        knee = scaler["knee"][()].astype(np.float32).reshape(-1)
        for j in np.nonzero(knee > 0)[0]:
            a = np.abs(u[:, j])
            beyond = np.where(a <= knee[j], clip, clip + np.log1p(np.maximum(a - knee[j], np.float32(0))))
            scaled[:, j] = np.where(a <= clip, u[:, j], np.sign(u[:, j]) * beyond).astype(np.float32)
    return scaled.astype(np.float64)


def load_trunk(f):
    """The trunk as a list of ("dense", W, b) and ("relu"|"tanh"|"sigmoid",) layers."""
    kinds = f["model/trunk/kinds"].asstr()[()]
    sizes = f["model/trunk/sizes"][()]
    layers = []
    for i, kind in enumerate(kinds):
        if kind == "dense":
            w, b = parameter(f, f"trunk.{i}.weight"), parameter(f, f"trunk.{i}.bias")
            if w.shape != tuple(sizes[i]) or b.shape != (1, sizes[i][1]):
                raise CheckpointError(f"trunk layer {i}: weight {w.shape} and bias {b.shape} do not match sizes {tuple(sizes[i])}")
            layers.append(("dense", w, b))
        elif kind in ACTIVATIONS:
            layers.append((kind,))
        else:
            raise CheckpointError(f"trunk layer {i} has unknown kind {kind!r}")
    return layers


def trunk_forward(layers, x):
    """Logits, the hidden activations (the output of every nonlinearity) and the input
    of the last dense layer: x @ W + b, then the activation."""
    hidden = []
    last_input = x
    for layer in layers:
        if layer[0] == "dense":
            last_input = x
            x = x @ layer[1] + layer[2]
        else:
            x = ACTIVATIONS[layer[0]](x)
            hidden.append(x)
    return x, hidden, last_input


def extension_logits(f, architecture, last_input):
    """The logits of the classes added later (one block per widening of the output)."""
    return [last_input @ parameter(f, f"trunk.extension.{k}.weight") + parameter(f, f"trunk.extension.{k}.bias")
            for k in range(len(architecture["headExtensions"]))]


def expert_output(f, e, expert, hidden, x):
    """Expert e's output: its detectors' activations, then its context, through its
    dense-activation-dense network."""
    layer = hidden[expert["layer"]]
    parts = [layer[:, expert["detectors"]]]
    context = expert["context"]
    if context == "layerOutput":
        parts.append(layer)
    elif context == "layerInput":
        parts.append(x if expert["layer"] == 0 else hidden[expert["layer"] - 1])
    h = np.concatenate(parts, axis=1) @ parameter(f, f"experts.{e}.0.weight") + parameter(f, f"experts.{e}.0.bias")
    h = ACTIVATIONS[expert["activation"]](h)
    return h @ parameter(f, f"experts.{e}.2.weight") + parameter(f, f"experts.{e}.2.bias")


# ---- the gate ------------------------------------------------------------------------

def gate_input(gate, x, hidden):
    """The shared input of the gate: the network input or a hidden layer."""
    name, payload = case(gate["input"])
    if name == "networkInput":
        return x
    if name == "hiddenLayer":
        return hidden[payload]
    raise CheckpointError(f"a gate reading {name} has no shared input")


def section_floats(group, name):
    """A float32 dataset of a section, decoding a palette-coded one: int64 indices
    into the float32 row `name.palette` (docs/checkpoint-format.md)."""
    if name + ".palette" in group:
        return group[name + ".palette"][()][0][group[name][()]]
    return group[name][()]


def gate_features(f, u):
    """A class-posterior gate's fixed random ReLU features of its input."""
    return np.maximum(u @ parameter(f, "gate.features.weight") + parameter(f, "gate.features.bias"), 0)


def slot_columns(architecture, slot_count):
    """The head columns of every slot: its (slot, class) pairs when the gate routes by
    pairs (`gatePairs`, in column order), else its classes."""
    if architecture["gate"].get("routesByPairs"):
        columns = [[] for _ in range(slot_count)]
        for k, pair in enumerate(architecture.get("gatePairs") or []):
            columns[pair["slot"]].append(k)
        return columns
    trunk = [sorted(architecture["trunkClasses"])] if architecture["gate"]["includesTrunk"] else []
    return trunk + [sorted(e["classes"]) for e in architecture["experts"]]


def fit_discriminant(f, class_count, blend=0.0, leading=None, group="sections/gate_statistics"):
    """The head Learner.refitHead() computes from /sections/gate_statistics: a linear
    discriminant with a shared covariance shrunk by Oracle Approximating Shrinkage, moved
    a share `blend` of the way to the identity (the learner's shrinkage choice while it
    still tries blends, shrinkage_form; its classes are the head's columns:
    classes, or (slot, class) pairs). A narrow head (`leading` features) is the same fit
    on the statistics' leading features, the weight's other rows zero. `group` names
    the statistics: the gate's, or one slot's own (/sections/slot_statistics/<slot>)."""
    s = f[group]
    width = int(s.attrs["feature_count"])
    p = min(leading or width, width)
    counts, sums = s["counts"][()], s["sums"][()].reshape(-1, width)[:, :p]
    packed = s["scatter"][()]
    scatter = np.zeros((width, width))
    scatter[np.triu_indices(width)] = packed
    scatter = scatter[:p, :p]
    pending = section_floats(s, "pending").astype(np.float32).reshape(-1, width)[:, :p] if "pending" in s else np.zeros((0, p), np.float32)
    if len(pending):
        scatter += np.triu(pending.T @ pending).astype(np.float64)
    n = counts.sum()
    upper = np.triu(scatter) / n
    trace = np.trace(upper)
    trace_of_square = np.sum(np.diag(upper) ** 2) + 2 * np.sum(np.triu(upper, 1) ** 2)
    numerator = (1 - 2 / p) * trace_of_square + trace * trace
    denominator = (n + 1 - 2 / p) * (trace_of_square - trace * trace / p)
    rho = min(1.0, numerator / denominator) if denominator > 0 else 1.0
    rho = rho + (1 - rho) * blend
    covariance = np.triu(scatter) * (1 - rho) / n
    covariance = covariance + np.triu(covariance, 1).T + np.eye(p) * (rho * trace / p)
    seen = np.nonzero(counts > 0)[0]
    means = sums[seen] / counts[seen, None]
    solutions = np.linalg.solve(covariance, means.T).T
    weight = np.zeros((width, class_count))
    bias = np.full((1, class_count), UNSEEN_CLASS_BIAS)
    for row, label in enumerate(seen):
        weight[:p, label] = solutions[row].astype(np.float32)
        bias[0, label] = np.float32(-0.5 * means[row] @ solutions[row] + np.log(counts[label] / n))
    return weight, bias


def shrinkage_form(f, learner):
    """The blend and leading features of the head a refit fits now (Learner.refitHead):
    the learner's shrinkage choice, but plain OAS in place of a blend once the gate's
    statistics hold `gateShrinkageChoiceSpan` times as many samples as it has features
    (ShrinkageChoice.settle; 1 in configurations saved before the span, 4 by default)."""
    choice = learner.get("shrinkage") if learner else None
    if not choice:
        return 0.0, None
    blends = choice["blends"]
    leading = choice.get("leading") or [None] * len(blends)
    blend, narrow = blends[choice["current"]], leading[choice["current"]]
    span = learner["configuration"].get("gateShrinkageChoiceSpan") or 1
    if "sections/gate_statistics" in f:
        group = f["sections/gate_statistics"]
        blending = any(leading[k] is None and blends[k] != 0 for k in range(len(blends)))
        if blending and group["counts"][()].sum() >= span * int(group.attrs["feature_count"]):
            blend = 0.0
    return blend, narrow


def class_head(f, learner, columns):
    """A class-posterior gate's head: refitted when the learner's is stale, as
    `moe eval` does (Learner.snapshot()); else as stored. Returns (weight, bias,
    refitted)."""
    served = (learner or {}).get("_served")
    if served is not None:
        if "head" in served:
            return served["head"][0], served["head"][1], False
        return parameter(f, "gate.head.weight"), parameter(f, "gate.head.bias"), False
    stale = learner is not None and learner["counters"].get("headIsStale", False)
    if stale and "sections/gate_statistics" in f and f["sections/gate_statistics/counts"][()].sum() > 1:
        try:
            weight, bias = fit_discriminant(f, columns, *shrinkage_form(f, learner))
            if np.all(np.isfinite(weight)) and np.all(np.isfinite(bias)):
                return weight, bias, True
        except np.linalg.LinAlgError:
            pass
    return parameter(f, "gate.head.weight"), parameter(f, "gate.head.bias"), False


def slot_heads(f, learner, width, refitted):
    """Each slot's own head (/sections/slot_statistics, GateSlotHeads): as stored, and,
    when the gate's head was refitted before predicting, refitted as
    Learner.refitSlotHeads does: every slot whose statistics hold at least as many
    samples as the gate has features and that has no head yet, is in charge and took
    samples since its fit, has no fitted sample count (frozen since), or holds twice the
    samples it held then. A head answers for its slot once it has won its counts
    against the pooled head (head_answering; Learner.chooseSlotHeads): a head fitted
    here has not. Returns (weight, bias, answering slots) or None."""
    served = (learner or {}).get("_served") or {}
    if "slot_head" in served:
        answering = served["slot_head_answering"]
        return padded_head(*served["slot_head"], width) + (answering,) if answering else None
    if "sections/slot_statistics" not in f:
        return None
    group = f["sections/slot_statistics"]
    p = parameter(f, "gate.features.weight").shape[1]
    if "head_weight" in group:
        weight, bias = padded_head(group["head_weight"][()], group["head_bias"][()].reshape(1, -1), width)
        slots = [int(s) for s in group["head_slots"][()]]
        # Files saved before own heads had to win their counts: every fitted head answers.
        answering = [int(s) for s in group["head_answering"][()]] if "head_answering" in group else list(slots)
    else:
        weight, bias, slots = np.zeros((p, width)), np.full((1, width), UNSEEN_CLASS_BIAS), []
        answering = []
    if refitted:
        architecture = load_architecture(f)
        pairs = architecture["gatePairs"]
        in_charge = len(architecture["experts"]) if architecture["gate"].get("includesTrunk", True) else len(architecture["experts"]) - 1
        fitted = dict(zip((int(s) for s in group["fitted_slots"][()]), group["fitted_samples"][()]))
        for name in sorted(k for k in group.keys() if k.isdigit()):
            s = int(name)
            samples = group[name]["counts"][()].sum()
            if samples < p:
                continue
            before = fitted.get(s)
            if before is not None and s in slots and not (s == in_charge and samples > before) and samples < 2 * before:
                continue
            try:
                w, b = fit_discriminant(f, width, *shrinkage_form(f, learner), group=f"sections/slot_statistics/{name}")
            except np.linalg.LinAlgError:
                continue
            if not (np.all(np.isfinite(w)) and np.all(np.isfinite(b))):
                continue
            own = [c for c, pair in enumerate(pairs[:width]) if pair["slot"] == s]
            weight[:, own] = w[:, own]
            bias[:, own] = b[:, own]
            if s not in slots:
                slots = sorted(slots + [s])
    return (weight, bias, answering) if answering else None


def padded_head(weight, bias, width):
    """A head saved with the columns of its time, widened to `width` columns: the columns
    added since weigh nothing and have the unseen-class bias."""
    padded_weight = np.zeros((weight.shape[0], width))
    padded_bias = np.full((1, width), UNSEEN_CLASS_BIAS)
    padded_weight[:, :weight.shape[1]] = weight[:, :width]
    padded_bias[:, :bias.shape[1]] = bias[:, :width]
    return padded_weight, padded_bias


def adjust_by_slot_heads(z, phi, heads, columns):
    """GateSlotHeads.adjusting: each own slot's columns become its own head's logits,
    shifted so that the slot keeps the mass the pooled head gives it."""
    if heads is None:
        return z
    weight, bias, slots = heads
    own = phi @ weight + bias
    z = z.copy()
    for s in slots:
        members = [c for c in columns[s] if c < z.shape[1]] if s < len(columns) else []
        if not members or len(members) != len(columns[s]) or np.any(bias[0, members] <= UNSEEN_CLASS_BIAS / 2):
            continue
        pooled = _log_sum_exp(z[:, members])
        mine = _log_sum_exp(own[:, members])
        z[:, members] = own[:, members] - mine[:, None] + pooled[:, None]
    return z


def _log_sum_exp(values):
    top = values.max(axis=1)
    return top + np.log(np.exp(values - top[:, None]).sum(axis=1))


def top_k(scores, k):
    """The k highest-scoring slots of every row, best first; ties go to the lower slot."""
    order = np.argsort(-scores, axis=1, kind="stable")
    return order[:, :k]


def route_by_classes(f, learner, gate, x, hidden, columns, width):
    """A class-posterior gate: the head's logits z on random ReLU features of the gate
    input; a slot's mass is the softmax probability of its columns, its score the log of
    that; the top k slots, weights renormalised. Returns (selected, weights, mass, z)."""
    weight, bias, refitted = class_head(f, learner, width)
    phi = gate_features(f, gate_input(gate, x, hidden))
    z = phi @ weight + bias
    pooled = z
    shifted = np.exp(z - z.max(axis=1, keepdims=True))
    total = shifted.sum(axis=1)
    scores = np.full((len(x), len(columns)), -np.inf)
    mass = np.zeros((len(x), len(columns)))
    for s, own in enumerate(columns):
        own = [c for c in own if c < z.shape[1]]
        if own:
            part = shifted[:, own].sum(axis=1)
            mass[:, s] = part / total
            with np.errstate(divide="ignore"):
                scores[:, s] = np.where(part > 0, np.log(part / total), -np.inf)
    _, k = case(gate["selection"])
    selected, weights = renormalised(mass, top_k(scores, min(k, len(columns))))
    z = adjust_by_slot_heads(pooled, phi, slot_heads(f, learner, width, refitted), columns)
    return selected, weights, mass, z


def route_learned(f, gate, experts, x, hidden, slot_names):
    """A learned gate: linear scores plus bias per slot, softmax; all slots or the top k;
    weights the probabilities (renormalised if configured)."""
    scores = np.zeros((len(x), len(slot_names)))
    shared = case(gate["input"])[0] != "expertDetectors"
    for s, name in enumerate(slot_names):
        if shared:
            reads = gate_input(gate, x, hidden)
        elif name == "trunk":
            reads = None
        else:
            expert = experts[int(name)]
            reads = hidden[expert["layer"]][:, expert["detectors"]]
        if reads is not None:
            scores[:, s] = (reads @ parameter(f, f"gate.{name}.weight"))[:, 0]
        scores[:, s] += parameter(f, f"gate.{name}.bias")[0, 0]
    p = np.exp(scores - scores.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    selection, k = case(gate["selection"])
    selected = np.tile(np.arange(len(slot_names)), (len(x), 1)) if selection == "softmax" else top_k(scores, min(k, len(slot_names)))
    if gate["renormalizes"]:
        return renormalised(p, selected) + (p, None)
    return selected, np.take_along_axis(p, selected, axis=1), p, None


def renormalised(mass, selected):
    """Weights of the selected slots: their mass over the mass of all selected."""
    chosen = np.take_along_axis(mass, selected, axis=1)
    total = chosen.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return selected, np.where(total > 0, chosen / total, 1.0 / selected.shape[1])


# ---- the whole model -----------------------------------------------------------------

class Pass:
    """A forward pass: the final logits, the trunk's, the hidden activations, the scaled
    input, and the gate's routing (None without experts or pairs)."""
    pass


def forward(f, learner, x):
    """MixtureOfExperts.forward on the scaled input. An expert's output is added to the
    logits (`expertOutput` "correction", the default), or writes its slot's logits
    (`"slot"`: the trunk's logits count with the trunk slot's routing weight)."""
    architecture = load_architecture(f)
    unknown = sorted(set(f["model"].keys()) - {"trunk"})
    if unknown:
        raise CheckpointError(f"this script does not know the model parts {unknown}; update it for this checkpoint")
    result = Pass()
    result.architecture, result.x = architecture, scale_inputs(f, learner, x)
    logits, result.hidden, last_input = trunk_forward(load_trunk(f), result.x)
    result.trunk = np.concatenate([logits] + extension_logits(f, architecture, last_input), axis=1)
    result.logits, result.routing = result.trunk, None
    experts, pairs = architecture["experts"], architecture.get("gatePairs") or []
    if not experts and not pairs:
        return result
    gate = architecture["gate"]
    trunk_slot = ["trunk"] if gate["includesTrunk"] else []
    result.slot_names = trunk_slot + [str(e) for e in range(len(experts))]
    result.columns = slot_columns(architecture, len(result.slot_names))
    if case(gate["kind"])[0] == "classPosterior":
        width = len(pairs) if gate.get("routesByPairs") else result.trunk.shape[1]
        selected, weights, mass, z = route_by_classes(f, learner, gate, result.x, result.hidden, result.columns, width)
    else:
        selected, weights, mass, z = route_learned(f, gate, experts, result.x, result.hidden, result.slot_names)
    result.routing = (selected, weights, mass, z)
    result.writes_slot = architecture.get("expertOutput") == "slot"
    mixed = result.trunk.copy()
    if result.writes_slot:
        share = np.zeros(len(x))
        if trunk_slot:
            rows, position = np.nonzero(selected == 0)
            share[rows] = weights[rows, position]
        mixed *= share[:, None]
    for e, expert in enumerate(experts):
        rows, position = np.nonzero(selected == len(trunk_slot) + e)
        if len(rows):
            out = expert_output(f, e, expert, result.hidden, result.x)[rows] * weights[rows, position][:, None]
            mixed[rows, :out.shape[1]] += out
    result.logits = mixed
    result.experts = experts
    return result


def slot_logits(f, p, slot, row):
    """The logits slot `slot` gives a row (MixtureOfExperts.slotLogits): the pass's own
    for the slot it routed the row to, else the trunk's, corrected or replaced by the
    slot's expert."""
    if p.routing[0][row, 0] == slot:
        return p.logits[row]
    trunk_slots = 1 if p.slot_names and p.slot_names[0] == "trunk" else 0
    if slot < trunk_slots:
        return p.trunk[row]
    e = slot - trunk_slots
    base = np.zeros_like(p.trunk[row]) if p.writes_slot else p.trunk[row].copy()
    out = expert_output(f, e, p.experts[e], [h[row:row + 1] for h in p.hidden], p.x[row:row + 1])[0]
    base[:len(out)] += out
    return base


def log_softmax(values):
    values = np.asarray(values, dtype=np.float64)
    top = values.max()
    return values - (np.log(np.exp(values - top).sum()) + top)


def advantage(wins, losses):
    """How far an answer is ahead of the gate, in standard errors of the paired difference
    (AnswerArbiter.Tally.advantage; 0 with no disagreement)."""
    return (wins - losses) / np.sqrt(wins + losses) if wins + losses > 0 else 0.0


def arbiter_answer(learner, slot):
    """Which answer a slot gives (AnswerArbiter.answer): the one decided on the slot's
    holdout, else the counts' choice (the network, the product or the prior, when it has
    proved better than the gate by more than z standard errors; of several, the one with
    more answers right). An answer that lost to the gate on the replayed samples of the
    classes the slot stopped seeing (AnswerArbiter.stoppedCheck) gives way to the next the
    counts find better that did not; the gate when none."""
    served = learner.get("_served")
    if served is not None:
        return served["answers"][slot]
    arbiter = learner.get("arbiter") or {}
    settings = arbiter.get("settings", {})
    if settings.get("fixed"):
        return settings["fixed"]
    if not settings.get("enabled", True):
        return "gate"
    checks = arbiter.get("stoppedCheck", [])
    check = checks[slot] if slot < len(checks) else None

    def vetoed(answer):
        return check is not None and answer != "gate" and check[answer]["losses"] > check[answer]["wins"]

    decided = arbiter.get("decided", [])
    if slot < len(decided) and decided[slot] is not None and not vetoed(decided[slot]):
        return decided[slot]

    samples = arbiter.get("classSamples") or []
    if settings.get("countsNeedTwoClasses", False) and slot < len(samples) and len(samples[slot]) < 2:
        return "gate"
    z = settings.get("z", 1.5)
    candidates = []
    for name in ("network", "product", "prior"):
        tallies = arbiter.get(name, [])
        if slot < len(tallies) and advantage(tallies[slot]["wins"], tallies[slot]["losses"]) > z and not vetoed(name):
            candidates.append((tallies[slot]["wins"] - tallies[slot]["losses"], name))
    best = None
    for surplus, name in candidates:  # the first of the largest surplus, as Swift's max(by:)
        if best is None or surplus > best[0]:
            best = (surplus, name)
    return best[1] if best else "gate"


def tally(gate, right, weights=None):
    """Paired counts of `right` against `gate` (AnswerArbiter.tally): with weights, wins and
    losses whose difference is the weighed lead where they disagree and whose sum is its
    variance."""
    lead = variance = 0.0
    for r, (g, a) in enumerate(zip(gate, right)):
        if g != a:
            w = 1.0 if weights is None else weights[r]
            lead += w if a else -w
            variance += w * w
    return (variance + lead) / 2, (variance - lead) / 2


def class_weights(arbiter, slot, labels):
    """Learner.classWeights: per held row, its class's share of the slot's first visits
    over its share of the held rows (None when the slot has no visits recorded)."""
    samples = arbiter.get("classSamples") or []
    if slot >= len(samples) or not len(labels):
        return None
    counts = {int(c): n for c, n in samples[slot].items()}
    total = float(sum(counts.values()))
    if total <= 0:
        return None
    rows = {}
    for y in labels:
        rows[int(y)] = rows.get(int(y), 0) + 1
    return [(counts.get(int(y), 0) / total) / (rows[int(y)] / len(labels)) for y in labels]


def judge_held_slots(f, learner):
    """Learner.snapshot(): when the head is stale or rows are held out, every slot with
    held rows (frozen slots' retained rows, then the slot in charge's holdout, in
    /sections/holdout) is judged again against the head `moe eval` uses
    (Learner.judge): the mixture's prediction with the gate, the network, the product
    and the prior answering in the slot in turn, the other slots as the arbiter says, is
    scored on the rows; each is counted against the gate's where they disagree, each row
    weighed as its class's share of the slot's first visits over its share of the rows
    (weighsHeldRowsByClass), and AnswerArbiter.decide chooses with holdoutZ. The decisions
    replace the saved ones in `learner`. (Swift then checks a decision other than the
    gate's on the replayed rows of the classes the slot stopped seeing; this script reads
    that check as saved.)"""
    if learner is None or "sections/holdout" not in f or "_served" in learner:
        return
    arbiter = learner.get("arbiter") or {}
    settings = arbiter.get("settings", {})
    if settings.get("fixed") or not settings.get("enabled", True):
        return
    h = f["sections/holdout"]
    held_y = h["labels"][()]
    if not (learner["counters"].get("headIsStale", False) or len(held_y)):
        return
    groups = []
    if "retained_labels" in h:
        rx, ry, rs = section_floats(h, "retained_features"), h["retained_labels"][()], h["retained_slots"][()]
        groups += [(s, rx[rs == s], ry[rs == s]) for s in sorted(set(rs.tolist()))]
    if len(held_y):
        groups.append((int(h.attrs["slot"]), section_floats(h, "features"), held_y))
    pairs = load_architecture(f).get("gatePairs") or []
    decided = list(arbiter.get("decided", []))
    threshold = settings.get("holdoutZ", settings.get("z", 1.5))
    for s, x, y in groups:
        if not any(pair["slot"] == s for pair in pairs) or not len(y):
            continue
        p = forward(f, learner, np.asarray(x, dtype=np.float32))
        tried = learner_answers(f, learner, p, trying=s)
        right = {name: [int(a) == int(b) for a, b in zip(tried[name], y)] for name in TRIED}
        weights = class_weights(arbiter, s, y) if settings.get("weighsHeldRowsByClass", False) else None
        tallies = {name: tally(right["gate"], right[name], weights) for name in ("network", "product", "prior")}
        choice, best = "gate", None
        for name in ("network", "product", "prior"):  # the first of the largest surplus, as Swift's max(by:)
            wins, losses = tallies[name]
            if advantage(wins, losses) > threshold and (best is None or wins - losses > best):
                choice, best = name, wins - losses
        undecided = dict(learner, arbiter=dict(arbiter, decided=[None] * max(len(decided), s + 1)))
        counted = arbiter_answer(undecided, s)
        while len(decided) <= s:
            decided.append(None)
        if (settings.get("holdoutDefersToCounts", False) and choice == "gate" and counted != "gate"
                and advantage(*tallies[counted]) >= -threshold):
            # A holdout that cannot tell leaves the slot to the counts, unless the gate is
            # ahead of their answer on it by the same margin.
            decided[s] = None
        else:
            decided[s] = choice
        arbiter = dict(arbiter, decided=list(decided))
        learner["arbiter"] = arbiter


def best_label(mass):
    """The label with the most mass (the smaller label on a tie)."""
    return max(mass.items(), key=lambda item: (item[1], -item[0]))[0]


def prior_log(counts, own):
    """Learner.priorLog: a slot's prior over its pairs, the log-share of each pair's
    samples in the gate's statistics (`counts`; at least half a sample each)."""
    return log_softmax([np.log(max(0.5, float(counts[k]) if k < len(counts) else 0.0)) for k, _ in own])


TRIED = ("gate", "network", "product", "prior")


def learner_answers(f, learner, p, trying=None, scores=None):
    """Learner.predict: with a gate that routes by (slot, class) pairs, the heaviest slots
    until they hold 99% of the mass (at most 3) each answer among their classes, with the
    network's, the gate's, the product's posterior or the slot's prior (prior_log) as the
    arbiter chose, weighted by the slot's mass; a `discriminant` predictor answers with
    the gate alone. Otherwise the logits answer among the classes seen. With `trying` (a
    slot), it returns the answers with each of TRIED in that slot in turn, the others as
    the arbiter chose, as a judgement on held rows tries them: a dict of arrays. With
    `scores` (a list), each row's class weights, normalised, and whether they are learned
    weights rather than class shares (a prior answering in the heaviest slot) are appended
    to it as (dict, bool), for calibrated_scores."""
    seen = sorted(learner.get("seenClasses", []))
    gate = p.architecture.get("gate") or {}
    variants = TRIED if trying is not None else (None,)
    answers = {v: [] for v in variants}

    def result():
        return {v: np.array(a) for v, a in answers.items()} if trying is not None else np.array(answers[None])

    def by_logits(r):
        allowed = [c for c in seen if c < p.logits.shape[1]] or list(range(p.logits.shape[1]))
        return allowed[int(np.argmax(p.logits[r, allowed]))]

    def score(weights, learned=True):
        if scores is not None:
            total = sum(weights.values())
            scores.append(({c: w / total for c, w in weights.items()} if total > 0 else {}, learned))

    def logits_weights(r):
        allowed = [c for c in seen if c < p.logits.shape[1]] or list(range(p.logits.shape[1]))
        top = p.logits[r, by_logits(r)]
        return {c: float(np.exp(p.logits[r, c] - top)) for c in allowed}

    if p.routing is None or not gate.get("routesByPairs") or p.routing[3] is None:
        for r in range(len(p.logits)):
            for v in variants:
                answers[v].append(by_logits(r))
            score(logits_weights(r))
        return result()
    selected, _, mass, z = p.routing
    pairs = p.architecture.get("gatePairs") or []
    members = [[(k, pairs[k]["label"]) for k in own] for own in p.columns]
    discriminant = learner["configuration"].get("predictor") == "discriminant"
    counts = f["sections/gate_statistics/counts"][()] if "sections/gate_statistics" in f else np.zeros(0)
    if trying is None and not discriminant and (learner.get("_served") or {}).get("most_frequent"):
        # The stream's most frequent class answers every input (AnswerArbiter.answersMostFrequent),
        # its score the class shares of the gate's statistics.
        shares = {}
        for k, pair in enumerate(pairs):
            if k < len(counts):
                shares[pair["label"]] = shares.get(pair["label"], 0.0) + float(counts[k])
        for _ in range(len(z)):
            answers[None].append(best_label(shares) if shares else 0)
            score(shares, False)
        return result()
    chosen_answer = [arbiter_answer(learner, s) for s in range(len(members))]
    for r in range(len(z)):
        if discriminant:
            weights = np.exp(z[r] - z[r].max())
            totals = {}
            for k, pair in enumerate(pairs):
                totals[pair["label"]] = totals.get(pair["label"], 0.0) + weights[k]
            for v in variants:
                answers[v].append(best_label(totals))
            score(totals)
            continue
        order = sorted((s for s in range(len(members)) if members[s] and mass[r, s] > 0), key=lambda s: (-mass[r, s], s))
        routed, total = [], 0.0
        for s in order[:3]:
            routed.append(s)
            total += mass[r, s]
            if total >= 0.99:
                break
        if not routed:
            for v in variants:
                answers[v].append(by_logits(r))
            score({by_logits(r): 1.0}, chosen_answer[0] != "prior" if chosen_answer else True)
            continue
        class_mass = {v: {} for v in variants}
        for s in routed:
            own = members[s]
            values = slot_logits(f, p, s, r)
            network = log_softmax([values[label] for _, label in own])
            gate_log = log_softmax([z[r, k] for k, _ in own])
            distributions = {"network": network, "gate": gate_log, "product": log_softmax(network + gate_log)}
            for v in variants:
                answer = v if s == trying else chosen_answer[s]
                if answer not in distributions:
                    distributions[answer] = prior_log(counts, own)
                for (_, label), value in zip(own, distributions[answer]):
                    class_mass[v][label] = class_mass[v].get(label, 0.0) + mass[r, s] * np.exp(value)
        for v in variants:
            answers[v].append(best_label(class_mass[v]))
        score(class_mass[variants[0]], chosen_answer[routed[0]] != "prior")
    return result()


CALIBRATION_SHARES = (0.0, 1e-4, 1e-3, 1e-2, 0.03, 0.1, 0.3)
CALIBRATION_TEMPERATURES = tuple(2.0 ** (k / 2) for k in range(-6, 9))


def fitted_calibration(learner):
    """ScoreCalibration.fitted: the temperature and share of doubt whose expected loss (each
    class's weighted mean, weighed by its share of the rows counted) is least, shares
    major, the first on ties; None while nothing is counted (files saved before it)."""
    calibration = (learner or {}).get("calibration")
    if not calibration or not calibration["classes"]:
        return None
    counted = np.array(calibration["counted"], dtype=np.float64)
    total = counted.sum()
    if total <= 0:
        return None
    expected = np.zeros(len(CALIBRATION_SHARES) * len(CALIBRATION_TEMPERATURES))
    for k in range(len(counted)):
        expected += counted[k] / total / calibration["faded"][k] * np.array(calibration["losses"][k])
    best = int(np.argmin(expected))
    return CALIBRATION_TEMPERATURES[best % len(CALIBRATION_TEMPERATURES)], CALIBRATION_SHARES[best // len(CALIBRATION_TEMPERATURES)]


def calibrated_scores(learner, scores, class_count):
    """Learner.predictWithScores: every class's probability (rows x classes), the learned
    weights over the classes seen tempered, q ∝ p^(1/T), and given a share of doubt,
    (1 - a) q + a / K (ScoreCalibration.calibrate); class shares (a prior answering) and
    every row while nothing is counted as they are; classes never seen 0."""
    seen = [c for c in sorted((learner or {}).get("seenClasses", [])) if c < class_count]
    fitted = fitted_calibration(learner)
    result = np.zeros((len(scores), class_count))
    for r, (weights, learned) in enumerate(scores):
        for c, w in weights.items():
            if c < class_count:
                result[r, c] = w
        if fitted is None or not learned or not seen:
            continue
        t, a = fitted
        row = np.array([result[r, c] for c in seen])
        top = row.max()
        tempered = np.zeros(len(row))
        if top > 0:
            positive = row > 0
            tempered[positive] = np.exp(np.log(row[positive] / top) / t)
            tempered /= tempered.sum()
        else:
            tempered[:] = 1 / len(row)
        result[r, seen] = (1 - a) * tempered + a / len(row)
    return result


def allowed_classes(p, r):
    """MixtureOfExperts.predictionClasses: the classes row `r` is predicted among, those of
    its routed slots when the gate restricts predictions; None for every class."""
    if p.routing is None or not p.architecture["gate"].get("restrictsPredictions"):
        return None
    classes = [set(e) if e is not None else None for e in
               ([p.architecture["trunkClasses"]] if p.architecture["gate"]["includesTrunk"] else []) + [e["classes"] for e in p.experts]]
    if any(classes[s] is None for s in p.routing[0][r]):
        return None
    return sorted({c for s in p.routing[0][r] for c in classes[s] if c < p.logits.shape[1]}) or None


def model_answers(p):
    """MixtureOfExperts.predictions (a model without a learner): the argmax, among the
    classes of the routed slots when the gate restricts predictions."""
    choices = np.argmax(p.logits, axis=1)
    for r in range(len(choices)):
        allowed = allowed_classes(p, r)
        if allowed:
            choices[r] = allowed[int(np.argmax(p.logits[r, allowed]))]
    return choices


def model_scores(p, predicted):
    """MixtureOfExperts.predictionScores: the softmax over the classes a model predicts
    among (the routed slots' classes when the gate restricts predictions, else all)."""
    result = np.zeros(p.logits.shape)
    for r in range(len(predicted)):
        allowed = allowed_classes(p, r) or list(range(p.logits.shape[1]))
        values = np.exp(p.logits[r, allowed] - p.logits[r, predicted[r]])
        result[r, allowed] = values / values.sum()
    return result


# ---- a CSV file read as moe read the learner's stream ---------------------------------
#
# A learner streamed from a CSV file keeps that file's layout in /sections/stream (its
# `source` and `position`: docs/checkpoint-format.md): the label column, the columns left
# out, the header's names, the text columns and their values, the means missing values
# take and the columns whose gaps have an indicator. `moe predict` and `moe eval` read
# every later file with it (CSVSource), and so does read_stream_csv.

MISSING_MARKS = {"", "?", "NA", "N/A", "na", "n/a", "NaN", "nan", "null", "NULL", "None", "-", "#N/A", "#NA", "<NA>"}
CURRENCIES = "$\u20ac\u00a3\u00a5"


def marks_missing(text):
    """CSVFormat.marksMissing: a missing mark, or NaN spelled any way printf writes it."""
    if text in MISSING_MARKS:
        return True
    t = text[1:] if text[:1] in "+-" else text
    if len(t) < 3 or t[:3].lower() != "nan":
        return False
    payload = t[3:]
    return payload == "" or (payload[0] == "(" and payload[-1] == ")" and ")" not in payload[1:-1])


def text_indicator(text, indicators):
    """CSVFormat.indicator: the shared indicator of a value beyond a column's own ones
    (64-bit FNV-1a of its UTF-8 bytes, mixed by MurmurHash3's finaliser)."""
    h = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x100000001B3) & MASK
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK
    h ^= h >> 33
    return h % indicators


def float32_of(text):
    """The decimal `text` correctly rounded to float32, as Swift's Float(text) and strtof
    give it (float() rounds to float64 first; where that lands on a midpoint of two
    float32 values, the exact decimal decides), infinity for a value no float32 holds
    (`inf`, `nan`, `1e39`, as strtof reads them), or None when it is not a number."""
    t = text.strip(" \t")
    if not t or "_" in t:
        return None
    try:
        d = float(t)
    except ValueError:
        return None
    if not math.isfinite(d) or abs(d) >= 2.0 ** 128 - 2.0 ** 103:   # rounds past float32's largest
        return math.inf
    f = np.float32(d)
    if float(f) != d:
        with np.errstate(over="ignore"):   # past the largest float32, the next one is infinity
            other = np.nextafter(f, np.float32(math.copysign(math.inf, d - float(f))))
        middle = (float(f) + float(other)) / 2
        if middle == d:
            from fractions import Fraction
            exact = Fraction(t)
            if abs(exact - Fraction(float(other))) < abs(exact - Fraction(float(f))):
                f = other
    return float(f)


def dressed_number(text, separator):
    """CSVRowParser.dressedNumber: a currency sign before or after the digits, a `%`
    after them, thousands grouped in threes by `,`, `.` or `'`; None for anything else."""
    s = text.strip(" \t")
    negative = dressed = False

    def sign(s, negative):
        if s[:1] in ("-", "+"):
            return s[1:], negative != (s[0] == "-")
        return s, negative

    s, negative = sign(s, negative)
    if s[:1] and s[0] in CURRENCIES:
        s = s[1:].lstrip(" ")
        dressed = True
        if not negative:
            s, negative = sign(s, negative)
    if s[-1:] == "%" or (s[-1:] and s[-1] in CURRENCIES):
        s = s[:-1].rstrip(" ")
        dressed = True
    if not s or not s[0].isascii() or not s[0].isdigit() or not all(c.isascii() and (c.isdigit() or c in ",.'") for c in s):
        return None
    commas, dots, quotes = s.count(","), s.count("."), s.count("'")
    decimal = group = None
    if commas and dots:
        decimal = "," if s.rindex(",") > s.rindex(".") else "."
        group = "." if decimal == "," else ","
        if quotes:
            return None
    elif quotes:
        if commas:
            return None
        group = "'"
        decimal = "." if dots == 1 else None
    elif commas:
        groups_of_three = all(len(part) == 3 for part in s.split(",")[1:])
        if commas == 1 and (separator != "," or not groups_of_three):
            decimal = ","
            if separator == ",":
                return None
        else:
            group = ","
    elif dots > 1:
        group = "."
    elif dots == 1:
        decimal = "."
    if decimal is not None and s.count(decimal) != 1:
        return None
    parts = s.split(decimal) if decimal is not None else [s]
    whole, fraction = parts[0], parts[1] if len(parts) > 1 else ""
    if not whole or not fraction.isdigit() and fraction != "" or (decimal is not None and fraction == ""):
        return None
    digits = whole
    if group is not None:
        groups = whole.split(group)
        if len(groups) < 2 or not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:]) \
                or not all(g.isdigit() for g in groups):
            return None
        digits = "".join(groups)
        dressed = True
    if not dressed or not digits.isdigit():
        return None
    value = float32_of(("-" if negative else "") + digits + ("." + fraction if fraction else ""))
    return value if value is not None and math.isfinite(value) else None


def load_stream_layout(f):
    """The CSV layout of the stream a learner learned from (/sections/stream), or None
    when it learned from something else (a scenario, IDX files) or saved no stream."""
    if "sections/stream/state" not in f:
        return None
    state = json.loads(f["sections/stream/state"].asstr()[0])
    source = state.get("source", {})
    if source.get("kind") != "csv":
        return None
    position = state.get("position", {}).get("source", {})
    return {"source": source, "position": position}


def closing_quote(line, opening):
    """The index of the quote that closes the field opened at `opening` (a doubled quote
    is a quote inside it), or the line's length when none does (CSVRowParser.closingQuote)."""
    k, n = opening + 1, len(line)
    while k < n:
        if line[k] == '"':
            if k + 1 < n and line[k + 1] == '"':
                k += 2
                continue
            break
        k += 1
    return k


def split_fields(line, separator):
    """A line's fields as (text, quoted), as CSVRowParser splits it: a quote opens a
    quoted field only at its start (blanks before it allowed), `""` inside is a quote;
    with the blank separator, runs of spaces and tabs separate fields."""
    fields, i, n = [], 0, len(line)
    blank = separator == " "
    while True:
        j = i
        while j < n and line[j] in " \t" and line[j] != separator:
            j += 1
        if blank:
            i = j
            if i >= n:
                break
        if j < n and line[j] == '"':
            k = closing_quote(line, j)
            fields.append((line[j + 1:k].replace('""', '"'), True))
            i = min(k + 1, n)
            while i < n and (line[i] not in " \t" if blank else line[i] != separator):
                i += 1
        else:
            m = i
            while m < n and (line[m] not in " \t" if blank else line[m] != separator):
                m += 1
            fields.append((line[i:m], False))
            i = m
        if blank:
            continue
        if i < n:
            i += 1
            continue
        break
    return fields


def field_text(field):
    text, quoted = field
    return text if quoted else text.strip(" \t")


def csv_rows(path, separator):
    """(line number, line) of every non-blank row of a CSV file, plain or gzip: line ends
    LF, CRLF or CR, a line end inside a quoted field part of its text."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        import gzip
        data = gzip.decompress(data)
    if data[:3] == b"\xef\xbb\xbf":
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[:error.start].count(b"\n") + 1
        raise CheckpointError(f"{path}, line {line}: the file is not UTF-8 text") from None
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    k = 0
    while k < len(lines):
        number, line = k + 1, lines[k]
        k += 1
        while _quote_open(line, separator) and k < len(lines):
            line += "\n" + lines[k]
            k += 1
        if line.strip(" \t"):
            yield number, line


def _quote_open(line, separator):
    """Whether a quoted field opened in `line` (at a field's start, as split_fields reads
    it) is not closed by its end: the row goes on over the next line."""
    blank = separator == " "
    ends = (lambda c: c in " \t") if blank else (lambda c: c == separator)
    i, n = 0, len(line)
    while True:
        j = i
        while j < n and line[j] in " \t" and line[j] != separator:
            j += 1
        if j < n and line[j] == '"':
            k = closing_quote(line, j)
            if k >= n:
                return True
            i = k + 1
        else:
            i = j
        while i < n and not ends(line[i]):
            i += 1
        if i >= n:
            return False
        i += 1


class StreamLayout:
    """The columns of the learner's rows: which field is the label, which are left out,
    which are text (and their own values), which are flagged, and every field's feature."""

    def __init__(self, layout, width):
        source, position = layout["source"], layout["position"]
        if position.get("rowNamesLeftOut"):
            raise CheckpointError(
                "the learner's rows began with R's row names, left out; this script does not read such files: use moe predict")
        self.names = position.get("columnNames")
        # A folded svmlight file's header, as SVMLightLines.layout(ofHeader:) knows it:
        # `label,hash0,hash1,…`.
        if self.names and self.names[:2] == ["label", "hash0"]:
            raise CheckpointError(
                "the learner's rows were folded into hashed columns (a file wider than 16,384 columns or svmlight); "
                "this script does not fold them: use moe predict")
        self.separator = source.get("separator", ",")
        self.detects_separator = bool(source.get("detectsSeparator"))
        self.indicators = source.get("textIndicators") or 0
        self.text = position.get("textColumns") or []
        self.values = position.get("textValues") or [[] for _ in self.text]
        self.slot = {field: i for i, field in enumerate(self.text)}   # a text column's place among them
        self.flagged = sorted(position.get("flaggedColumns") or [])
        self.blank = set(position.get("blankColumns") or [])
        imputation = position.get("imputation")
        if source.get("imputesMissing") is False:
            imputation = None
        self.imputation = imputation
        ignored = source.get("ignoredColumns") or []
        text_slots = len(self.text)
        # The fields of a row with its label: from the header, else from the width as
        # CSVSource.readHeader counts them.
        if self.names:
            self.fields = len(self.names)
        else:
            self.fields = width + 1 + len(set(ignored)) - text_slots * (self.indicators - 1) - len(self.flagged)
        self.ignored = set()
        for name in ignored:
            if self.names and name in self.names:
                self.ignored.add(self.names.index(name))
            else:
                try:
                    self.ignored.add(int(name))
                except ValueError:
                    raise CheckpointError(f"the learner left out a column named '{name}', but its stream kept no header") from None
        label = source.get("labelColumn", {"first": {}})
        if "first" in label:
            self.label = 0
        elif "last" in label:
            self.label = self.fields - 1
        elif "index" in label:
            self.label = int(label["index"]["_0"])
        elif "name" in label:
            wanted = label["name"]["_0"]
            if not self.names or wanted not in self.names:
                raise CheckpointError(f"the learner's label column '{wanted}' is not among its header's names")
            self.label = self.names.index(wanted)
        else:
            raise CheckpointError(f"the learner's label column {json.dumps(label)} is not one this script reads")
        # Each field's first feature.
        self.feature = {}
        k = 0
        for field in range(self.fields):
            if field == self.label or field in self.ignored:
                continue
            self.feature[field] = k
            k += self.indicators if field in self.slot else 1
        self.flag_feature = {field: k + i for i, field in enumerate(self.flagged)}
        self.width = k + len(self.flagged)
        if self.width != width:
            raise CheckpointError(
                f"the learner's saved stream layout gives {self.width} features, its network reads {width}")

    def fill(self, k, where):
        if self.imputation is None:
            raise CheckpointError(f"{where}: the value is missing, and the learner's stream filled none (--missing error)")
        settled = self.imputation.get("settled")
        if settled is not None and k < len(settled) and settled[k] is not None:
            return float(np.float32(settled[k]))
        count = self.imputation["rows"] - self.imputation["missing"][k]
        return float(np.float32(self.imputation["sums"][k] / count)) if count > 0 else 0.0


def read_stream_csv(path, layout, width, labelled):
    """A CSV file's rows as the learner's features (float32 values), as `moe predict`
    reads them for it: its header (placed by name where it names the columns in another
    order or leaves the label out), its label column with `labelled` (the label's values
    returned, not read as features), its text columns' indicators, missing values filled
    with the stream's means, gaps flagged. Returns (x, labels or None, warnings)."""
    shape = StreamLayout(layout, width)
    x, labels, unseen = [], [], {}
    order = None          # the file's field for each learned field, when placed by name
    has_label = labelled
    first = True
    for number, line in csv_rows(path, shape.separator):
        if first and line.lstrip(" \t")[:1] in ("@", "{"):
            raise CheckpointError(f"{path}: ARFF and JSON lines files are not read by this script: use moe predict")
        if first and line.lstrip(" \t").startswith("#"):
            continue
        if first and line.strip(' \t"').lower().startswith("sep=") and len(line.strip(' \t"')) == 5:
            shape.separator = line.strip(' \t"')[4]
            continue
        fields = split_fields(line, shape.separator)
        if first and shape.detects_separator and len(fields) not in (shape.fields, shape.fields - 1):
            # The stream found its separator in its file's first lines; so does moe for this file.
            for separator in (",", ";", "\t", "|"):
                if len(split_fields(line, separator)) in (shape.fields, shape.fields - 1):
                    shape.separator = separator
                    fields = split_fields(line, separator)
                    break
        if first:
            first = False
            texts = [field_text(field) for field in fields]
            keys, learned = [column_key(t) for t in texts], [column_key(n) for n in shape.names or []]
            if learned and (keys == learned or keys == learned[:shape.label] + learned[shape.label + 1:]):
                has_label = has_label or keys == learned
                continue
            if learned and len(keys) >= 2 and not any(float32_of(t) is not None for t in texts) \
                    and 2 * sum(k in learned for k in keys) >= len(learned):
                # A header naming the learned columns in another order, or without the label.
                places = {column_key(t): i for i, t in enumerate(texts)}
                lacking = [n for i, n in enumerate(shape.names)
                           if column_key(n) not in places and i != shape.label and i not in shape.ignored]
                if lacking:
                    raise CheckpointError(f"{path}: the header lacks the learned columns {', '.join(repr(n) for n in lacking)}")
                order = [places.get(column_key(n)) for n in shape.names]
                has_label = order[shape.label] is not None
                if labelled and not has_label:
                    raise CheckpointError(f"{path}: --labelled, but the header has no column '{shape.names[shape.label]}'")
                continue
            if is_header(texts, shape):
                has_label = has_label or len(texts) == shape.fields
                continue
        if order is not None:
            fields = [fields[i] if i is not None and i < len(fields) else ("", False) for i in order]
        else:
            expected = shape.fields if has_label else shape.fields - 1
            if len(fields) == expected + 1 and fields[-1] == ("", False):
                fields = fields[:-1]   # a separator closing the line, as some exporters write
            if len(fields) != expected:
                if not has_label and len(fields) == shape.fields:
                    raise CheckpointError(
                        f"{path}, line {number}: the row has {len(fields)} fields, as the learner's rows with their label; "
                        f"give --labelled if the file holds the label column, or leave the column out")
                with_label = "with" if has_label else "without"
                raise CheckpointError(f"{path}, line {number}: the row has {len(fields)} fields, the learner's rows "
                                      f"{with_label} their label have {expected}")
            if not has_label:
                fields = fields[:shape.label] + [("", False)] + fields[shape.label:]
        row = [0.0] * shape.width
        for field, k in shape.feature.items():
            text = field_text(fields[field])
            if field in shape.slot:
                slot = shape.slot[field]
                if marks_missing(text):
                    continue
                own = shape.values[slot] if slot < len(shape.values) else []
                if text in own:
                    row[k + own.index(text)] = 1.0
                elif len(own) < shape.indicators:
                    unseen[(field, text)] = unseen.get((field, text), 0) + 1
                else:
                    row[k + text_indicator(text, shape.indicators)] = 1.0
                continue
            value = float32_of(fields[field][0])
            if value is None and shape.separator != "," and text.count(",") == 1 and "." not in text:
                value = float32_of(text.replace(",", "."))   # a decimal comma
            if value is None:
                value = dressed_number(text, shape.separator)
            if value is not None and math.isfinite(value):
                row[k] = value
                continue
            blank = (value is None and field in shape.blank and shape.imputation is not None
                     and shape.imputation["rows"] == shape.imputation["missing"][k])
            if not marks_missing(text) and not blank:
                what = "is not finite" if value is not None else "is not a number"
                raise CheckpointError(f"{path}, line {number}, column {field + 1} ({column_name(shape, field)}): "
                                      f"the field '{text}' {what}")
            row[k] = shape.fill(k, f"{path}, line {number}, column {field + 1}")
            if field in shape.flag_feature:
                row[shape.flag_feature[field]] = 1.0
        x.append(row)
        if has_label:
            labels.append(field_text(fields[shape.label]))
    if not x:
        raise CheckpointError(f"{path}: no rows to predict")
    warnings = []
    if unseen:
        examples = ", ".join(f"'{text}' in {column_name(shape, field)}" for (field, text) in list(unseen)[:5])
        count = sum(unseen.values())
        warnings.append(f"{count} text value{'s' if count != 1 else ''} the learner never saw ({examples}) read as missing")
    return np.asarray(x, dtype=np.float32).astype(np.float64), (labels if has_label else None), warnings


def column_key(name):
    """CSVSource.columnKey: a header name compared with spaces trimmed, in any case."""
    return name.strip(" \t").lower()


def column_name(shape, field):
    if shape.names and field < len(shape.names):
        return f"'{shape.names[field]}'"
    return f"column {field} (0-based)"


def is_header(texts, shape):
    """Whether a first row is a header: a field the learner reads as a number holds text
    that is neither a number nor a missing mark."""
    if len(texts) == shape.fields - 1:
        texts = texts[:shape.label] + [""] + texts[shape.label:]
    if len(texts) != shape.fields:
        return False
    return any(not marks_missing(texts[field]) and float32_of(texts[field]) is None
               and dressed_number(texts[field], shape.separator) is None
               for field in shape.feature if field not in shape.slot)


def same_label(name, text):
    """Whether a row's label is the class `name`: the same text, or the same number
    written otherwise (`1` and `1.0`)."""
    if name == text:
        return True
    a, b = float32_of(name), float32_of(text)
    return a is not None and a == b


def read_inputs(path):
    if path.endswith(".npy"):
        x = np.load(path)
    else:
        x = np.loadtxt(path, delimiter=",", ndmin=2)
    if x.ndim != 2:
        raise CheckpointError(f"{path}: inputs must be 2-D (one sample per row), got shape {x.shape}")
    return x.astype(np.float32).astype(np.float64)


def main(argv):
    parser = argparse.ArgumentParser(description="Reproduce a moe checkpoint's logits or predictions with numpy and h5py.")
    parser.add_argument("checkpoint")
    parser.add_argument("inputs", help=".npy or .csv, one sample per row")
    parser.add_argument("--classes", action="store_true", help="print the predicted class of every row instead of the logits")
    parser.add_argument("--scores", action="store_true",
                        help="print every class's probability, as moe predict --scores gives it (a header names the classes), instead of the logits")
    parser.add_argument("--output", help="write to this .npy or .csv file instead of printing")
    parser.add_argument("--labelled", action="store_true",
                        help="the CSV file holds the label column where the learner's stream had it: its values are not "
                             "read as features, and the accuracy goes to stderr (as moe predict --labelled)")
    parser.add_argument("--no-verify", action="store_true", help="skip the header and digest check")
    args = parser.parse_args(argv)
    try:
        if not args.no_verify:
            verify(args.checkpoint)
        with h5py.File(args.checkpoint, "r") as f:
            version = int(f.attrs["format_version"])
            if version != SUPPORTED_VERSION:
                raise CheckpointError(f"unsupported format version {version}; this script reads {SUPPORTED_VERSION}")
            width = int(f["model/trunk/sizes"][0][0])
            layout = load_stream_layout(f)
            truth = None
            if layout is not None and not args.inputs.endswith(".npy"):
                x, truth, warnings = read_stream_csv(args.inputs, layout, width, args.labelled)
                for warning in warnings:
                    print(f"warning: {warning}", file=sys.stderr)
            elif args.labelled:
                why = (f"{args.inputs} holds the network's inputs" if layout is not None else
                       "this checkpoint keeps no CSV stream (a model, or a learner streamed from another source)")
                raise CheckpointError(f"--labelled reads a CSV file laid out as the learner's stream, and {why}")
            else:
                x = read_inputs(args.inputs)
            if x.shape[1] != width:
                raise CheckpointError(f"the model expects {width} inputs per row, {args.inputs} has {x.shape[1]}")
            learner = load_learner_state(f)
            load_served(f, learner)
            served = learner is not None and "_served" in learner
            if not served and head_judged_on_replayed_rows(f, learner):
                raise CheckpointError(
                    "this checkpoint was saved before /sections/served held what moe eval answers with, and moe "
                    "eval judges its gate head on its replayed rows before it predicts (a head other than plain "
                    "OAS answers, in a stream whose labels came in runs), which this script does not reproduce; "
                    "use moe eval, or a checkpoint saved by this version of moe")
            if not served and stream_comes_in_runs(learner):
                print("note: this checkpoint was saved before /sections/served, and its learner's stream came in "
                      "runs (labels or inputs), so moe eval also judges its answers on the replayed rows, which this "
                      "script does not reproduce; where a judgement changes a slot's answer the predictions differ "
                      "(moe eval says who answers)", file=sys.stderr)
            judge_held_slots(f, learner)
            p = forward(f, learner, x)
            result = p.logits
            labels = f["classes"].asstr()[()] if f["classes"].dtype.kind == "O" else f["classes"][()]
            if args.classes or truth is not None:
                predicted = learner_answers(f, learner, p) if learner is not None else model_answers(p)
                if truth is not None:
                    right = sum(same_label(str(labels[c]), t) for c, t in zip(predicted, truth))
                    print(f"accuracy {right / len(truth):.4f} ({right} of {len(truth)} rows of {args.inputs})", file=sys.stderr)
            if args.classes:
                result = np.asarray(labels)[predicted]
            elif args.scores:
                if learner is not None:
                    weights = []
                    learner_answers(f, learner, p, scores=weights)
                    result = calibrated_scores(learner, weights, p.logits.shape[1])
                else:
                    result = model_scores(p, model_answers(p))
    except (CheckpointError, OSError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.output and args.output.endswith(".npy"):
        np.save(args.output, result)
    elif args.classes:
        text = "\n".join(str(c) for c in result) + "\n"
        if args.output:
            open(args.output, "w").write(text)
        else:
            sys.stdout.write(text)
    elif args.scores:
        header = ",".join(str(label) for label in labels[:result.shape[1]])
        np.savetxt(args.output or sys.stdout, result, delimiter=",", fmt="%.9g", header=header, comments="")
    elif args.output:
        np.savetxt(args.output, result, delimiter=",", fmt="%.9g")
    else:
        np.savetxt(sys.stdout, result, delimiter=",", fmt="%.9g")
    return 0


if __name__ == "__main__":
    try:
        status = main(sys.argv[1:])
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`| head`): as other command-line tools, stop quietly.
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 0
    sys.exit(status)
