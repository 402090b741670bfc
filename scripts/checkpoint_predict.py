#!/usr/bin/env python3
"""Reproduce a moe checkpoint's predictions with numpy and h5py only.

    checkpoint_predict.py CHECKPOINT INPUTS [--classes] [--output FILE] [--no-verify]

INPUTS is a .npy file or a comma-separated .csv file with one sample per row. The
logits are printed as CSV, or with --classes the predicted class of every row (the
label stored in /classes), or written to FILE (.npy or .csv).

The checkpoint's 512-byte header (magic, format version, payload length, XXH64
digest; see docs/checkpoint-format.md) is verified first unless --no-verify is given;
h5py itself skips the header (it is an HDF5 user block). A signature in the header is
not checked here (that needs an Ed25519 implementation; `moe inspect --trust-key` does).

What it reproduces, format version 1, one small function per step, as the Swift library
computes it (MixtureOfExperts.forward and .predictions, Learner.predict, which is what
`moe eval` uses for a learner's checkpoint):

  scale_inputs       the input as the model reads it (no scaling is stored today: identity)
  trunk_forward      x @ W + b per dense layer, then relu/tanh/sigmoid; the hidden
                     activations are the outputs of the nonlinearities
  extension_logits   classes added later: the last dense layer's input @ V_k + c_k,
                     appended as columns
  gate_input         what the gate reads: the network input or a hidden layer
  class_head         a class-posterior gate's head: as stored, or, for a learner whose
                     head is stale (/sections/learner/state), refitted from the class
                     statistics in /sections/gate_statistics (fit_discriminant: pooled
                     within-class covariance shrunk by OAS, w_c = S^-1 mu_c,
                     b_c = -mu_c.w_c/2 + log(n_c/n)), as Learner.snapshot() does
  route_by_classes   a class-posterior gate: softmax over the head's logits on random
                     ReLU features of the gate input; a slot's score is the log of the
                     probability mass of its classes; the top k slots, weights
                     renormalised over them
  route_learned      a learned gate: linear scores plus bias per slot, softmax; all slots
                     or the top k; weights the probabilities (renormalised if configured)
  expert_output      an expert: its detectors' activations, then its context (the
                     layer's input or output), through dense-activation-dense
  mixture_logits     trunk logits plus, on the rows routed to each expert, its output
                     times its routing weight (in the first columns)
  predicted_classes  the argmax, among the classes of the routed slots when the gate
                     restricts predictions; a learner whose predictor is "discriminant"
                     answers with the gate's head alone

Swift computes in float32 and this script in float64 from the same float32 weights, so
logits agree to about 1e-6 relative; a prediction can differ only on a near tie.
"""
import argparse
import json
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
    """The input as the model reads it. Nothing scales inputs in format version 1."""
    return x


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


def gate_features(f, u):
    """A class-posterior gate's fixed random ReLU features of its input."""
    return np.maximum(u @ parameter(f, "gate.features.weight") + parameter(f, "gate.features.bias"), 0)


def fit_discriminant(f, class_count):
    """The head Learner.refitHead() computes from /sections/gate_statistics: a linear
    discriminant with a shared covariance shrunk by Oracle Approximating Shrinkage."""
    s = f["sections/gate_statistics"]
    p = int(s.attrs["feature_count"])
    counts, sums = s["counts"][()], s["sums"][()].reshape(-1, p)
    packed = s["scatter"][()]
    scatter = np.zeros((p, p))
    scatter[np.triu_indices(p)] = packed
    pending = s["pending"][()].astype(np.float32).reshape(-1, p) if "pending" in s else np.zeros((0, p), np.float32)
    if len(pending):
        scatter += np.triu(pending.T @ pending).astype(np.float64)
    n = counts.sum()
    upper = np.triu(scatter) / n
    trace = np.trace(upper)
    trace_of_square = np.sum(np.diag(upper) ** 2) + 2 * np.sum(np.triu(upper, 1) ** 2)
    numerator = (1 - 2 / p) * trace_of_square + trace * trace
    denominator = (n + 1 - 2 / p) * (trace_of_square - trace * trace / p)
    rho = min(1.0, numerator / denominator) if denominator > 0 else 1.0
    covariance = np.triu(scatter) * (1 - rho) / n
    covariance = covariance + np.triu(covariance, 1).T + np.eye(p) * (rho * trace / p)
    seen = np.nonzero(counts > 0)[0]
    means = sums[seen] / counts[seen, None]
    solutions = np.linalg.solve(covariance, means.T).T
    weight = np.zeros((p, class_count))
    bias = np.full((1, class_count), UNSEEN_CLASS_BIAS)
    for row, label in enumerate(seen):
        weight[:, label] = solutions[row].astype(np.float32)
        bias[0, label] = np.float32(-0.5 * means[row] @ solutions[row] + np.log(counts[label] / n))
    return weight, bias


def class_head(f, learner, class_count):
    """A class-posterior gate's head: refitted when the learner's is stale, as
    `moe eval` does; else as stored."""
    stale = learner is not None and learner["counters"].get("headIsStale", False)
    if stale and "sections/gate_statistics" in f and f["sections/gate_statistics/counts"][()].sum() > 1:
        weight, bias = fit_discriminant(f, class_count)
        if np.all(np.isfinite(weight)) and np.all(np.isfinite(bias)):
            return weight, bias
    return parameter(f, "gate.head.weight"), parameter(f, "gate.head.bias")


def top_k(scores, k):
    """The k highest-scoring slots of every row, best first; ties go to the lower slot."""
    order = np.argsort(-scores, axis=1, kind="stable")
    return order[:, :k]


