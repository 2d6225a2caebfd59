#!/usr/bin/env python3
"""The numpy baseline: the same losses and the same tabular trainer, written the way a
researcher would write them (vectorised numpy, numerically careful where it is cheap).

It is the comparison point for `report bench` (see benchmarks/run.py and BENCHMARKS.md),
and, through `check`, an independent implementation that the Swift trainer must agree with.

Subcommands:

  kernels [--pairs N] [--losses a,b|all] [--repeats R] [--json]
      loss + gradient evaluations per second for each loss on N random pairs (the inputs are
      drawn like `report bench`'s: reference log-probabilities -U(20, 80), policy log-ratios
      N(0, 2^2), reward gaps N(0, 1); beta 0.1, label smoothing 0.1, exo_pair 1e-3). The loss
      names, flags and parameter defaults come from `report losses --catalogue --format json`
      (--catalogue FILE, or the built report binary).

  train DIR [--repeats R] [--json]
      times full-batch Adam on an environment exported by
      `report bench --export-environment DIR ...` (pair-updates per second, metrics every
      log_every steps included, loading excluded) and compares the result with Swift's.

  check DIR [DIR ...] [--rtol 1e-9] [--atol 1e-12]
      trains on each exported environment and compares every logged metric and the final
      parameters with Swift's; exit status 1 on any disagreement.

Only numpy is needed.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_catalogue(path=None):
    """The toolkit's loss catalogue (`report losses --catalogue --format json`): names, flags
    and parameter defaults, in catalogue order. From `path`, else a built
    .build/{release,debug}/report, else `swift run`. The formulas below are this file's own."""
    import subprocess
    if path:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    args = ["losses", "--catalogue", "--format", "json"]
    for build in ("release", "debug"):
        exe = os.path.join(ROOT, ".build", build, "report")
        if os.access(exe, os.X_OK):
            return json.loads(subprocess.run([exe] + args, check=True, capture_output=True, text=True).stdout)
    return json.loads(subprocess.run(["swift", "run", "-c", "release", "report"] + args, cwd=ROOT, check=True,
                                     capture_output=True, text=True).stdout)

# ---------------------------------------------------------------------------------------------
# Scalar building blocks, vectorised.


def softplus(t):
    """log(1 + e^t), stable for any t."""
    return np.maximum(t, 0.0) + np.log1p(np.exp(-np.abs(t)))


# e^-t overflows to inf for t < -709 in sigmoid(), which gives the right 0: silence the
# warning once for the whole process (an np.errstate block per call costs about a
# microsecond, which is 4% of a training step on the default problem).
np.seterr(over="ignore")


def sigmoid(t):
    """1 / (1 + e^-t)."""
    return 1.0 / (1.0 + np.exp(-t))


def sigmoid_density(t):
    return sigmoid(t) * sigmoid(-t)


def bernoulli_kl(x, y):
    """KL(Bern(sigma(x)) || Bern(sigma(y))) from the logits, with every log as a softplus."""
    return sigmoid(x) * (softplus(-y) - softplus(-x)) + sigmoid(-x) * (softplus(y) - softplus(x))


# ---------------------------------------------------------------------------------------------
# The catalogue (docs/loss-catalogue.md). Each function takes the log-ratios u_w, u_l, the
# reward gaps dr and the parameters, and returns (value or None, dl/du_w, dl/du_l).


def _h_only(beta, value, dx):
    dh = beta * dx
    return value, dh, -dh


