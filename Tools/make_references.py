#!/usr/bin/env python3
"""Generate Tests/LossMathTests/ReferenceValues.swift: high-precision reference literals.

Run from the package root:   python3 Tools/make_references.py

The loss names, flags (reward gap, label smoothing, h only) and parameter defaults are read
from the toolkit's own catalogue, `report losses --catalogue --format json` (a built
.build/{release,debug}/report, or `swift run`; or a saved file named by $LOSS_CATALOGUE).
The formulas are this script's own.

What it does
------------
Every loss of docs/loss-catalogue.md is written here a second time, independently and
*naively*: the plain textbook formula (log(1+exp(t)) literally, 1 - sigma(a) literally,
(x - dr)^2 literally, ...), evaluated in mpmath.  No log-space tricks, no branch on the
sign of the argument.  That is deliberate: the Swift code is careful double-precision
code, and this script is meant to be an independent check of it, not a transcription.

Precision.  The base precision is mp.dps = 50.  A naive formula loses every term that is
smaller than 10^-dps relative to the terms it is added to (log(1 + e^-700) is 0 at 50
digits, although the true value 9.9e-305 is a normal double).  So each output is
evaluated at 500 and at 1000 digits, and the double it rounds to must be the same at
both; if not, the precision is doubled until it is.  An output that is exactly 0 at
1000 digits is re-evaluated at a precision large enough to resolve e^-M, where M is the
largest exponent argument in the case (capped at 60000 digits), so that a true zero
and an underflowing nonzero value are told apart whenever that is affordable.  The
script also records how many outputs plain 50-digit evaluation would have got wrong.

Derivatives.  d/d logp_w and d/d logp_l come from analytic formulas derived here by hand
from the naive definitions (also written naively), and every one of them is checked
against mpmath.diff of the naive value function at the working precision.  The only
points skipped are the kinks where the catalogue fixes the derivative by convention (torch
relu): hinge at x = 1 and dpop at u_w = 0, where a central difference returns the mean of the
one-sided derivatives.

Rounding.  mpf -> double is done here with exact integer arithmetic, round-half-even,
including the subnormal range (mpmath's own float() rounds twice for subnormals).
Outputs that overflow the double range are not emitted: the whole case is dropped and
listed in the file's comments.  Outputs that round to 0 although the high-precision
value is not 0 are emitted as 0 (signed as correct rounding gives) and flagged in a
trailing comment.  Subnormal outputs are emitted as exact hexadecimal float literals
(Swift warns on decimal subnormal literals) with the decimal value in a comment.

Determinism.  Inputs come from hand-picked lists plus random.Random(20250807); the output
depends on nothing else, so the file is byte-identical on every run.
"""

import json
import math
import os
import struct
import random
import subprocess
import sys
import time

import mpmath
from mpmath import mp, mpf

BASE_DPS = 50
LEVELS = (500, 1000)
MAX_DPS = 60000
SEED = 20250807

# Losses made of + - * / and max only: at 500+ digits every operation on these double
# inputs is exact or within 10^-500 relative, so a zero they return is a true zero
# (or a residual far below anything a double can hold).
POLYNOMIAL = {"hinge", "ipo", "sppo_hard", "rpo_sq", "spo"}

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "LossMathTests", "ReferenceValues.swift")


# ----------------------------------------------------------------------------------------
# The catalogue's flags and parameter defaults come from the toolkit itself
# (`report losses --catalogue --format json`), not restated here; the formulas below are
# this script's own.
# ----------------------------------------------------------------------------------------

