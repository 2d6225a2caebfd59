#!/usr/bin/env python3
"""Generate Tests/LossMathTests/ElementaryReferenceValues.swift: mpmath references for
LossMath's own exp, log, log1p, expm1 and tanh (Sources/LossMath/Elementary.swift).

Run from the package root:   python3 Tools/make_elementary_references.py

Each value is mpmath's function of the exact double input, evaluated at 60 and at
120 significant digits; both must round (round-half-even, subnormals included, with
make_references.round_to_double) to the same double, which is emitted. Inputs: hand-
picked points (domain edges, overflow and underflow thresholds, subnormals, 1 +- ulp)
and random.Random(20251129) draws (uniform ranges and random bit patterns), so the file
is byte-identical on every run.
"""

import math
import os
import random
import struct
import sys

import mpmath
from mpmath import mp, mpf

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_references import round_to_double, lit  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "LossMathTests", "ElementaryReferenceValues.swift")
SEED = 20251129


def from_bits(b):
    return struct.unpack(">d", struct.pack(">Q", b))[0]


def exp_inputs(rng):
    pts = [0.0, -0.0, 1e-300, -1e-300, 2.0 ** -1074, 1e-17, -1e-17, 0.5, -0.5, 1.0, -1.0,
           math.log(2) / 2, -math.log(2) / 2, 0.34657359027997264, 10.0, -10.0, 100.0,
           -100.0, 700.0, -700.0, 709.0, 709.78, 709.782712893384, -708.0, -708.39,
           -708.4, -709.0, -720.0, -730.0, -740.0, -744.0, -745.0, -745.1, -745.13]
    for _ in range(150):
        pts.append(rng.uniform(-745.1, 709.78))
    for _ in range(100):
        pts.append(rng.uniform(-40.0, 40.0))
    for _ in range(60):
        pts.append(rng.uniform(-745.1, -708.0))          # subnormal results
    for _ in range(60):
        pts.append(math.copysign(10.0 ** rng.uniform(-17, 0), rng.uniform(-1, 1)))
    return pts


def log_inputs(rng):
    pts = [1.0, math.nextafter(1.0, 2), math.nextafter(1.0, 0), 2.0, 0.5, math.sqrt(2),
           math.sqrt(0.5), 0.7071067811865476, 0.7071067811865475, 1.4142135623730951,
           math.e, 10.0, 1e-300, 1e300, 2.0 ** -1022, 2.0 ** -1074, 3 * 2.0 ** -1074,
           2.0 ** -1030, 1.7976931348623157e308, 0.9999, 1.0001]
    for _ in range(150):                                  # random positive bit patterns
        pts.append(from_bits(rng.randrange(1, 0x7FF0000000000000)))
    for _ in range(100):
        pts.append(rng.uniform(0.5, 2.0))
    for _ in range(40):
        pts.append(from_bits(rng.randrange(1, 1 << 52)))  # subnormals
    return pts


def log1p_inputs(rng):
    pts = [0.0, -0.0, 1e-300, -1e-300, 2.0 ** -1074, 2.0 ** -54, 2.0 ** -53, -2.0 ** -54,
           1e-17, 1e-10, -1e-10, 0.5, -0.5, 1.0, -0.9999999999999999, -0.99, 0.41421356,
           -0.29289321881345254, 0.4142135623730951, 1e15, 2.0 ** 53, 1e300,
           1.7976931348623157e308, 3.0, 7.0]
    for _ in range(150):
        pts.append(rng.uniform(0.0, 1.0))                 # softplus: log1p(exp(-|x|))
    for _ in range(60):
        pts.append(math.exp(-rng.uniform(0.0, 745.0)))    # exp(-|x|) over its range
    for _ in range(60):
        pts.append(rng.uniform(-1.0, 0.0))
    for _ in range(60):
        pts.append(10.0 ** rng.uniform(-16, 300))
    return [p for p in pts if p > -1.0]