def loss_terms(name, uw, ul, dr, p, want_value=True):
    beta = p["beta"]
    eps = p["label_smoothing"]
    x = beta * (uw - ul)
    if name == "sigmoid":
        return _h_only(beta, softplus(-x) if want_value else None, -sigmoid(-x))
    if name == "cdpo":
        v = (1 - eps) * softplus(-x) + eps * softplus(x) if want_value else None
        return _h_only(beta, v, eps - sigmoid(-x))
    if name == "hinge":
        v = np.maximum(0.0, 1.0 - x) if want_value else None
        return _h_only(beta, v, np.where(x < 1.0, -1.0, 0.0))
    if name == "ipo":
        r = (uw - ul) - 1.0 / (2.0 * beta)
        return (r * r if want_value else None), 2.0 * r, -2.0 * r
    if name == "exo_pair":
        t = math.log1p(-eps) - math.log(eps)
        return _h_only(beta, bernoulli_kl(x, t) if want_value else None, sigmoid_density(x) * (x - t))
    if name == "nca_pair":
        a, b = beta * uw, beta * ul
        v = softplus(-a) + 0.5 * softplus(a) + 0.5 * softplus(b) if want_value else None
        return v, beta * (0.5 * sigmoid(a) - sigmoid(-a)), beta * 0.5 * sigmoid(b)
    if name == "robust":
        s = 1.0 / (1.0 - 2.0 * eps)
        v = ((1 - eps) * softplus(-x) - eps * softplus(x)) * s if want_value else None
        return _h_only(beta, v, -((1 - eps) * sigmoid(-x) + eps * sigmoid(x)) * s)
    if name == "bco_pair":
        a, b = beta * uw - p["bco_delta"], beta * ul - p["bco_delta"]
        v = softplus(-a) + softplus(b) if want_value else None
        return v, -beta * sigmoid(-a), beta * sigmoid(b)
    if name == "sppo_hard":
        c = 1.0 / (2.0 * beta)
        rw, rl = uw - c, ul + c
        return (rw * rw + rl * rl if want_value else None), 2.0 * rw, 2.0 * rl
    if name == "apo_zero":
        a, b = beta * uw, beta * ul
        v = sigmoid(-a) + sigmoid(b) if want_value else None
        return v, -beta * sigmoid_density(a), beta * sigmoid_density(b)
    if name == "apo_down":
        a = beta * uw
        v = sigmoid(a) + sigmoid(-x) if want_value else None
        return v, beta * (sigmoid_density(a) - sigmoid_density(x)), beta * sigmoid_density(x)
    if name == "discopop":
        tau = p["discopop_tau"]
        m = sigmoid(x / tau)
        with np.errstate(over="ignore", invalid="ignore"):
            emx = np.exp(-x)
            sp = softplus(-x)
            v = (1 - m) * sp + m * emx if want_value else None
            dm = m * (1 - m) / tau
            dx = dm * (emx - sp) - (1 - m) * sigmoid(-x) - m * emx
        return _h_only(beta, v, dx)
    if name == "bdpo":
        lam = p["bdpo_lambda"]
        if lam >= 1:
            ulm, weight = ul, 1.0
        else:
            ulm = np.logaddexp(math.log(lam) + ul, math.log1p(-lam))
            weight = sigmoid(ul + math.log(lam) - math.log1p(-lam))
        xm = beta * (uw - ulm)
        s = sigmoid(-xm)
        return (softplus(-xm) if want_value else None), -beta * s, beta * s * weight
    if name in ("rpo_sq", "spo"):
        r = x - dr
        return _h_only(beta, r * r if want_value else None, 2.0 * r)
    if name == "rpo_bwd_kl":
        return _h_only(beta, bernoulli_kl(dr, x) if want_value else None, sigmoid(x) - sigmoid(dr))
    if name == "rpo_fwd_kl":
        return _h_only(beta, bernoulli_kl(x, dr) if want_value else None, sigmoid_density(x) * (x - dr))
    if name == "spo_bt":
        v = sigmoid(dr) * softplus(-x) + sigmoid(-dr) * softplus(x) if want_value else None
        return _h_only(beta, v, sigmoid(x) - sigmoid(dr))
    if name == "spo_asym":
        z = x / dr
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(-z)
            v = -z * e if want_value else None
            dx = (z - 1.0) * e / dr
        return _h_only(beta, v, dx)
    raise ValueError(f"unknown loss {name!r}")


# The losses loss_terms implements (a catalogue loss without a numpy formula is skipped).
FORMULAS = {"sigmoid", "cdpo", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard",
            "apo_zero", "apo_down", "discopop", "bdpo", "rpo_sq", "rpo_bwd_kl", "rpo_fwd_kl", "spo", "spo_bt",
            "spo_asym"}