def load_catalogue(path=None):
    """The catalogue as a list of dicts, in catalogue order.

    From `path` (a file written by `report losses --catalogue --format json`), or from a built
    `report` binary (.build/release, then .build/debug), or from `swift run report`.
    """
    if path:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    args = ["losses", "--catalogue", "--format", "json"]
    for build in ("release", "debug"):
        exe = os.path.join(ROOT, ".build", build, "report")
        if os.access(exe, os.X_OK):
            return json.loads(subprocess.run([exe] + args, check=True, capture_output=True, text=True).stdout)
    out = subprocess.run(["swift", "run", "-c", "release", "report"] + args, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


CATALOGUE = load_catalogue(os.environ.get("LOSS_CATALOGUE"))


def parameter_default(name):
    for entry in CATALOGUE:
        for p in entry["parameters"]:
            if p["name"] == name:
                return p["default"]
    raise KeyError("the catalogue declares no parameter %r" % name)


TAU = parameter_default("discopop_tau")
LAM = parameter_default("bdpo_lambda")
DELTA = parameter_default("bco_delta")
DPOP_LAMBDA = parameter_default("dpop_lambda")


# ----------------------------------------------------------------------------------------
# Naive primitives.  They use whatever mp precision is current.
# ----------------------------------------------------------------------------------------

def sig(t):
    """sigma(t) = 1 / (1 + exp(-t)), literally."""
    return 1 / (1 + mp.exp(-t))


def softplus(t):
    """log(1 + exp(t)), literally."""
    return mp.log(1 + mp.exp(t))


def M(v):
    """An input double as an exact mpf."""
    return mpf(v)


# ----------------------------------------------------------------------------------------
# The catalogue, naive.  Each value function takes (uw, ul, beta, eps, dr) as mpf.
# Each gradient function returns (dl/du_w, dl/du_l), derived by hand below.
# ----------------------------------------------------------------------------------------

def v_sigmoid(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    return softplus(-x)


def g_sigmoid(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    dx = -sig(-x)
    return beta * dx, -beta * dx


def v_cdpo(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    return (1 - eps) * softplus(-x) + eps * softplus(x)


def g_cdpo(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    dx = -(1 - eps) * sig(-x) + eps * sig(x)
    return beta * dx, -beta * dx


def v_hinge(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    return max(mpf(0), 1 - x)


def g_hinge(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    dx = mpf(-1) if x < 1 else mpf(0)   # derivative 0 at x == 1 (relu convention)
    return beta * dx, -beta * dx


def v_ipo(uw, ul, beta, eps, dr):
    h = uw - ul
    return (h - 1 / (2 * beta)) ** 2


def g_ipo(uw, ul, beta, eps, dr):
    h = uw - ul
    dh = 2 * (h - 1 / (2 * beta))
    return dh, -dh


def v_exo_pair(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    qw = sig(x)
    ql = sig(-x)
    return qw * (mp.log(qw) - mp.log(1 - eps)) + ql * (mp.log(ql) - mp.log(eps))


def g_exo_pair(uw, ul, beta, eps, dr):
    # d qw/dx = qw*ql, d ql/dx = -qw*ql; the "+1" terms cancel; log qw - log ql = x.
    x = beta * (uw - ul)
    dx = sig(x) * sig(-x) * (x - mp.log((1 - eps) / eps))
    return beta * dx, -beta * dx


def v_nca_pair(uw, ul, beta, eps, dr):
    a = beta * uw
    b = beta * ul
    return softplus(-a) + mpf(0.5) * softplus(a) + mpf(0.5) * softplus(b)


def g_nca_pair(uw, ul, beta, eps, dr):
    a = beta * uw
    b = beta * ul
    return beta * (-sig(-a) + mpf(0.5) * sig(a)), beta * mpf(0.5) * sig(b)


def v_robust(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    return ((1 - eps) * softplus(-x) - eps * softplus(x)) / (1 - 2 * eps)


def g_robust(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    dx = -((1 - eps) * sig(-x) + eps * sig(x)) / (1 - 2 * eps)
    return beta * dx, -beta * dx


def v_bco_pair(uw, ul, beta, eps, dr):
    a = beta * uw
    b = beta * ul
    return softplus(-(a - DELTA)) + softplus(b - DELTA)


def g_bco_pair(uw, ul, beta, eps, dr):
    a = beta * uw
    b = beta * ul
    return -beta * sig(-(a - DELTA)), beta * sig(b - DELTA)


def v_sppo_hard(uw, ul, beta, eps, dr):
    c = 1 / (2 * beta)
    return (uw - c) ** 2 + (ul + c) ** 2


def g_sppo_hard(uw, ul, beta, eps, dr):
    c = 1 / (2 * beta)
    return 2 * (uw - c), 2 * (ul + c)


def v_apo_zero(uw, ul, beta, eps, dr):
    a = beta * uw
    b = beta * ul
    return 1 - sig(a) + sig(b)


def g_apo_zero(uw, ul, beta, eps, dr):
    a = beta * uw
    b = beta * ul
    return -beta * sig(a) * sig(-a), beta * sig(b) * sig(-b)


def v_apo_down(uw, ul, beta, eps, dr):
    a = beta * uw
    x = beta * (uw - ul)
    return sig(a) + 1 - sig(x)


def g_apo_down(uw, ul, beta, eps, dr):
    a = beta * uw
    x = beta * (uw - ul)
    sx = sig(x) * sig(-x)
    return beta * (sig(a) * sig(-a) - sx), beta * sx


def v_discopop(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    m = sig(x / M(TAU))
    return (1 - m) * softplus(-x) + m * mp.exp(-x)


def g_discopop(uw, ul, beta, eps, dr):
    # dm/dx = m(1-m)/tau;  d softplus(-x)/dx = -sigma(-x);  d e^-x/dx = -e^-x
    x = beta * (uw - ul)
    tau = M(TAU)
    m = sig(x / tau)
    dm = m * (1 - m) / tau
    dx = dm * (mp.exp(-x) - softplus(-x)) - (1 - m) * sig(-x) - m * mp.exp(-x)
    return beta * dx, -beta * dx


def v_bdpo(uw, ul, beta, eps, dr):
    lam = M(LAM)
    ulp = mp.log(lam * mp.exp(ul) + 1 - lam)
    return softplus(-beta * (uw - ulp))


def g_bdpo(uw, ul, beta, eps, dr):
    lam = M(LAM)
    ulp = mp.log(lam * mp.exp(ul) + 1 - lam)
    y = beta * (uw - ulp)
    s = sig(-y)
    dulp = lam * mp.exp(ul) / (lam * mp.exp(ul) + 1 - lam)
    return -beta * s, beta * s * dulp


def v_sq(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    return (x - dr) ** 2


def g_sq(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    dx = 2 * (x - dr)
    return beta * dx, -beta * dx


def v_rpo_bwd_kl(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    qp, qm = sig(dr), sig(-dr)
    pp, pm = sig(x), sig(-x)
    return qp * (mp.log(qp) - mp.log(pp)) + qm * (mp.log(qm) - mp.log(pm))


def g_kl_bt(uw, ul, beta, eps, dr):
    # rpo_bwd_kl and spo_bt: d/dx = -q+ p- + q- p+ = sigma(x) - sigma(dr)
    x = beta * (uw - ul)
    dx = -sig(dr) * sig(-x) + sig(-dr) * sig(x)
    return beta * dx, -beta * dx


def v_rpo_fwd_kl(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    qp, qm = sig(dr), sig(-dr)
    pp, pm = sig(x), sig(-x)
    return pp * (mp.log(pp) - mp.log(qp)) + pm * (mp.log(pm) - mp.log(qm))


def g_rpo_fwd_kl(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    dx = sig(x) * sig(-x) * (x - dr)
    return beta * dx, -beta * dx


def v_spo_bt(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    return -sig(dr) * mp.log(sig(x)) - sig(-dr) * mp.log(sig(-x))


def v_spo_asym(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    z = x / dr
    return -z * mp.exp(-z)


def g_spo_asym(uw, ul, beta, eps, dr):
    x = beta * (uw - ul)
    z = x / dr
    dx = (z - 1) * mp.exp(-z) / dr
    return beta * dx, -beta * dx


def v_dpop(uw, ul, beta, eps, dr):
    # Pal et al. 2024, eq. 3: -log sigma(beta (u_w - u_l - lambda max(0, log pi_ref(y_w) - log pi(y_w))))
    lam = M(DPOP_LAMBDA)
    return softplus(-beta * (uw - ul - lam * max(mpf(0), -uw)))


def g_dpop(uw, ul, beta, eps, dr):
    # d/du_w of max(0, -u_w) is -1 below 0, and 0 at and above 0 (relu convention at the kink).
    lam = M(DPOP_LAMBDA)
    x = beta * (uw - ul - lam * max(mpf(0), -uw))
    s = sig(-x)
    slope = 1 + lam if uw < 0 else mpf(1)
    return -beta * s * slope, beta * s


def v_chipo(uw, ul, beta, eps, dr):
    # Huang et al. 2024: the link phi(z) = z + log z of z = pi/pi_ref, i.e. e^u + u; unclipped.
    x = beta * ((mp.exp(uw) + uw) - (mp.exp(ul) + ul))
    return softplus(-x)


def g_chipo(uw, ul, beta, eps, dr):
    x = beta * ((mp.exp(uw) + uw) - (mp.exp(ul) + ul))
    s = sig(-x)
    return -beta * s * (1 + mp.exp(uw)), beta * s * (1 + mp.exp(ul))


# name -> (value, gradient): this script's own formulas.
FORMULAS = {
    "sigmoid": (v_sigmoid, g_sigmoid),
    "cdpo": (v_cdpo, g_cdpo),
    "hinge": (v_hinge, g_hinge),
    "ipo": (v_ipo, g_ipo),
    "exo_pair": (v_exo_pair, g_exo_pair),
    "nca_pair": (v_nca_pair, g_nca_pair),
    "robust": (v_robust, g_robust),
    "bco_pair": (v_bco_pair, g_bco_pair),
    "sppo_hard": (v_sppo_hard, g_sppo_hard),
    "apo_zero": (v_apo_zero, g_apo_zero),
    "apo_down": (v_apo_down, g_apo_down),
    "discopop": (v_discopop, g_discopop),
    "bdpo": (v_bdpo, g_bdpo),
    "rpo_sq": (v_sq, g_sq),
    "rpo_bwd_kl": (v_rpo_bwd_kl, g_kl_bt),
    "rpo_fwd_kl": (v_rpo_fwd_kl, g_rpo_fwd_kl),
    "spo": (v_sq, g_sq),
    "spo_bt": (v_spo_bt, g_kl_bt),
    "spo_asym": (v_spo_asym, g_spo_asym),
    "dpop": (v_dpop, g_dpop),
    "chipo": (v_chipo, g_chipo),
}


def kind_of(entry):
    """"target" (reads dr), "h" (a function of beta*h alone) or "sep" (u_w and u_l separately)."""
    if entry["needs_reward_gap"]:
        return "target"
    return "h" if entry["depends_on_h_only"] else "sep"


def catalogue_losses():
    """(name, value, gradient, catalogue entry, kind) in catalogue order; every catalogue
    loss needs a formula here and every formula a catalogue entry."""
    names = [e["name"] for e in CATALOGUE]
    missing = [n for n in names if n not in FORMULAS]
    extra = [n for n in FORMULAS if n not in names]
    if missing or extra:
        sys.exit("catalogue and formulas disagree: no formula for %s; not in the catalogue: %s"
                 % (missing, extra))
    return [(e["name"], FORMULAS[e["name"]][0], FORMULAS[e["name"]][1], e, kind_of(e))
            for e in CATALOGUE]


# ----------------------------------------------------------------------------------------
# Correct rounding mpf -> double (round half to even, subnormals included).
# Returns a Python float, or None on overflow.
# ----------------------------------------------------------------------------------------

def round_to_double(v):
    sign, man, exp, bc = v._mpf_
    if man == 0:
        if exp != 0:   # inf / nan special values
            raise ValueError("non-finite mpf")
        return 0.0
    top = exp + bc - 1                 # |v| in [2^top, 2^(top+1))
    if top < -1076:                    # below half the smallest subnormal (e.g. e^(-1e134))
        return -0.0 if sign else 0.0
    if top >= 1024:                    # beyond the double range
        return None
    e2 = max(top - 52, -1074)          # exponent of the unit in the last place
    shift = e2 - exp
    if shift <= 0:
        n = man << (-shift)
    else:
        n = man >> shift
        rem = man - (n << shift)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and (n & 1)):
            n += 1
    if n >= (1 << 53):                 # rounding carried into a new binade
        n >>= 1
        e2 += 1
    if e2 + 53 > 1024:                 # n * 2^e2 >= 2^1024: overflows to infinity
        return None
    f = math.ldexp(n, e2)              # exact: n < 2^53 and e2 >= -1074
    return -f if sign else f


MIN_NORMAL = 2.0 ** -1022


# ----------------------------------------------------------------------------------------
# Evaluation with precision escalation.
# ----------------------------------------------------------------------------------------

def rounded(vals):
    return tuple(round_to_double(v) for v in vals)


def same_doubles(a, b):
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x is None or y is None:
            if x is not y:
                return False
        elif x != y or math.copysign(1, x) != math.copysign(1, y):
            return False
    return True


def evaluate(fn, max_exp_arg):
    """fn() computes a tuple of mpf outputs at the current precision.

    Returns (mp values at the final precision, doubles, final dps, doubles at 50 digits).
    """
    with mp.workdps(BASE_DPS):
        try:
            at50 = rounded(fn())
        except (ValueError, ZeroDivisionError):   # e.g. log(1 - exp(-1e-300)) = log(0)
            at50 = ()
    unresolved = False
    dps = LEVELS[0]
    with mp.workdps(dps):
        prev = fn()
    dps = LEVELS[1]
    while True:
        with mp.workdps(dps):
            cur = fn()
        if same_doubles(rounded(prev), rounded(cur)):
            break
        if dps >= MAX_DPS:
            raise RuntimeError("no stable rounding up to %d digits" % dps)
        prev, dps = cur, min(2 * dps, MAX_DPS)
    # Exact zeros: a true zero, or a cancellation below 10^-dps?  Resolve it when the
    # case's exponents make that affordable.
    if any(v == 0 for v in cur):
        need = int(max_exp_arg / 2.302585 * 1.05) + 200
        unresolved = need > MAX_DPS
        if dps < need <= MAX_DPS:
            with mp.workdps(need):
                cur2 = fn()
            with mp.workdps(need + 200):
                cur3 = fn()
            if not same_doubles(rounded(cur2), rounded(cur3)):
                raise RuntimeError("unstable at %d digits" % need)
            cur, dps = cur3, need + 200
    return cur, rounded(cur), dps, at50, unresolved


# ----------------------------------------------------------------------------------------
# Inputs.
# ----------------------------------------------------------------------------------------

BETAS = [1e-4, 0.01, 0.1, 1.0, 10.0, 1e3]
DRS = [-1e3, -5.0, -0.3, 0.5, 1.0, 3.0, 1e3]

# (label, logp_w, logp_l, ref_w, ref_l)
CONFIGS = [
    ("ordinary", -0.5, -1.0, -0.7, -0.9),                       # u_w=0.2, u_l=-0.1
    ("zero margin", -12.0, -15.0, -12.0, -15.0),                # u_w=u_l=0
    ("sequence scale", -800.0, -810.0, -790.0, -805.0),         # u_w=-10, u_l=-5
    ("rejected collapsing", -800.0, -1500.0, -790.0, -800.0),   # u_w=-10, u_l=-700
    ("chosen collapsed", -1e5, -2.0, -2.0, -3.0),               # u_w=-99998, u_l=1
    ("chosen up huge", -0.5, -1e5, -1e5, -0.7),                 # u_w=99999.5, u_l=-99999.3
    ("rejected up huge", -2.0, -0.5, -3.0, -1e5),               # u_w=1, u_l=99999.5
    ("tiny logps", -1e-8, -1e-300, -2e-8, -3e-300),             # u_w=1e-8, u_l=2e-300
    ("exact zeros", 0.0, -1e5, 0.0, -1e5),                      # u_w=u_l=0
    ("rejected to -1e5", -5.0, -1e5, -5.5, -20.0),              # u_w=0.5, u_l=-99980
    ("small h", -100.0, -100.25, -100.125, -100.5),             # u_w=0.125, u_l=0.25
    ("mixed", -37.0, -45.0, -30.0, -50.0),                      # u_w=-7, u_l=5
]


def case(label, lw, ll, rw, rl, beta, dr, eps=None):
    return {"label": label, "lw": float(lw), "ll": float(ll), "rw": float(rw),
            "rl": float(rl), "beta": float(beta), "dr": float(dr), "eps": eps}


def common_cases(rng):
    out = []
    for i, (label, lw, ll, rw, rl) in enumerate(CONFIGS):
        for j in range(2):
            beta = BETAS[(2 * i + 3 * j) % len(BETAS)]
            dr = DRS[(3 * i + 2 * j) % len(DRS)]
            out.append(case(label, lw, ll, rw, rl, beta, dr))
    for k, beta in enumerate(BETAS):
        out.append(case("ordinary, beta sweep", -0.5, -1.0, -0.7, -0.9, beta, DRS[k % len(DRS)]))
        out.append(case("rejected collapsing, beta sweep", -800.0, -1500.0, -790.0, -800.0,
                        beta, DRS[(k + 3) % len(DRS)]))
    # Random cases: log-uniform magnitudes from 1e-3 to 1e5; half of them with a
    # reference close to the policy (moderate log-ratios), half independent.
    for k in range(16):
        def mag():
            return -(10.0 ** rng.uniform(-3.0, 5.0))
        lw, ll = mag(), mag()
        if k % 2 == 0:
            rw = lw + rng.gauss(0.0, 3.0)
            rl = ll + rng.gauss(0.0, 3.0)
            rw, rl = min(rw, 0.0), min(rl, 0.0)
        else:
            rw, rl = mag(), mag()
        beta = 10.0 ** rng.uniform(-4.0, 3.0)
        dr = rng.choice(DRS) if k % 3 else rng.uniform(-5.0, 5.0)
        out.append(case("random", lw, ll, rw, rl, beta, dr))
    return out


def special_cases(name, kind):
    """Stationary and edge points specific to a loss."""
    out = []
    if kind == "target":
        # beta*h == dr exactly (beta a power of two, all subtractions exact)
        out.append(case("stationary exact", -1.5, -4.5, -4.0, -1.0, 0.5, 3.0))          # h=6
        out.append(case("stationary exact, seq scale", -820.0, -790.0, -800.0, -790.0,
                        0.25, -5.0))                                                      # h=-20
        out.append(case("stationary exact, beta 1e3", -0.5, -2.0, -1.5, -2.0, 1e3 * 1.0,
                        1e3))                                                             # h=1
        out.append(case("stationary exact, beta 2^-13", -100.0, -7.0, -4196.0, -7.0,
                        2.0 ** -13, 0.5))                                                 # h=4096
        # beta*h = dr*(1+1e-6), approximately (values are exact for these doubles)
        out.append(case("near stationary 1+1e-6", -20.0 + 10.0 * (1 + 1e-6), -3.0, -20.0,
                        -3.0, 0.1, 1.0))
        out.append(case("near stationary 1+1e-6, dr<0", -1.0, -1.0 + 0.5 * (1 + 1e-6),
                        -1.0, -1.0, 10.0, -5.0))
        out.append(case("near stationary 1-1e-6, large dr", -0.5, -1.5 - (1 - 1e-6) * 1.0,
                        -0.5, -1.5, 1e3, 1e3))
        # ILL-CONDITIONED: beta*h - dr ~ 2.8e-17 exists only in the exact reals of these
        # doubles (0.1*3 vs 0.3); double arithmetic cannot resolve it.
        out.append(case("ILL-CONDITIONED 0.1*3 vs 0.3", -1.0, -4.0, -1.0, -1.0, 0.1, 0.3))
    if name == "ipo":
        out.append(case("ipo target exact", -1.0, -3.0, -2.0, -3.0, 0.5, 1.0))           # h=1
        out.append(case("ILL-CONDITIONED ipo target 1/(2*0.1)", -5.0, -10.0, -10.0, -10.0, 0.1, 1.0))    # h=5
        out.append(case("ipo near target", -10.0, -10.0, -10.0 - 5000.0 * (1 + 1e-6),
                        -10.0, 1e-4, 1.0))
    if name == "hinge":
        out.append(case("hinge kink x=1 exactly", -1.0, -3.0, -1.0, -1.0, 0.5, 1.0))     # x=1
        out.append(case("hinge x=1-2^-40", -1.0, -3.0 + 2.0 ** -39, -1.0, -1.0, 0.5, 1.0))
        out.append(case("hinge x=1+2^-40", -1.0, -3.0 - 2.0 ** -39, -1.0, -1.0, 0.5, 1.0))
    if name == "sppo_hard":
        out.append(case("sppo stationary exact", -1.0, -3.0, -2.0, -2.0, 0.5, 1.0))      # u=(1,-1)
        out.append(case("ILL-CONDITIONED sppo stationary beta 1e-4", -4000.0, -14000.0, -9000.0, -9000.0,
                        1e-4, 1.0))
    if name in ("exo_pair", "cdpo"):
        # stationary at x = log((1-eps)/eps) = log 9 for eps = 0.1
        h = math.log(9.0) / 0.5
        out.append(case("ILL-CONDITIONED near stationary x=log 9", -2.0, -2.0, -2.0 - h, -2.0, 0.5, 1.0))
    if name == "discopop":
        for x in (-0.05, 0.05, -0.5, -3.0):
            out.append(case("discopop x=%g" % x, -1.0 + x, -1.0, -1.0, -1.0, 1.0, 1.0))
    if name == "bdpo":
        out.append(case("bdpo u_l=log(1/lam)", -1.0, -1.0 + math.log(2.0), -1.0, -1.0,
                        1.0, 1.0))
        out.append(case("bdpo u_l=-745", -1.0, -746.0, -1.0, -1.0, 1.0, 1.0))
    if name == "dpop":
        out.append(case("dpop kink u_w=0 exactly", -1.0, -3.0, -1.0, -1.0, 0.5, 1.0))
        out.append(case("dpop u_w=-2^-40", -1.0 - 2.0 ** -40, -3.0, -1.0, -1.0, 0.5, 1.0))
        out.append(case("dpop u_w=+2^-40", -1.0 + 2.0 ** -40, -3.0, -1.0, -1.0, 0.5, 1.0))
        out.append(case("dpop chosen down 800", -810.0, -805.0, -10.0, -5.0, 1.0, 1.0))
        out.append(case("dpop chosen down 800, rejected down more", -810.0, -1000.0, -10.0, -5.0, 0.01, 1.0))
        out.append(case("dpop chosen up, rejected down", -5.0, -900.0, -8.0, -6.0, 0.1, 1.0))
        out.append(case("dpop penalty balances margin", -2.0, -1.0, -1.0, -1.0 - 51.0, 1.0, 1.0))   # x=0
    if name == "chipo":
        # u up to 1000 (e^u beyond the double range), u down to -800.
        out.append(case("chipo u=1000/999, beta 1e-300", -1.0, -1.0, -1001.0, -1000.0, 1e-300, 1.0))
        out.append(case("chipo u=999/1000, beta 1e-300", -1.0, -1.0, -1000.0, -1001.0, 1e-300, 1.0))
        out.append(case("chipo u=1000-2^-40/1000, beta 1e-200", -1.0 - 2.0 ** -40, -1.0, -1001.0, -1001.0,
                        1e-200, 1.0))
        out.append(case("chipo u=709.5/710, beta 0.5", -1.0, -1.0, -710.5, -711.0, 0.5, 1.0))
        out.append(case("chipo u=710/709.5, beta 0.5", -1.0, -1.0, -711.0, -710.5, 0.5, 1.0))
        out.append(case("chipo u=700/700.25, beta 1e-3", -1.0, -1.0, -701.0, -701.25, 1e-3, 1.0))
        out.append(case("chipo u=701/700.5, beta 1e-3", -1.0, -1.0, -702.0, -701.5, 1e-3, 1.0))
        out.append(case("chipo u=-800/-790", -810.0, -800.0, -10.0, -10.0, 1.0, 1.0))
        out.append(case("chipo u=0.5/-800", -1.0, -805.0, -1.5, -5.0, 1.0, 1.0))
        out.append(case("chipo u=-800/0.5", -805.0, -1.0, -5.0, -1.5, 1.0, 1.0))
        out.append(case("chipo u=30/29", -1.0, -2.0, -31.0, -31.0, 0.1, 1.0))
    # Issue 13, part 7: regimes where the kernels once lost 17 to 400 ulps.
    if name == "apo_down":
        # rejected collapsed far below its reference (beta h in the hundreds), chosen near its
        # own (|beta u_w| ~ 1e-3): d_logp_chosen ~ beta/4 once lost ~100-400 ulps.
        out.append(case("apo_down collapsed, beta h ~ 138", -4.187885148277894, -1387.2071250375445,
                        -4.195734313960887, -0.9235851887285715, 0.1, 1.0))
        out.append(case("apo_down collapsed, beta h ~ 272", -0.8764879721579714, -1089.4056787758425,
                        -0.8867625516012725, -2.3817746811684177, 0.25, 1.0))
        out.append(case("apo_down collapsed, beta h ~ 147", -3.0422921691803526, -299.3380839248778,
                        -3.0445416238688585, -4.763523653183694, 0.5, 1.0))
        out.append(case("apo_down collapsed, beta h ~ 417", -4.888370890486348, -1670.0823638605948,
                        -4.89314797516814, -0.7096220627799033, 0.25, 1.0))
        out.append(case("apo_down collapsed, beta h = 800.001", -1.0, -801.0, -1.001, -1.0, 1.0, 1.0))
    if name in ("exo_pair", "rpo_fwd_kl"):
        # collapsed: derivatives subnormal (~1e-310 .. 1e-323), once off by up to ~160 ulps
        out.append(case("collapsed, subnormal derivative x=720", -1.0, -721.0, -1.0, -1.0, 1.0, -2.0))
        out.append(case("collapsed, subnormal derivative x=740", -1.0, -741.0, -1.0, -1.0, 1.0, 3.0))
        out.append(case("collapsed, subnormal derivative x=730", -1.0, -1461.0, -1.0, -1.0, 0.5, 1.0))
        out.append(case("collapsed, subnormal derivative x=750", -1.0, -751.0, -1.0, -1.0, 1.0, 1.0))
    if name == "discopop":
        # policy and reference log-ratios ~1e-6 apart (x ~ 1e-6): the four derivative terms
        # cancel from ~9 to ~0.78 (once ~17 ulps lost)
        out.append(case("discopop x~1e-6", -1.0, -1.000001, -1.0, -1.0, 1.0, 1.0))
        out.append(case("discopop x~-2e-6", -1.0, -1.0, -1.0, -1.000002, 1.0, 1.0))
        out.append(case("discopop x~1e-6, beta 0.3", -2.5, -7.1, -2.500003, -7.1, 0.3, 1.0))
        out.append(case("discopop x~1.4e-6, beta 2", -0.3, -0.7, -0.3000007, -0.7, 2.0, 1.0))
        out.append(case("discopop x=0.03", -1.0, -1.03, -1.0, -1.0, 1.0, 1.0))
        out.append(case("discopop x=-0.03", -1.0, -0.97, -1.0, -1.0, 1.0, 1.0))
        out.append(case("discopop x~-1e-4", -1.0, -0.9999, -1.0, -1.0, 1.0, 1.0))
    if name == "spo_asym":
        out.append(case("spo_asym z=-50", -1.0, -1.0, -1.0, -11.0, 5.0, 1.0))           # x=-50
        out.append(case("spo_asym z=700", -1.0, -1.0, -701.0, -1.0, 1.0, 1.0))
        out.append(case("spo_asym z=745 (subnormal)", -1.0, -1.0, -746.0, -1.0, 1.0, 1.0))
    return out


def eps_for(entry, eps_override):
    if entry["label_smoothing"] is not None:
        return 0.1 if eps_override is None else eps_override
    return 0.0


# chipo's e^u has a decimal exponent of about 0.43 u: cases with a log-ratio above this are
# left out (mpmath would need tens of thousands of digits for exp(beta e^u)).
CHIPO_MAX_U = 1100.0


def cases_for(name, kind, common, entry):
    cs = [dict(c) for c in common] + special_cases(name, kind)
    if name == "chipo":
        cs = [c for c in cs if max(c["lw"] - c["rw"], c["ll"] - c["rl"]) <= CHIPO_MAX_U]
    ls = entry["label_smoothing"]
    if ls is not None and ls["lower"] == 0 and ls["lower_included"]:
        for idx in (0, 2, 3, 5):                       # a few points with eps = 0
            c = dict(common[idx])
            c["eps"] = 0.0
            c["label"] += ", eps=0"
            cs.append(c)
    for c in cs:
        c["eps"] = eps_for(entry, c["eps"])
    return cs


# ----------------------------------------------------------------------------------------
# Scalar helpers and T1 references.
# ----------------------------------------------------------------------------------------

SCALAR_POINTS = [-1e5, -745.0, -709.0, -40.0, -37.0, -20.0, -1.0, -1e-8, -1e-300, 0.0,
                 1e-300, 1e-8, 0.5, 1.0, 20.0, 37.0, 40.0, 709.0, 745.0, 1e5]

SCALARS = [
    ("softplus", 1, lambda x, y: mp.log(1 + mp.exp(x))),
    ("logSigmoid", 1, lambda x, y: mp.log(1 / (1 + mp.exp(-x)))),
    ("sigmoid", 1, lambda x, y: 1 / (1 + mp.exp(-x))),
    ("log1mexp", 1, lambda x, y: mp.log(1 - mp.exp(x))),
    ("logAddExp", 2, lambda x, y: mp.log(mp.exp(x) + mp.exp(y))),
    ("sigmoidDifference", 2, lambda x, y: 1 / (1 + mp.exp(-x)) - 1 / (1 + mp.exp(-y))),
]


def scalar_inputs(rng, arity, name):
    pts = list(SCALAR_POINTS)
    extra = []
    for _ in range(30):
        r = rng.random()
        if r < 0.4:
            v = rng.uniform(-50.0, 50.0)
        elif r < 0.8:
            v = math.copysign(10.0 ** rng.uniform(-12.0, 5.0), rng.uniform(-1.0, 1.0))
        else:
            v = rng.uniform(-800.0, 800.0)
        extra.append(v)
    if arity == 1:
        xs = pts + extra
        if name == "log1mexp":
            xs = [x for x in xs if x < 0] + [-abs(x) for x in extra if x > 0]
        return [(x, 0.0) for x in xs]
    pairs = [(x, y) for x in pts for y in pts]
    for k in range(0, len(extra) - 1, 1):
        pairs.append((extra[k], extra[k + 1]))
    # near-equal arguments (cancellation in sigmoidDifference, log 2 in logAddExp)
    for x in (-30.0, -1.0, 0.3, 25.0):
        pairs.append((x, x + 1e-9))
        pairs.append((x, math.nextafter(x, math.inf)))
    return pairs


LOGZ_CASES = None


def logz_inputs(rng):
    def normalise(logits):
        with mp.workdps(200):
            lse = mp.log(mp.fsum(mp.exp(M(v)) for v in logits))
            return [round_to_double(M(v) - lse) for v in logits]
    cases = [
        ("three responses", normalise([math.log(0.5), math.log(0.3), math.log(0.2)]),
         [1.0, 0.0, -1.0], 1.0),
        ("logRef -800", normalise([0.0, -800.0, -805.0, -2.0]), [0.0, 0.5, 1.0, -0.5], 0.1),
        ("beta 1e-3 (exp(r/beta) overflows)", normalise([-0.1, -1.0, -3.0]),
         [0.5, 1.0, -0.25], 1e-3),
        ("beta 1e-3, reward on a -800 response", normalise([0.0, -800.0, -1.0]),
         [0.0, 1.0, 0.2], 1e-3),
        ("beta 1e3 (pi* ~ pi_ref)", normalise([-0.3, -1.2, -2.5, -0.9]),
         [2.0, -1.0, 0.5, 0.0], 1e3),
        ("equal rewards", normalise([-0.2, -2.0, -5.0]), [0.7, 0.7, 0.7], 0.05),
        ("beta 0.1, rewards +-50", normalise([-1.0, -0.5, -3.0, -8.0]),
         [50.0, -50.0, 10.0, 0.0], 0.1),
        ("single response", [0.0], [3.0], 0.5),
        ("reward -1e3 at beta 1e-3", normalise([-0.5, -1.5, -0.1]), [-1e3, 0.0, 0.25], 1e-3),
    ]
    logits = [rng.gauss(0.0, 3.0) for _ in range(8)]
    logits[3] = -800.0
    rewards = [rng.gauss(0.0, 1.0) for _ in range(8)]
    cases.append(("random K=8 with a -800 entry", normalise(logits), rewards, 0.02))
    return cases


def logz_eval(logref, rewards, beta):
    lr = [M(v) for v in logref]
    rr = [M(v) for v in rewards]
    b = M(beta)
    z = mp.fsum(mp.exp(l) * mp.exp(r / b) for l, r in zip(lr, rr))   # naive Z
    logz = mp.log(z)
    logpi = [l + r / b - logz for l, r in zip(lr, rr)]
    # J(pi*) = E_pi*[r] - beta*KL(pi* || pi_ref), summed directly (independent of logZ)
    pis = [mp.exp(lp) for lp in logpi]
    j = mp.fsum(p * r for p, r in zip(pis, rr)) - b * mp.fsum(
        p * (lp - l) for p, lp, l in zip(pis, logpi, lr))
    return logz, logpi, b * logz, j


# ----------------------------------------------------------------------------------------
# Swift formatting.
# ----------------------------------------------------------------------------------------

def lit(f):
    """Swift source that denotes exactly the double f.

    Normal numbers and zeros: Python's shortest round-trip repr (1e-05, -0.0, 2.0, 1e+300
    are all valid Swift literals).  Subnormals: Double(bitPattern:), because Swift warns
    "underflows and loses precision" on decimal and on most hexadecimal subnormal
    literals, even exact ones.
    """
    if f is None or math.isinf(f) or math.isnan(f):
        raise ValueError("non-finite literal")
    if f != 0.0 and abs(f) < MIN_NORMAL:
        bits = struct.unpack(">Q", struct.pack(">d", f))[0]
        return "Double(bitPattern: 0x%016x)" % bits
    r = repr(f)
    assert float(r) == f
    return r


def emit_table(var, typ, groups):
    """A global array built from one small function per group.

    One array literal with a thousand initialiser calls makes swiftc use gigabytes of
    memory; chunks of at most 60 entries type-check in about a second.
    """
    out = []
    names = []
    for k, (title, entries) in enumerate(groups):
        for c0 in range(0, len(entries), 60):
            fname = "_%s%02d" % (var, len(names))
            names.append(fname)
            out.append("// %s" % title)
            out.append("private func %s() -> [%s] { [" % (fname, typ))
            out.extend(entries[c0:c0 + 60])
            out.append("] }")
            out.append("")
    out.append("let %s: [%s] = {" % (var, typ))
    out.append("    var all: [%s] = []" % typ)
    for fname in names:
        out.append("    all.append(contentsOf: %s())" % fname)
    out.append("    return all")
    out.append("}()")
    out.append("")
    return out


def swift_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ----------------------------------------------------------------------------------------
# Main.
# ----------------------------------------------------------------------------------------

def main():
    t0 = time.time()
    mp.dps = BASE_DPS
    rng = random.Random(SEED)
    common = common_cases(rng)

    loss_groups = []
    summary = []          # (name, emitted, skipped, flushed, wrong_at_50, diffchecks)
    skipped_notes = []
    problems = []
    for name, vfn, gfn, entry, kind in catalogue_losses():
        emitted = 0
        flushed = 0
        wrong50 = 0
        ndiff = 0
        skipped = 0
        loss_lines = []
        loss_groups.append((name, loss_lines))
        for idx, c in enumerate(cases_for(name, kind, common, entry)):
            lw, ll, rw, rl = c["lw"], c["ll"], c["rw"], c["rl"]
            beta, eps, dr = c["beta"], c["eps"], c["dr"]

            def inputs():
                uw = M(lw) - M(rw)
                ul = M(ll) - M(rl)
                return uw, ul, M(beta), M(eps), M(dr)

            def fn():
                uw, ul, b, e, d = inputs()
                gw, gl = gfn(uw, ul, b, e, d)
                return (vfn(uw, ul, b, e, d), gw, gl)

            with mp.workdps(400):
                uw0, ul0, b0, _, d0 = inputs()
                x0 = b0 * (uw0 - ul0)
                args = [abs(x0), abs(b0 * uw0), abs(b0 * ul0), abs(uw0), abs(ul0),
                        abs(x0 / M(TAU)), abs(d0), abs(x0 / d0)]
                if name == "dpop":
                    args.append(abs(b0 * (uw0 - ul0 - M(DPOP_LAMBDA) * max(mpf(0), -uw0))))
                if name == "chipo":
                    xc = b0 * ((mp.exp(uw0) + uw0) - (mp.exp(ul0) + ul0))
                    args.append(min(abs(xc), mpf(1e300)))
                max_arg = float(max(args))
            vals, dbl, dps, at50, unresolved = evaluate(fn, max_arg)
            if not same_doubles(dbl, at50):
                wrong50 += 1

            # Cross-check the analytic derivatives against mpmath.diff of the value.
            kink = (name == "hinge")
            with mp.workdps(dps):
                uw, ul, b, e, d = inputs()
                if (kink and b * (uw - ul) == 1) or (name == "dpop" and uw == 0):
                    pass
                else:
                    fw = lambda t: vfn(t - M(rw), ul, b, e, d)
                    fl = lambda t: vfn(uw, t - M(rl), b, e, d)
                    nw = mp.diff(fw, M(lw))
                    nl = mp.diff(fl, M(ll))
                    scale = max(abs(vals[0]), mpf(1)) * max(b, mpf(1))
                    tol = mpf(10) ** (-(dps // 2)) * scale
                    for an, nu, which in ((vals[1], nw, "dLogpChosen"),
                                          (vals[2], nl, "dLogpRejected")):
                        ok = abs(an - nu) <= tol + mpf(10) ** (-30) * abs(an)
                        if not ok:
                            problems.append("%s case %d (%s): %s analytic %s vs diff %s" % (
                                name, idx, c["label"], which, mpmath.nstr(an, 20),
                                mpmath.nstr(nu, 20)))
                    ndiff += 2

            if any(v is None for v in dbl):
                skipped += 1
                which = [n for n, v in zip(("value", "dLogpChosen", "dLogpRejected"), dbl)
                         if v is None]
                skipped_notes.append(
                    "%s: %s (logp %r/%r, ref %r/%r, beta %r, dr %r): %s overflow%s" % (
                        name, c["label"], lw, ll, rw, rl, beta, dr, ", ".join(which),
                        "" if len(which) > 1 else "s"))
                continue
            notes = []
            for fname, mv, f in zip(("value", "dLogpChosen", "dLogpRejected"), vals, dbl):
                if f == 0.0 and mv != 0:
                    notes.append("%s underflows to 0 (|v| ~ %s)" % (
                        fname, mpmath.nstr(abs(mv), 3)))
                    flushed += 1
                elif mv == 0 and unresolved and name not in POLYNOMIAL:
                    notes.append("%s is 0 at %d digits (exact, or a nonzero below 1e-%d)" % (
                        fname, dps, dps))
                    flushed += 1
                elif f != 0.0 and abs(f) < MIN_NORMAL:
                    notes.append("%s subnormal %r" % (fname, f))
            if "ILL" in c["label"]:
                notes.append("ill-conditioned in double")
            comment = "  // %s" % c["label"]
            if notes:
                comment += "; " + "; ".join(notes)
            loss_lines.append(
                "    LossReference(loss: %s, logpChosen: %s, logpRejected: %s, refChosen: %s, "
                "refRejected: %s, beta: %s, labelSmoothing: %s, rewardGap: %s, value: %s, "
                "dLogpChosen: %s, dLogpRejected: %s),%s" % (
                    swift_string(name), lit(lw), lit(ll), lit(rw), lit(rl), lit(beta),
                    lit(eps), lit(dr), lit(dbl[0]), lit(dbl[1]), lit(dbl[2]), comment))
            emitted += 1
        summary.append((name, emitted, skipped, flushed, wrong50, ndiff))

    # Scalars
    scalar_groups = []
    scalar_counts = []
    for fname, arity, f in SCALARS:
        n = 0
        scalar_lines = []
        scalar_groups.append((fname, scalar_lines))
        for x, y in scalar_inputs(rng, arity, fname):
            def fn(x=x, y=y, f=f):
                return (f(M(x), M(y)),)
            max_arg = max(abs(x), abs(y))
            vals, dbl, dps, at50, unresolved = evaluate(fn, max_arg)
            if dbl[0] is None:
                skipped_notes.append("scalar %s(%r, %r): overflow" % (fname, x, y))
                continue
            note = ""
            if dbl[0] == 0.0 and vals[0] != 0:
                note = "  // underflows to 0 (|v| ~ %s)" % mpmath.nstr(abs(vals[0]), 3)
            elif vals[0] == 0 and unresolved:
                note = "  // 0 at %d digits (exact, or a nonzero below 1e-%d)" % (dps, dps)
            elif dbl[0] != 0.0 and abs(dbl[0]) < MIN_NORMAL:
                note = "  // subnormal %r" % dbl[0]
            scalar_lines.append("    ScalarReference(function: %s, x: %s, y: %s, value: %s),%s" % (
                swift_string(fname), lit(x), lit(y), lit(dbl[0]), note))
            n += 1
        scalar_counts.append((fname, n))

    # LogZ
    logz_lines = []
    for label, logref, rewards, beta in logz_inputs(rng):
        def fn(logref=logref, rewards=rewards, beta=beta):
            logz, logpi, opt, j = logz_eval(logref, rewards, beta)
            return tuple([logz] + logpi + [opt, j])
        max_arg = max(abs(r) / beta for r in rewards) + max(abs(l) for l in logref)
        vals, dbl, dps, _, _ = evaluate(fn, max_arg)
        with mp.workdps(dps):
            if abs(vals[-1] - vals[-2]) > mpf(10) ** (-(dps - 20)) * (1 + abs(vals[-2])):
                problems.append("logZ %s: J(pi*) %s != beta*logZ %s" % (
                    label, vals[-1], vals[-2]))
        logz_lines.append(
            "    LogZReference(logRef: [%s], rewards: [%s], beta: %s, logZ: %s, logPiStar: [%s], "
            "optimalValue: %s),  // %s" % (
                ", ".join(lit(v) for v in logref), ", ".join(lit(v) for v in rewards),
                lit(beta), lit(dbl[0]), ", ".join(lit(v) for v in dbl[1:-2]), lit(dbl[-2]),
                label))

    if problems:
        for p in problems:
            print("PROBLEM:", p, file=sys.stderr)
        sys.exit(1)

    head = [
        "// Generated by Tools/make_references.py with mpmath (50 digits). Do not edit by hand.",
        "//",
        "// Naive textbook formulas, evaluated at 50 digits and above: each output is computed at",
        "// 500 and 1000 digits (more if needed) and must round to the same double at both.",
        "// Derivatives: hand-derived formulas, each checked against mpmath.diff of the value.",
        "// Rounding to double: round-half-even, exact, subnormals included. Subnormal",
        "// literals are written in hexadecimal (exact; Swift warns on decimal ones).",
        "// Losses that ignore label smoothing have labelSmoothing 0; all cases carry a nonzero",
        "// rewardGap even where the loss ignores it. Constants: discopop tau = %g, bdpo" % TAU,
        "// lambda = %g, bco_pair delta = %g, dpop lambda = %g; ipo is not length-normalised" % (LAM, DELTA, DPOP_LAMBDA),
        "// (length 1). chipo: cases with a log-ratio above %g are left out (exp(beta e^u) needs" % CHIPO_MAX_U,
        "// too many digits); its own cases reach u = 1000 and u = -800.",
        "// Entries tagged ILL-CONDITIONED sit within rounding distance of a stationary point",
        "// (beta*h - dr, h - 1/(2*beta), u_w - 1/(2*beta) or x - log 9 is ~1e-16 relative):",
        "// double arithmetic cannot resolve the residual, so compare those with an absolute",
        "// tolerance. Trailing comments flag subnormal outputs, outputs that underflow to 0",
        "// (emitted as the correctly rounded signed zero), and outputs that are 0 at the final",
        "// precision although the case's exponents were too large to tell a true 0 from a",
        "// nonzero below 10^-precision (sign of zero not meaningful there).",
        "//",
        "// Cases per loss (emitted / dropped for overflow / outputs flushed to 0):",
    ]
    for name, emitted, skipped, flushed, wrong50, ndiff in summary:
        head.append("//   %-11s %3d / %d / %d" % (name, emitted, skipped, flushed))
    head.append("// Dropped cases (an output overflows the double range):")
    if skipped_notes:
        for s in skipped_notes:
            head.append("//   " + s)
    else:
        head.append("//   none")
    head += [
        "",
        "struct LossReference: Sendable {",
        "    let loss: String          // catalogue name, e.g. \"sigmoid\"",
        "    let logpChosen: Double",
        "    let logpRejected: Double",
        "    let refChosen: Double",
        "    let refRejected: Double",
        "    let beta: Double",
        "    let labelSmoothing: Double",
        "    let rewardGap: Double",
        "    let value: Double         // correctly rounded to double from the high-precision value",
        "    let dLogpChosen: Double",
        "    let dLogpRejected: Double",
        "}",
        "",
        "struct ScalarReference: Sendable {",
        "    let function: String      // softplus, logSigmoid, sigmoid, log1mexp, logAddExp, sigmoidDifference",
        "    let x: Double",
        "    let y: Double             // second argument of logAddExp and sigmoidDifference; 0 otherwise",
        "    let value: Double",
        "}",
        "",
        "struct LogZReference: Sendable {",
        "    let logRef: [Double]",
        "    let rewards: [Double]",
        "    let beta: Double",
        "    let logZ: Double",
        "    let logPiStar: [Double]",
        "    let optimalValue: Double  // J(pi*) = beta*logZ",
        "}",
        "",
    ]
    body = head + emit_table("lossReferences", "LossReference", loss_groups)
    body += emit_table("scalarReferences", "ScalarReference", scalar_groups)
    body += emit_table("logZReferences", "LogZReference", [("T1", logz_lines)])
    text = "\n".join(body)
    with open(OUT, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)

    print("wrote %s (%d bytes) in %.1f s" % (os.path.relpath(OUT, ROOT), len(text.encode()),
                                           time.time() - t0))
    print("%-11s %7s %7s %7s %17s %10s" % ("loss", "emitted", "dropped", "flushed",
                                             "wrong at 50 dig.", "diff checks"))
    for name, emitted, skipped, flushed, wrong50, ndiff in summary:
        print("%-11s %7d %7d %7d %17d %10d" % (name, emitted, skipped, flushed, wrong50, ndiff))
    for fname, n in scalar_counts:
        print("scalar %-18s %d" % (fname, n))
    print("logZ cases: %d" % len(logz_lines))
    for s in skipped_notes:
        print("dropped:", s)


if __name__ == "__main__":
    main()
