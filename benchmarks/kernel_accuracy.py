#!/usr/bin/env python3
"""Accuracy of the Swift kernels and of numpy's formulas (benchmarks/baseline.py) on the same pairs.

For the three losses whose batch kernels stay under 3x numpy (bco_pair, rpo_bwd_kl, discopop;
BENCHMARKS.md, "Issue 12: the three kernels"), evaluates the value and both derivatives three
ways on the same inputs:

- Swift: `report losses` (the per-pair API, bit-identical to the batch kernels, tested);
- numpy: `baseline.loss_terms`, the formulas the kernel benchmark times;
- reference: Tools/make_references.py's naive formulas in mpmath at 60 digits (exact double
  inputs), rounded to the nearest double.

and prints, per loss, output and input set, the largest and the median error of each side in
units of the reference's last place (ulp), against the exact function of the inputs and, for
losses of `x = beta h` alone, at the rounded `x` both sides form (the formula's own error). Input sets: the kernel benchmark's law (reference
log-probabilities -U(20, 80), log-ratios N(0, 2^2), reward gaps N(0, 1), beta 0.1), and for
rpo_bwd_kl and discopop the region where their formulas cancel (x = beta h within 1e-3 of
the reward gap, and |x| <= 1/32).

    python3 benchmarks/kernel_accuracy.py --report .build-native/release/report --pairs 2000

Any python3 with numpy and mpmath (notebooks/requirements.txt has both).
"""

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
LOSSES = ("bco_pair", "rpo_bwd_kl", "discopop")
BETA = 0.1


def pairs(kind, n, rng):
    """(chosen, rejected, ref_chosen, ref_rejected, reward gap) as float64 arrays."""
    ref_w, ref_l = -rng.uniform(20, 80, n), -rng.uniform(20, 80, n)
    uw, ul, dr = rng.normal(0, 2, n), rng.normal(0, 2, n), rng.normal(0, 1, n)
    if kind == "near x = dr":
        ul = uw - (dr + rng.normal(0, 1e-3, n)) / BETA
        ref_l = ref_l - 60                     # keeps log pi_l = ref_l + ul below 0
    elif kind == "|x| <= 1/32":
        ul = uw - rng.uniform(-1 / 32, 1 / 32, n) / BETA
    return ref_w + uw, ref_l + ul, ref_w, ref_l, dr


def ulps(a, ref):
    """|a - ref| in units of the spacing of doubles at ref."""
    spacing = np.spacing(np.maximum(np.abs(ref), np.finfo(float).tiny))
    return np.abs(a - ref) / spacing


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--report", default=os.path.join(ROOT, ".build-native", "release", "report"))
    ap.add_argument("--pairs", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=12)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    catalogue = subprocess.run([args.report, "losses", "--catalogue", "--format", "json"], check=True,
                               capture_output=True, text=True).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        f.write(catalogue)
    os.environ["LOSS_CATALOGUE"] = f.name
    sys.path.insert(0, os.path.join(ROOT, "Tools"))
    sys.path.insert(0, HERE)
    import baseline
    import make_references as ref
    from mpmath import mp
    mp.dps = 60
    params = baseline.parameter_defaults(json.loads(catalogue))
    params.update(beta=BETA, label_smoothing=0.0)

    rng = np.random.default_rng(args.seed)
    rows = []
    for kind in ("benchmark", "near x = dr", "|x| <= 1/32"):
        cw, cl, rw, rl, dr = pairs(kind, args.pairs, rng)
        uw, ul = cw - rw, cl - rl                          # the log-ratios both sides compute
        text = io.StringIO()
        w = csv.writer(text)
        w.writerow(["chosen_logps", "rejected_logps", "ref_chosen_logps", "ref_rejected_logps", "score_chosen",
                    "score_rejected"])
        for i in range(args.pairs):
            w.writerow([repr(float(cw[i])), repr(float(cl[i])), repr(float(rw[i])), repr(float(rl[i])),
                        repr(float(dr[i])), "0"])
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "pairs.csv")
            with open(path, "w") as fh:
                fh.write(text.getvalue())
            run = subprocess.run([args.report, "losses", "--input", path, "--losses", ",".join(LOSSES), "--beta", str(BETA)],
                                 capture_output=True, text=True)
            if run.returncode != 0:
                sys.exit(f"report losses failed: {run.stderr.strip()}")
            out = run.stdout
        swift = {}
        for r in csv.DictReader(io.StringIO(out)):
            swift.setdefault(r["loss"], []).append((float(r["value"]), float(r["d_logp_chosen"]), float(r["d_logp_rejected"])))
        for loss in LOSSES:
            if kind == "near x = dr" and loss != "rpo_bwd_kl" or kind == "|x| <= 1/32" and loss != "discopop":
                continue
            v_fn, g_fn = ref.FORMULAS[loss]
            sw = np.array(swift[loss])
            value, dw, dl = baseline.loss_terms(loss, uw, ul, dr, params)
            npv = np.stack([value, dw, dl], axis=1)
            # Two references: the exact function of the inputs (u_w, u_l, dr), and, for the
            # losses of x = beta h alone, the exact function at the x both sides form,
            # fl(beta fl(u_w - u_l)) (the formula's own error, without the rounding of its
            # argument, which no double implementation of this interface avoids).
            xs = BETA * (uw - ul)
            for against in ("inputs", "rounded x"):
                if against == "rounded x" and loss == "bco_pair":
                    continue
                refs = []
                for i in range(args.pairs):
                    g, z = ref.M(float(dr[i])), ref.M(0)
                    if against == "inputs":
                        a, b, beta = ref.M(float(uw[i])), ref.M(float(ul[i])), ref.M(BETA)
                        gw, gl = g_fn(a, b, beta, z, g)
                        refs.append((float(v_fn(a, b, beta, z, g)), float(gw), float(gl)))
                    else:
                        x, one = ref.M(float(xs[i])), ref.M(1)
                        gw, gl = g_fn(x, z, one, z, g)          # dl/dx at x, -dl/dx
                        beta = ref.M(BETA)
                        refs.append((float(v_fn(x, z, one, z, g)), float(beta * gw), float(beta * gl)))
                refs = np.array(refs)
                for k, name in enumerate(("value", "d/dlogp_w", "d/dlogp_l")):
                    es, en = ulps(sw[:, k], refs[:, k]), ulps(npv[:, k], refs[:, k])
                    rows.append(dict(loss=loss, inputs=kind, against=against, output=name, swift_max=float(es.max()),
                                     swift_median=float(statistics.median(es)), numpy_max=float(en.max()),
                                     numpy_median=float(statistics.median(en)),
                                     swift_max_abs=float(np.abs(sw[:, k] - refs[:, k]).max()),
                                     numpy_max_abs=float(np.abs(npv[:, k] - refs[:, k]).max())))
    os.unlink(f.name)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print("| loss | inputs | reference at | output | Swift max (ulp) | Swift median | numpy max (ulp) | numpy median "
          "| Swift max abs. | numpy max abs. |")
    print("| :--- | :--- | :--- | :--- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['loss']} | {r['inputs']} | {r['against']} | {r['output']} | {r['swift_max']:.3g} | {r['swift_median']:.2g} | "
              f"{r['numpy_max']:.3g} | {r['numpy_median']:.2g} | {r['swift_max_abs']:.1e} | {r['numpy_max_abs']:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