def kernel_parameters(entry):
    """`report bench`'s kernel parameters for a catalogue entry: beta 0.1; label smoothing 0.1
    where the loss reads it, or its own default when that is not 0 (exo_pair's 1e-3); every
    loss parameter at its declared default."""
    ls = entry["label_smoothing"]
    eps = 0.0 if ls is None else (ls["default"] if ls["default"] > 0 else 0.1)
    p = dict(beta=0.1, label_smoothing=eps)
    p.update({q["name"]: q["default"] for q in entry["parameters"]})
    return p


def parameter_defaults(catalogue):
    """Every loss parameter's declared default, by name (bco_delta, bdpo_lambda, ...)."""
    return {q["name"]: q["default"] for e in catalogue for q in e["parameters"]}


# ---------------------------------------------------------------------------------------------
# Kernel benchmark.


def bench_kernels(pairs, losses, repeats, catalogue):
    rng = np.random.default_rng(2025)
    rw = -(20 + 60 * rng.random(pairs))
    rl = -(20 + 60 * rng.random(pairs))
    cw = rw + rng.normal(0.0, 2.0, pairs)
    cl = rl + rng.normal(0.0, 2.0, pairs)
    gap = rng.normal(0.0, 1.0, pairs)
    rows = []
    entries = {e["name"]: e for e in catalogue}
    defaults = parameter_defaults(catalogue)
    for name in losses:
        if name not in entries:
            raise SystemExit(f"unknown loss {name!r}; the catalogue has {', '.join(entries)}")
        p = dict(defaults, **kernel_parameters(entries[name]))
        times = []
        checksum = 0.0
        for _ in range(repeats):
            t0 = time.perf_counter()
            uw = cw - rw
            ul = cl - rl
            v, dw, dl = loss_terms(name, uw, ul, gap, p)
            times.append(time.perf_counter() - t0)
            checksum = float(sum(np.sum(a[np.isfinite(a)]) for a in (v, dw, dl)))
            del v, dw, dl, uw, ul
        t = float(np.median(times))
        rows.append(dict(loss=name, rate=pairs / t, seconds=t, checksum=checksum))
    return rows


# ---------------------------------------------------------------------------------------------
# The tabular trainer.


class Problem:
    """An environment exported by `report bench --export-environment DIR`."""

    def __init__(self, folder):
        with open(os.path.join(folder, "meta.json")) as f:
            self.meta = json.load(f)
        m = self.meta
        self.P, self.K = m["prompts"], m["responses"]

        def f64(name):
            return np.fromfile(os.path.join(folder, name), dtype="<f8")

        def i64(name):
            return np.fromfile(os.path.join(folder, name), dtype="<i8")

        P, K = self.P, self.K
        self.log_ref = f64("log_reference.f64").reshape(P, K)
        self.log_opt = f64("log_optimal.f64").reshape(P, K)
        self.rewards = f64("rewards.f64").reshape(P, K)
        self.init = f64("initial_parameters.f64").reshape(P, K)
        self.seen = np.fromfile(os.path.join(folder, "seen.u8"), dtype=np.uint8).reshape(P, K).astype(bool)
        self.prompt = i64("pair_prompt.i64")
        self.chosen = i64("pair_chosen.i64")
        self.rejected = i64("pair_rejected.i64")
        self.gap = f64("pair_gap.f64")
        self.true_gap = f64("pair_true_gap.f64")
        self.swift_final = f64("swift_final_parameters.f64").reshape(P, K)
        self.params = dict(beta=m["beta"], label_smoothing=m["label_smoothing"], bco_delta=m["bco_delta"],
                           bdpo_lambda=m["bdpo_lambda"], discopop_tau=m["discopop_tau"])


