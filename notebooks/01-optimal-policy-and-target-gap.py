# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · The optimal policy and the target gap (docs/theory.md, T1–T5, T10)
#
# RLHF maximises J(pi) = E_pi[r] - beta KL(pi || pi_ref). Its maximiser is
# pi* = pi_ref exp(r/beta) / Z (T1), the gap to it is exactly beta KL(pi || pi*) (T2), and under
# pi* every preference pair has the same logits difference h* = dr/beta (T4). IPO aims at the
# constant 1/(2 beta) instead (T10). This notebook checks the results numerically with
# `report theory`, then asks where each loss's population minimiser lands (`report optimum`).
#
# Run: `python notebooks/01-optimal-policy-and-target-gap.py` (`QUICK=1` for a fast run).

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from nblib import Notebook, quick, say

nb = Notebook("01-optimal-policy-and-target-gap")

# %% [markdown]
# ## Step 1. T1–T11 on seeded random prompts (log pi_ref down to about -800)

# %%
nb.report("theory", "--instances", quick(500, 40), "--out", nb.path("theory"), "--quiet")
theory = pd.read_csv(nb.path("theory", "theory.csv"))
print(theory[["result", "verdict", "value", "tolerance"]].to_string(index=False))
counts = theory.verdict.value_counts()
contradicted = theory[theory.verdict == "contradicted"]
say(f"Verdicts over {len(theory)} results: " + ", ".join(f"{v} {n}" for v, n in counts.items()) + ". "
    + ("No result is contradicted." if contradicted.empty
       else f"Contradicted: {', '.join(contradicted.result)}."))

# %% [markdown]
# ## Step 2. Each loss's population minimiser: Bradley–Terry labels against hard labels
#
# The regret is beta KL(pi || pi*), a KL divergence: values below 0 are rounding noise and are
# clamped to 0 here before the log axis.

# %%
frames = []
for labels in ("bt", "hard"):
    nb.report("optimum", "--labels", labels, "--out", nb.path(f"optimum-{labels}"), "--quiet")
    df = pd.read_csv(nb.path(f"optimum-{labels}", "optimum.csv"))
    df["labels"] = labels
    frames.append(df)
optimum = pd.concat(frames, ignore_index=True)
optimum["regret_clamped"] = optimum.regret.clip(lower=0.0)
optimum.to_csv(nb.path("optimum-both.csv"), index=False)
print(optimum[["labels", "loss", "status", "regret", "max_abs_h_minus_target", "max_abs_h"]].to_string(index=False))

# %%
floor = 1e-16
wide = optimum.pivot(index="loss", columns="labels", values="regret_clamped").clip(lower=floor)
fig, ax = plt.subplots(figsize=(8, 4))
x = np.arange(len(wide.index))
for i, labels in enumerate(wide.columns):
    ax.bar(x + (i - 0.5) * 0.4, wide[labels], width=0.4, label=f"{labels} labels")
ax.set_yscale("log")
ax.set_xticks(x, wide.index, rotation=45, ha="right")
ax.set_ylabel(f"regret beta KL(pi || pi*) (clamped at {floor:g})")
ax.set_title("Population minimiser's regret per loss (report optimum, default beta)")
ax.legend()
nb.save(fig, "optimum-regret")

# %% [markdown]
# ## Conclusions, computed from the tables above

# %%
tol = 1e-8
for labels in ("bt", "hard"):
    d = optimum[optimum.labels == labels]
    at_opt = sorted(d[d.regret_clamped < tol].loss)
    away = d[d.regret_clamped >= tol].sort_values("regret", ascending=False)
    say(f"With {labels} labels, {len(at_opt)} of {len(d)} losses reach pi* (regret < {tol:g}): "
        f"{', '.join(at_opt) or 'none'}. "
        + (f"The farthest is {away.loss.iloc[0]} (regret {away.regret.iloc[0]:.3g}, status {away.status.iloc[0]})."
           if not away.empty else ""))
for loss in ("sigmoid", "spo"):
    row = optimum[(optimum.labels == "hard") & (optimum.loss == loss)]
    if not row.empty:
        r = row.iloc[0]
        say(f"Hard labels, {loss}: status '{r.status}', largest |h| {r.max_abs_h:.3g}, "
            f"largest |h - target| {r.max_abs_h_minus_target:.3g}.")
