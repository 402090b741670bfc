#!/usr/bin/env python3
"""Make crafted checkpoints that crash or hang libhdf5 when it parses them in process.

    craft_checkpoints.py LOADER OUTDIR [--source Checkpoints/golden-v1.h5]
                         [--tries 2000] [--seed 1] [--crashes 6] [--hangs 3]

The mutate-and-rehash procedure: change a few bytes of the payload (the HDF5 part,
after the 512-byte header) of a valid checkpoint, then rewrite the payload digest and
the header digest so that the file passes every check made before libhdf5 (this is
what an attacker does; accidental damage never gets past the digest). Each candidate
is loaded *in process* by LOADER, the replay program of the checkpoint fuzz target
(`.build/debug/FuzzCheckpoint`, run with MOE_FUZZ_PARSING=in-process), under a
timeout; a candidate that kills it with a signal is a crash, one that outlives the
timeout a hang. Each kept file is replayed three more times and must do the same
every time. The files and a manifest (name, outcome, mutation) go to OUTDIR.
"""
import argparse
import os
import random
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_predict import xxh64  # noqa: E402

HEADER = 512


def rehash(data):
    """The file with its payload length, payload digest and header digest rewritten."""
    data = bytearray(data)
    struct.pack_into("<Q", data, 16, len(data) - HEADER)
    struct.pack_into("<Q", data, 32, xxh64(bytes(data[HEADER:])))
    struct.pack_into("<Q", data, 504, xxh64(bytes(data[:504])))
    return bytes(data)


def mutate(data, rng):
    """A few changes to the payload: a byte set to a random value, a bit flipped, a byte
    set to 0x00 or 0xFF, or a little-endian integer of 2, 4 or 8 bytes (a size, a count
    or an address in HDF5's structures) replaced by 0, -1 or a random value."""
    data = bytearray(data)
    changes = []
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(4)
        if kind < 3:
            at = rng.randrange(HEADER, len(data))
            if kind == 0:
                data[at] = rng.randrange(256)
            elif kind == 1:
                data[at] ^= 1 << rng.randrange(8)
            else:
                data[at] = rng.choice([0x00, 0xFF])
            changes.append(f"{at}={data[at]:02x}")
        else:
            width = rng.choice([2, 4, 8])
            at = rng.randrange(HEADER, len(data) - width)
            value = rng.choice([0, (1 << (8 * width)) - 1, rng.randrange(1 << (8 * width))])
            data[at:at + width] = value.to_bytes(width, "little")
            changes.append(f"{at}={data[at:at + width].hex()}")
    return bytes(data), " ".join(changes)


def outcome(loader, path, timeout):
    """'crash SIGNAME', 'hang', or 'ok' for one in-process load."""
    env = dict(os.environ, MOE_FUZZ_PARSING="in-process", SWIFT_BACKTRACE="enable=no")
    try:
        result = subprocess.run([loader, path], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "hang"
    if result.returncode < 0:
        import signal
        return "crash " + signal.Signals(-result.returncode).name
    return "ok"


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("loader")
    parser.add_argument("outdir")
    parser.add_argument("--source", default="Checkpoints/golden-v1.h5")
    parser.add_argument("--tries", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--crashes", type=int, default=6)
    parser.add_argument("--hangs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=5)
    args = parser.parse_args(argv)

    source = open(args.source, "rb").read()
    rng = random.Random(args.seed)
    os.makedirs(args.outdir, exist_ok=True)
    scratch = os.path.join(args.outdir, ".candidate.h5")
    kept = {"crash": [], "hang": []}
    for attempt in range(args.tries):
        if len(kept["crash"]) >= args.crashes and len(kept["hang"]) >= args.hangs:
            break
        candidate, changes = mutate(source, rng)
        candidate = rehash(candidate)
        with open(scratch, "wb") as f:
            f.write(candidate)
        result = outcome(args.loader, scratch, args.timeout)
        kind = result.split()[0]
        if kind == "ok" or len(kept[kind]) >= (args.crashes if kind == "crash" else args.hangs):
            continue
        # Stable: the same outcome three more times.
        if any(outcome(args.loader, scratch, args.timeout) != result for _ in range(3)):
            continue
        name = f"{kind}-{len(kept[kind]) + 1}.h5"
        os.replace(scratch, os.path.join(args.outdir, name))
        kept[kind].append((name, result, attempt, changes))
        print(f"try {attempt}: {name}: {result} ({changes})", flush=True)
    if os.path.exists(scratch):
        os.remove(scratch)
    with open(os.path.join(args.outdir, "manifest.txt"), "w") as f:
        f.write(f"# source {os.path.basename(args.source)}, seed {args.seed}; name, in-process outcome, try, bytes changed (offset=new value)\n")
        for kind in ("crash", "hang"):
            for name, result, attempt, changes in kept[kind]:
                f.write(f"{name}\t{result}\t{attempt}\t{changes}\n")
    print(f"{len(kept['crash'])} crashes and {len(kept['hang'])} hangs in {args.outdir}")
    return 0 if len(kept["crash"]) >= args.crashes and len(kept["hang"]) >= args.hangs else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
