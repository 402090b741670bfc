#!/usr/bin/env python3
"""Reproduce a moe checkpoint's predictions (logits) with numpy and h5py only.

    checkpoint_predict.py CHECKPOINT INPUTS [--output FILE] [--no-verify]

INPUTS is a .npy file or a comma-separated .csv file with one sample per row.
The logits are printed as CSV, or written to FILE (.npy or .csv).

The checkpoint's 512-byte header (magic, format version, payload length and XXH64
digest, see docs/checkpoint-format.md) is verified first unless --no-verify is given;
h5py itself skips the header (it is an HDF5 user block).

The script understands format version 1 with a trunk MLP and its output extensions
(classes added by widening the output). A model with experts makes it stop with an error
instead of printing wrong numbers: their gated corrections would be added in predict(),
from the architecture in /model@architecture (JSON) and the experts.* and gate.*
parameters.
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
MASK = (1 << 64) - 1
P1, P2, P3, P4, P5 = (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63, 0x27D4EB2F165667C5)


class CheckpointError(Exception):
    pass


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


def load_trunk(f):
    """The trunk as a list of ("dense", W, b) and ("relu"|"tanh"|"sigmoid",) layers."""
    kinds = f["model/trunk/kinds"].asstr()[()]
    sizes = f["model/trunk/sizes"][()]
    layers = []
    for i, kind in enumerate(kinds):
        if kind == "dense":
            w = f[f"parameters/trunk.{i}.weight"][()]
            b = f[f"parameters/trunk.{i}.bias"][()]
            if w.shape != tuple(sizes[i]) or b.shape != (1, sizes[i][1]):
                raise CheckpointError(f"trunk layer {i}: weight {w.shape} and bias {b.shape} do not match sizes {tuple(sizes[i])}")
            layers.append(("dense", w.astype(np.float64), b.astype(np.float64)))
        elif kind in ("relu", "tanh", "sigmoid"):
            layers.append((kind,))
        else:
            raise CheckpointError(f"trunk layer {i} has unknown kind {kind!r}")
    return layers


ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
}


def forward_trunk(layers, x):
    """Logits, the hidden activations (the output of every nonlinearity) and the input
    of the last dense layer, as the library computes them: x @ W + b, then the activation."""
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


def load_architecture(f):
    """The architecture JSON of /model@architecture, or a trunk-only one for files
    written before it existed."""
    text = f["model"].attrs.get("architecture")
    if text is None:
        return {"headExtensions": [], "experts": []}
    return json.loads(text)


def predict(f, x):
    unknown = sorted(set(f["model"].keys()) - {"trunk"})
    if unknown:
        raise CheckpointError(f"this script does not know the model parts {unknown}; update it for this checkpoint")
    architecture = load_architecture(f)
    if architecture["experts"]:
        raise CheckpointError(f"the model has {len(architecture['experts'])} experts; this script evaluates "
                              "the trunk and its output extensions only")
    logits, _hidden, last_input = forward_trunk(load_trunk(f), x)
    # Output extensions: the classes added later, read from the last dense layer's input.
    for k in range(len(architecture["headExtensions"])):
        w = f[f"parameters/trunk.extension.{k}.weight"][()].astype(np.float64)
        b = f[f"parameters/trunk.extension.{k}.bias"][()].astype(np.float64)
        logits = np.concatenate([logits, last_input @ w + b], axis=1)
    # Experts would add their gated corrections here, reading `_hidden`.
    return logits


def read_inputs(path):
    if path.endswith(".npy"):
        x = np.load(path)
    else:
        x = np.loadtxt(path, delimiter=",", ndmin=2)
    if x.ndim != 2:
        raise CheckpointError(f"{path}: inputs must be 2-D (one sample per row), got shape {x.shape}")
    return x.astype(np.float64)


def main(argv):
    parser = argparse.ArgumentParser(description="Reproduce a moe checkpoint's logits with numpy and h5py.")
    parser.add_argument("checkpoint")
    parser.add_argument("inputs", help=".npy or .csv, one sample per row")
    parser.add_argument("--output", help="write logits to this .npy or .csv file instead of printing them")
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
            logits = predict(f, x)
    except (CheckpointError, OSError, KeyError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.output and args.output.endswith(".npy"):
        np.save(args.output, logits)
    elif args.output:
        np.savetxt(args.output, logits, delimiter=",", fmt="%.9g")
    else:
        np.savetxt(sys.stdout, logits, delimiter=",", fmt="%.9g")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