# Absolute floor for comparing max |dl/dpi_l| (see compare()).
DP_FLOOR = 1e-8
# The reported "worst relative difference" is |a - b| / max(|a|, |b|, REPORT_SCALE): metrics
# at the rounding floor (a gradient norm of 1e-17 at spo's optimum) do not dominate it.
REPORT_SCALE = 1e-3

METRICS = ["mean_loss", "regret", "kl_ref", "expected_reward", "mean_logp_chosen", "mean_logp_rejected",
           "min_logp_rejected", "mean_abs_h_minus_target", "max_h", "frac_within_tol", "unseen_mass",
           "grad_norm", "max_log10_abs_d_p_rejected"]


# Perturbation envelope (see compare() and BENCHMARKS.md, "Agreement"): Swift may differ from
# numpy by up to this many times the largest change that moving numpy's initial logits and
# log-probabilities by one ulp (two seeded runs) makes in numpy's own metric at the same step.
SPREAD_FACTOR = 10.0


def perturbation_spread(prob, records, theta, steps):
    """How far rounding alone moves numpy's own run: per logged step (up to `steps`) and metric,
    the largest |difference| between numpy's run (`records`, final parameters `theta`) and two
    runs whose initial logits and log-probabilities are moved by one ulp, in a seeded random
    direction per element, at the start and at every evaluation (`train(perturb_seed=...)`): what two correct implementations whose arithmetic differs
    in the last bit must be allowed to differ by. Returns (per-record dicts, per-parameter
    |difference| of the final parameters when the whole run is covered, else None)."""
    spread = [dict.fromkeys(METRICS, 0.0) for _ in records]
    dtheta = np.zeros_like(theta)
    for seed in (1, 2):
        moved_theta, moved = train(prob, steps=steps, perturb_seed=seed)
        moved_by_step = {r["step"]: r for r in moved}
        for k, r in enumerate(records):
            other = moved_by_step.get(r["step"])
            if other is None:
                continue
            for key in METRICS:
                a, b = r[key], other[key]
                if key == "max_log10_abs_d_p_rejected" and max(a, b) < 300:
                    a, b = 10.0 ** a, 10.0 ** b
                d = abs(a - b)
                if math.isfinite(d):
                    spread[k][key] = max(spread[k][key], d)
        dtheta = np.maximum(dtheta, np.abs(moved_theta - theta))
    whole = steps is None or steps >= prob.meta["steps"]
    return spread, (dtheta if whole else None)


# The predictability horizon (see BENCHMARKS.md, "Agreement"): the first logged step at which
# numpy's own one-ulp perturbed runs differ by more than this (relative, with REPORT_SCALE as
# the floor) in some metric; the trajectory beyond it is not determined to the digits compared.
HORIZON_SPREAD = 1e-4


def predictability_horizon(records, spread):
    """The last logged step before numpy's one-ulp spread first exceeds HORIZON_SPREAD (relative)
    in some metric (max_log10_abs_d_p_rejected excluded: it is rounding noise at an optimum and
    has its own floor), or None if it never does."""
    last = None
    for r, e in zip(records, spread):
        for key in METRICS:
            if key == "max_log10_abs_d_p_rejected":
                continue
            if e[key] > HORIZON_SPREAD * max(abs(r[key]), REPORT_SCALE):
                return last
        last = r["step"]
    return None