def expm1_inputs(rng):
    pts = [0.0, -0.0, 1e-300, -1e-300, 2.0 ** -1074, 2.0 ** -54, -2.0 ** -54, 2.0 ** -53,
           1e-10, -1e-10, 0.3465, -0.3466, 0.5, -0.5, 0.7, -0.7, 1.0, -1.0, 36.0, 37.5,
           -37.5, 39.9, 40.0, -40.0, 40.1, -40.1, 100.0, -100.0, 700.0, 709.78, -745.0]
    for _ in range(150):
        pts.append(rng.uniform(-3.0, 3.0))
    for _ in range(80):
        pts.append(rng.uniform(-45.0, 45.0))
    for _ in range(60):
        pts.append(math.copysign(10.0 ** rng.uniform(-17, 0), rng.uniform(-1, 1)))
    return pts


def tanh_inputs(rng):
    pts = [0.0, -0.0, 1e-300, -1e-300, 2.0 ** -1074, 1e-10, -1e-10, 0.1, -0.1, 0.5, 1.0,
           -1.0, 5.0, 18.0, 19.5, -19.5, 20.0, 22.0, 100.0, -1e300]
    for _ in range(150):
        pts.append(rng.uniform(-4.0, 4.0))
    for _ in range(60):
        pts.append(rng.uniform(-25.0, 25.0))
    for _ in range(60):
        pts.append(math.copysign(10.0 ** rng.uniform(-17, 0), rng.uniform(-1, 1)))
    return pts


FUNCS = [
    ("exp", exp_inputs, mpmath.exp),
    ("log", log_inputs, mpmath.log),
    ("log1p", log1p_inputs, mpmath.log1p),
    ("expm1", expm1_inputs, mpmath.expm1),
    ("tanh", tanh_inputs, mpmath.tanh),
]


def reference(f, x):
    outs = []
    for dps in (60, 120):
        with mp.workdps(dps):
            v = f(mpf(x))
            outs.append(round_to_double(v) if v != 0 else 0.0)
    if outs[0] != outs[1]:
        raise RuntimeError("rounding differs between 60 and 120 digits at %r" % x)
    return outs[1]


def main():
    rng = random.Random(SEED)
    lines = []
    counts = []
    for name, inputs, f in FUNCS:
        n = 0
        for x in inputs(rng):
            v = reference(f, x)
            if v is None:
                continue                                  # overflow: not a reference
            if x == 0.0 and name != "exp":
                v = x                                     # f(+-0) = +-0
            note = ""
            if v != 0.0 and abs(v) < 2.0 ** -1022:
                note = "  // subnormal %r" % v
            lines.append("    ElementaryReference(function: \"%s\", x: %s, value: %s),%s"
                         % (name, lit(x), lit(v), note))
            n += 1
        counts.append((name, n))
    head = [
        "// Generated by Tools/make_elementary_references.py with mpmath %s. Do not edit by hand."
        % mpmath.__version__,
        "//",
        "// exp, log, log1p, expm1 and tanh of exact double inputs, evaluated at 60 and 120 digits and",
        "// rounded to the nearest double (both precisions agree on every entry).",
        "// Entries: " + ", ".join("%s %d" % c for c in counts) + ".",
        "",
        "struct ElementaryReference {",
        "    let function: String",
        "    let x: Double",
        "    let value: Double",
        "}",
        "",
    ]
    # Chunks of 100 literals per function: one large array literal is slow to type-check.
    chunks = [lines[i:i + 100] for i in range(0, len(lines), 100)]
    body = []
    for k, chunk in enumerate(chunks):
        body.append("private func _elementaryReferences%02d() -> [ElementaryReference] { [" % k)
        body.extend(chunk)
        body.append("] }")
        body.append("")
    body.append("let elementaryReferences: [ElementaryReference] = "
                + " + ".join("_elementaryReferences%02d()" % k for k in range(len(chunks))))
    text = "\n".join(head + body + [""])
    tmp = OUT + ".tmp"
    with open(tmp, "w") as fh:
        fh.write(text)
    os.replace(tmp, OUT)
    print("wrote %s: %s" % (OUT, ", ".join("%s %d" % c for c in counts)))


if __name__ == "__main__":
    main()