def route_by_classes(f, learner, gate, x, hidden, slot_classes, class_count):
    """A class-posterior gate's routing: (selected slots, their weights), n x k each."""
    weight, bias = class_head(f, learner, class_count)
    z = gate_features(f, gate_input(gate, x, hidden)) @ weight + bias
    z = z - z.max(axis=1, keepdims=True)
    mass_of_class = np.exp(z)
    total = mass_of_class.sum(axis=1)
    scores = np.full((len(x), len(slot_classes)), -np.inf)
    mass = np.zeros((len(x), len(slot_classes)))
    for s, classes in enumerate(slot_classes):
        members = [c for c in classes if c < z.shape[1]]
        if members:
            part = mass_of_class[:, members].sum(axis=1)
            mass[:, s] = part / total
            with np.errstate(divide="ignore"):
                scores[:, s] = np.where(part > 0, np.log(part / total), -np.inf)
    _, k = case(gate["selection"])
    return renormalised(mass, top_k(scores, min(k, len(slot_classes))))


def route_learned(f, gate, experts, x, hidden, slot_names):
    """A learned gate's routing: linear scores plus bias per slot, softmax."""
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
        return renormalised(p, selected)
    return selected, np.take_along_axis(p, selected, axis=1)


def renormalised(mass, selected):
    """Weights of the selected slots: their mass over the mass of all selected."""
    chosen = np.take_along_axis(mass, selected, axis=1)
    total = chosen.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return selected, np.where(total > 0, chosen / total, 1.0 / selected.shape[1])


# ---- the whole model -----------------------------------------------------------------

def mixture_logits(f, learner, x):
    """The final logits, and the routing with the class set of every slot (None
    without experts)."""
    architecture = load_architecture(f)
    unknown = sorted(set(f["model"].keys()) - {"trunk"})
    if unknown:
        raise CheckpointError(f"this script does not know the model parts {unknown}; update it for this checkpoint")
    x = scale_inputs(f, learner, x)
    logits, hidden, last_input = trunk_forward(load_trunk(f), x)
    logits = np.concatenate([logits] + extension_logits(f, architecture, last_input), axis=1)
    experts = architecture["experts"]
    if not experts:
        return logits, None
    gate = architecture["gate"]
    trunk_slot = ["trunk"] if gate["includesTrunk"] else []
    slot_names = trunk_slot + [str(e) for e in range(len(experts))]
    slot_classes = ([architecture["trunkClasses"]] if trunk_slot else []) + [e["classes"] for e in experts]
    if case(gate["kind"])[0] == "classPosterior":
        selected, weights = route_by_classes(f, learner, gate, x, hidden, slot_classes, logits.shape[1])
    else:
        selected, weights = route_learned(f, gate, experts, x, hidden, slot_names)
    mixed = logits.copy()
    for e, expert in enumerate(experts):
        slot = len(trunk_slot) + e
        rows, position = np.nonzero(selected == slot)
        if len(rows) == 0:
            continue
        correction = expert_output(f, e, expert, hidden[:], x)[rows] * weights[rows, position][:, None]
        mixed[rows, :correction.shape[1]] += correction
    return mixed, (selected, slot_classes, gate)


def predicted_classes(f, learner, x, logits, routing):
    """The predicted logit index of every row (MixtureOfExperts.predictions, or the
    gate's head for a learner whose predictor is the discriminant)."""
    if learner is not None and learner["configuration"].get("predictor") == "discriminant":
        architecture = load_architecture(f)
        _, hidden, _ = trunk_forward(load_trunk(f), scale_inputs(f, learner, x))
        weight, bias = class_head(f, learner, logits.shape[1])
        return np.argmax(gate_features(f, gate_input(architecture["gate"], x, hidden)) @ weight + bias, axis=1)
    best = np.argmax(logits, axis=1)
    if routing is None or not routing[2]["restrictsPredictions"]:
        return best
    selected, slot_classes, _ = routing
    choices = best.copy()
    for r in range(len(x)):
        if any(slot_classes[s] is None for s in selected[r]):
            continue
        allowed = sorted({c for s in selected[r] for c in slot_classes[s] if c < logits.shape[1]})
        if allowed:
            choices[r] = allowed[int(np.argmax(logits[r, allowed]))]
    return choices


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
    parser.add_argument("--output", help="write to this .npy or .csv file instead of printing")
    parser.add_argument("--no-verify", action="store_true", help="skip the header and digest check")
    args = parser.parse_args(argv)
    try:
        if not args.no_verify:
            verify(args.checkpoint)
        x = read_inputs(args.inputs)
        with h5py.File(args.checkpoint, "r") as f:
            version = int(f.attrs["format_version"])
            if version != SUPPORTED_VERSION:
                raise CheckpointError(f"unsupported format version {version}; this script reads {SUPPORTED_VERSION}")
            width = f["model/trunk/sizes"][0][0]
            if x.shape[1] != width:
                raise CheckpointError(f"the model expects {width} inputs per row, {args.inputs} has {x.shape[1]}")
            learner = load_learner_state(f)
            logits, routing = mixture_logits(f, learner, x)
            result = logits
            if args.classes:
                labels = f["classes"].asstr()[()] if f["classes"].dtype.kind == "O" else f["classes"][()]
                result = np.asarray(labels)[predicted_classes(f, learner, x, logits, routing)]
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
    elif args.output:
        np.savetxt(args.output, result, delimiter=",", fmt="%.9g")
    else:
        np.savetxt(sys.stdout, result, delimiter=",", fmt="%.9g")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
