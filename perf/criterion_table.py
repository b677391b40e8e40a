#!/usr/bin/env python3
"""Prints the README's table of the client's steps from criterion's output.

    cargo bench -p wxpay --features rust-crypto --bench client
    perf/criterion_table.py [TARGET_DIR]    # default: $CARGO_TARGET_DIR or target

Reads TARGET_DIR/criterion/<group>/<backend>/new/estimates.json (the
median, in nanoseconds) for the groups of benches/client.rs and prints a
Markdown table: one row per step, one column per backend, and the ratio of
RustCrypto to aws-lc-rs.
"""

import json
import os
import sys
from pathlib import Path

STEPS = [
    ("sign", "sign one request (RSA-2048, SHA-256)"),
    ("verify", "verify one answer's signature"),
    ("request_build", "build and sign a request (`prepare_raw`)"),
    ("response_decode", "verify and decode an answer"),
    ("callback_decrypt", "verify, decrypt and decode a callback"),
]
BACKENDS = ["aws-lc-rs", "RustCrypto"]


def human(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.0f} ns"


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target"))
    criterion = root / "criterion"
    if not criterion.exists() and (Path("target") / "criterion").exists():
        # A bench binary run directly writes under ./target.
        criterion = Path("target") / "criterion"
    rows = []
    for group, label in STEPS:
        medians = {}
        for backend in BACKENDS:
            path = criterion / group / backend / "new" / "estimates.json"
            if path.exists():
                medians[backend] = json.loads(path.read_text())["median"]["point_estimate"]
        if medians:
            rows.append((label, medians))
    if not rows:
        sys.exit(f"error: no criterion results under {criterion}; run "
                 "`cargo bench -p wxpay --features rust-crypto --bench client` first")
    print("| step | " + " | ".join(BACKENDS) + " | RustCrypto / aws-lc-rs |")
    print("|---|" + "---:|" * (len(BACKENDS) + 1))
    for label, medians in rows:
        cells = [human(medians[b]) if b in medians else "—" for b in BACKENDS]
        ratio = (f"{medians['RustCrypto'] / medians['aws-lc-rs']:.1f}×"
                 if len(medians) == len(BACKENDS) else "—")
        print(f"| {label} | " + " | ".join(cells) + f" | {ratio} |")


if __name__ == "__main__":
    main()