def train(prob, steps=None, record=True, perturb_seed=None):
    """Full-batch Adam (or SGD) on the mean loss over pairs; pi(.|x) = softmax(theta_x).

    Returns the final parameters and the metrics at step 0, every log_every steps and the
    last step (as the Swift trainer records them). With `perturb_seed`, the initial logits and
    every evaluation's log pi are moved by one ulp, up or down at random per element
    (perturbation_spread)."""
    m = prob.meta
    name, lr = m["loss"], m["learning_rate"]
    steps = m["steps"] if steps is None else steps
    log_every = m["log_every"]
    beta, tol = m["beta"], m["relative_tolerance"]
    P, K = prob.P, prob.K
    n_pairs = prob.prompt.size
    scale = 1.0 / n_pairs
    p = prob.params
    fw = prob.prompt * K + prob.chosen          # flat cell of each pair's chosen response
    fl = prob.prompt * K + prob.rejected
    ref = prob.log_ref.ravel()
    ref_w, ref_l = ref[fw], ref[fl]
    both = np.empty(2 * n_pairs, dtype=np.int64)   # chosen, rejected, chosen, ... (pair order)
    both[0::2], both[1::2] = fw, fl
    weights = np.empty(2 * n_pairs)
    h_star = prob.true_gap / beta
    unseen = ~prob.seen

    theta = prob.init.copy()
    mom = np.zeros_like(theta)
    vel = np.zeros_like(theta)
    b1, b2, eps = 0.9, 0.999, 1e-8
    nudge = None if perturb_seed is None else np.random.default_rng(perturb_seed)

    def forward(theta, want_value):
        mx = theta.max(axis=1, keepdims=True)
        logpi = theta - (mx + np.log(np.exp(theta - mx).sum(axis=1, keepdims=True)))
        if nudge is not None:
            logpi = np.nextafter(logpi, np.where(nudge.integers(0, 2, logpi.shape) == 1, np.inf, -np.inf))
        lp = logpi.ravel()
        uw, ul = lp[fw] - ref_w, lp[fl] - ref_l
        value, dw, dl = loss_terms(name, uw, ul, prob.gap, p, want_value)
        a, b = scale * dw, scale * dl
        weights[0::2], weights[1::2] = a, b
        grad = np.bincount(both, weights=weights, minlength=P * K).reshape(P, K)
        s = np.bincount(prob.prompt, weights=a + b, minlength=P)
        if np.any(s != 0):
            grad -= s[:, None] * np.exp(logpi)
        return logpi, grad, value, dl

    def metrics(step):
        logpi, grad, value, dl = forward(theta, True)
        pi = np.exp(logpi)
        finite = logpi > -np.inf
        kl = lambda q: np.where(finite, pi * (logpi - q), 0.0).sum(axis=1)
        lp = logpi.ravel()
        lw, ll = lp[fw], lp[fl]
        h = (lw - ref_w) - (ll - ref_l)
        dev = np.abs(h - h_star)
        with np.errstate(divide="ignore"):
            log10_dp = np.where(dl == 0, -np.inf, np.log10(np.abs(dl)) - ll / math.log(10))
        return dict(step=step, mean_loss=float(np.sum(scale * value)), regret=float(beta * kl(prob.log_opt).mean()),
                    kl_ref=float(kl(prob.log_ref).mean()), expected_reward=float((pi * prob.rewards).sum(axis=1).mean()),
                    mean_logp_chosen=float(lw.mean()), mean_logp_rejected=float(ll.mean()),
                    min_logp_rejected=float(ll.min()), mean_abs_h_minus_target=float(dev.mean()), max_h=float(h.max()),
                    frac_within_tol=float(np.mean(dev <= tol * np.maximum(1.0, np.abs(h_star)))),
                    unseen_mass=float(np.where(unseen, pi, 0.0).sum(axis=1).mean()),
                    grad_norm=float(np.sqrt(np.sum(grad * grad))), max_log10_abs_d_p_rejected=float(log10_dp.max()))

    if nudge is not None:
        theta = np.nextafter(theta, np.where(nudge.integers(0, 2, theta.shape) == 1, np.inf, -np.inf))
    records = [metrics(0)] if record else []
    log_b1, log_b2 = math.log(b1), math.log(b2)
    adam = m.get("optimizer", "adam") == "adam"
    for t in range(1, steps + 1):
        _, grad, _, _ = forward(theta, False)
        if adam:
            mom *= b1
            mom += (1 - b1) * grad
            vel *= b2
            vel += (1 - b2) * grad * grad
            c1, c2 = -math.expm1(t * log_b1), -math.expm1(t * log_b2)
            theta -= lr * (mom / c1) / (np.sqrt(vel / c2) + eps)
        else:
            theta -= lr * grad
        if record and (t % log_every == 0 or t == steps):
            records.append(metrics(t))
    return theta, records


def compare(prob, theta, records, rtol, atol, until=None, spread=None, theta_spread=None):
    """Every logged metric (up to step `until`, default all) and, when the whole run is
    compared, the final parameters against Swift's; returns (ok, worst, lines). With `spread`
    (perturbation_spread, one dict per record), a metric also passes where its difference is
    within SPREAD_FACTOR times numpy's own one-ulp spread at that step."""
    swift = prob.meta["swift_metrics"]
    if spread is None:
        spread = [dict.fromkeys(METRICS, 0.0) for _ in records]
    lines, ok, worst = [], True, 0.0
    if len(swift) != len(records):
        return False, math.inf, [f"{len(records)} logged steps here, {len(swift)} in Swift"]
    whole = until is None or until >= prob.meta["steps"]
    if not whole:
        keep = [k for k, r in enumerate(records) if r["step"] <= until]
        records, swift, spread = [records[k] for k in keep], [swift[k] for k in keep], [spread[k] for k in keep]

    def close_floor(a, b, floor, allowance=0.0):
        err = abs(a - b)
        return err <= floor + allowance + rtol * max(abs(a), abs(b)), err / max(abs(a), abs(b), REPORT_SCALE)

    def close(a, b, allowance=0.0):
        if isinstance(b, str):                      # non-finite values are exported as text
            b = float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b), 0.0
        if math.isinf(a) or math.isinf(b):
            return a == b, 0.0
        err = abs(a - b)
        return err <= atol + allowance + rtol * max(abs(a), abs(b)), err / max(abs(a), abs(b), REPORT_SCALE)

    for mine, theirs, env in zip(records, swift, spread):
        for key in METRICS:
            allowance = SPREAD_FACTOR * env[key]
            if key == "max_log10_abs_d_p_rejected":
                # At a minimum (spo at h*), dl/dpi_l is rounding noise (1e-16/pi_l) in both
                # implementations and its log10 is noise too: compare |dl/dpi_l| itself with
                # an absolute floor of 1e-8 (a log10 can overflow: keep those as logs).
                a, b = mine[key], float(theirs[key])
                if max(a, b) < 300:
                    good, rel = close_floor(10.0 ** a, 10.0 ** b, DP_FLOOR, allowance)
                else:
                    good, rel = close(a, b)
            else:
                good, rel = close(mine[key], theirs[key], allowance)
            worst = max(worst, rel)
            if not good:
                ok = False
                lines.append(f"step {mine['step']}: {key} numpy {mine[key]!r} swift {theirs[key]!r}")
    if not whole:
        return ok, worst, lines
    # Only differences within a prompt matter; both start from the same logits.
    dtheta = np.abs(theta - prob.swift_final)
    bound = atol + rtol * np.maximum(1.0, np.abs(prob.swift_final))
    if theta_spread is not None:
        bound = bound + SPREAD_FACTOR * theta_spread
    rel_theta = float(np.max(dtheta / np.maximum(1.0, np.abs(prob.swift_final))))
    worst = max(worst, rel_theta)
    if np.any(dtheta > bound):
        ok = False
        lines.append(f"final parameters differ: max |dtheta| / max(1, |theta|) = {rel_theta:.3g}")
    return ok, worst, lines


# ---------------------------------------------------------------------------------------------
# Command line.


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    k = sub.add_parser("kernels", help="loss + gradient throughput")
    k.add_argument("--pairs", type=int, default=10_000_000)
    k.add_argument("--losses", default="all")
    k.add_argument("--repeats", type=int, default=3)
    k.add_argument("--json", action="store_true")
    k.add_argument("--catalogue", default=None,
                   help="the output of `report losses --catalogue --format json` (default: run the built report)")
    t = sub.add_parser("train", help="time the trainer on an exported environment")
    t.add_argument("folder")
    t.add_argument("--repeats", type=int, default=3)
    t.add_argument("--rtol", type=float, default=1e-9)
    t.add_argument("--atol", type=float, default=1e-12)
    t.add_argument("--compare-until", type=int, default=None,
                   help="compare the metrics logged up to this step only (Adam at an exact optimum turns "
                        "rounding noise into chaotic motion late in long runs; see BENCHMARKS.md)")
    t.add_argument("--perturbation-envelope", action="store_true",
                   help="also allow, per metric and logged step, 10x the change that moving numpy's initial logits "
                        "and log-probabilities by one ulp makes (two extra untimed numpy runs up to --compare-until; see BENCHMARKS.md)")
    t.add_argument("--json", action="store_true")
    c = sub.add_parser("check", help="compare trainings with Swift's")
    c.add_argument("folders", nargs="+")
    c.add_argument("--rtol", type=float, default=1e-9)
    c.add_argument("--atol", type=float, default=1e-12)
    args = ap.parse_args(argv)

    if args.command == "kernels":
        catalogue = load_catalogue(args.catalogue)
        if args.losses == "all":
            losses = [e["name"] for e in catalogue if e["name"] in FORMULAS]
            skipped = [e["name"] for e in catalogue if e["name"] not in FORMULAS]
            if skipped:
                print(f"note: no numpy formula for {', '.join(skipped)}: skipped", file=sys.stderr)
        else:
            losses = args.losses.split(",")
        rows = bench_kernels(args.pairs, losses, args.repeats, catalogue)
        if args.json:
            print(json.dumps(dict(numpy=np.__version__, pairs=args.pairs, kernels=rows), indent=2))
        else:
            for r in rows:
                print(f"{r['loss']:12s} {r['rate'] / 1e6:10.2f} M pairs/s   checksum {r['checksum']:.6e}")
        return 0

    if args.command == "train":
        prob = Problem(args.folder)
        m = prob.meta
        times, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            theta, records = train(prob)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        spread = theta_spread = horizon = None
        until = args.compare_until
        if args.perturbation_envelope:
            spread, theta_spread = perturbation_spread(prob, records, theta, until)
            horizon = predictability_horizon(records, spread)
            if horizon is not None:
                until = horizon if until is None else min(until, horizon)
        ok, worst, lines = compare(prob, theta, records, args.rtol, args.atol, until, spread, theta_spread)
        strict_ok = ok if spread is None else compare(prob, theta, records, args.rtol, args.atol, until)[0]
        sec = float(np.median(times))
        compared = m["steps"] if until is None else min(m["steps"], until)
        out = dict(problem=m["problem"], loss=m["loss"], P=prob.P, K=prob.K, n=m["pairs_per_prompt"], steps=m["steps"],
                   seconds=sec, rate=m["pair_count"] * m["steps"] / sec, cpu_seconds=float(np.median(cpu)), final_regret=records[-1]["regret"],
                   swift_final_regret=float(m["swift_metrics"][-1]["regret"]), compared_steps=compared,
                   agrees=ok, agrees_at_rtol=strict_ok, perturbation_envelope=spread is not None,
                   predictability_horizon=horizon,
                   worst_relative_difference=worst, disagreements=lines[:5])
        if args.json:
            print(json.dumps(out, indent=2))
        else:
            print(f"{m['problem']} {m['loss']}: {out['rate'] / 1e6:.3f} M pair-updates/s ({sec:.3f} s), "
                  f"agrees with Swift over {compared} steps: {ok} (worst relative difference {worst:.2e})")
            for line in lines[:5]:
                print("  " + line)
        return 0 if ok else 1

    if args.command == "check":
        status = 0
        for folder in args.folders:
            prob = Problem(folder)
            theta, records = train(prob)
            ok, worst, lines = compare(prob, theta, records, args.rtol, args.atol)
            print(f"{folder}: {prob.meta['loss']} {'agrees' if ok else 'DISAGREES'} with Swift over "
                  f"{prob.meta['steps']} steps (worst relative difference {worst:.2e}, rtol {args.rtol:g}, atol {args.atol:g})")
            for line in lines[:10]:
                print("  " + line)
            status |= 0 if ok else 1
        return status
    return 2


if __name__ == "__main__":
    sys.exit(main())
