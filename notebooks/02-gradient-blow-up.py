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
# # 02 · DPO's gradient blow-up as pi_l -> 0 (docs/theory.md, T6–T8)
#
# Hold the chosen response fixed and push the rejected response's probability pi_l toward 0,
# far below the double range (1e-400). DPO's dl/dpi_l grows like pi_l^(beta-1) and points the
# way that lowers pi_l further (collapse). The principled loss spo has zero gradient at
# h* = dr/beta and, past it, pushes pi_l back up (restoring). `report gradients` writes the
# sign and log10 of |dl/dpi_l| for every point, so both direction and size can be drawn.
#
# Run: `python notebooks/02-gradient-blow-up.py` (`QUICK=1` for a fast run).

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from nblib import Notebook, quick, say

nb = Notebook("02-gradient-blow-up")
betas = quick([0.05, 0.1, 0.5], [0.1])
losses = "sigmoid,ipo,spo,spo_bt,spo_asym"
reward_gap = 1.0

# %%
frames = []
for beta in betas:
    nb.report("gradients", "--beta", beta, "--reward-gap", reward_gap, "--losses", losses,
              "--points", quick(200, 40), "--out", nb.path(f"beta-{beta}"), "--quiet")
    frames.append(pd.read_csv(nb.path(f"beta-{beta}", "gradients.csv")))
grad = pd.concat(frames, ignore_index=True)
grad.to_csv(nb.path("gradients-all.csv"), index=False)
grad.head()

# %% [markdown]
# ## The signed collapse force
#
# `sign_d_p_rejected = +1` means dl/dpi_l > 0: a descent step lowers pi_l (collapse);
# -1 means it raises pi_l (restoring). The figure plots sign x max(log10|dl/dpi_l|, 0), so
# collapse is above the axis and restoring below it (gradients under 1 in size sit on the axis).

# %%
styles = {"sigmoid": ("tab:red", "-"), "ipo": ("tab:green", "--"), "spo": ("tab:blue", "-."),
          "spo_bt": ("tab:purple", ":"), "spo_asym": ("tab:orange", (0, (5, 2, 1, 2)))}
fig, axes = plt.subplots(1, len(betas), figsize=(6 * len(betas), 4.5), squeeze=False)
for ax, beta in zip(axes[0], betas):
    d = grad[grad.beta == beta]
    for loss, g in d.groupby("loss"):
        colour, dash = styles.get(loss, ("black", "-"))
        ax.plot(g.log10_p_rejected, g.sign_d_p_rejected * g.log10_abs_d_p_rejected.clip(lower=0),
                color=colour, linestyle=dash, label=loss)
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("log10 pi_l")
    ax.set_ylabel("sign x max(log10 |dl/dpi_l|, 0)  (>0: collapse)")
    ax.set_title(f"Signed collapse force, beta={beta}, dr={reward_gap}")
    ax.invert_xaxis()
    ax.legend(fontsize=8)
nb.save(fig, "signed-collapse")

# %% [markdown]
# ## DPO's slope in the tail
#
# Fit log10|dl/dpi_l| against log10 pi_l on the far half of the grid; T7 predicts beta - 1.

# %%
rows = []
for beta in betas:
    g = grad[(grad.beta == beta) & (grad.loss == "sigmoid")].sort_values("log10_p_rejected")
    tail = g[g.log10_p_rejected <= g.log10_p_rejected.median()]
    slope = np.polyfit(tail.log10_p_rejected, tail.log10_abs_d_p_rejected, 1)[0]
    collapse = (g.sign_d_p_rejected > 0).mean()
    rows.append({"beta": beta, "dpo_slope": slope, "predicted": beta - 1, "dpo_share_collapse": collapse})
slopes = pd.DataFrame(rows)
slopes.to_csv(nb.path("dpo-slopes.csv"), index=False)
print(slopes.to_string(index=False))

fig, ax = plt.subplots(figsize=(6, 4))
for beta in betas:
    g = grad[(grad.beta == beta) & (grad.loss == "sigmoid")]
    ax.plot(g.log10_p_rejected, g.log10_abs_d_p_rejected, label=f"DPO, beta={beta}")
    x0 = g.log10_p_rejected.min()
    y0 = g.loc[g.log10_p_rejected.idxmin(), "log10_abs_d_p_rejected"]
    xs = np.array([g.log10_p_rejected.max(), x0])
    ax.plot(xs, y0 + (beta - 1) * (xs - x0), color="grey", linestyle=":", linewidth=1)
ax.set_xlabel("log10 pi_l")
ax.set_ylabel("log10 |dl/dpi_l|")
ax.set_title(f"DPO's |dl/dpi_l| against the slope beta - 1 (dotted), dr={reward_gap}")
ax.invert_xaxis()
ax.legend(fontsize=8)
nb.save(fig, "dpo-slope")

# %% [markdown]
# ## Conclusions, computed from the data

# %%
for r in slopes.itertuples():
    ok = abs(r.dpo_slope - r.predicted) < 1e-3
    say(f"beta = {r.beta}: DPO's fitted tail slope is {r.dpo_slope:.4f}, which "
        f"{'matches' if ok else 'does not match'} beta - 1 = {r.predicted:.4f} (tolerance 1e-3); "
        f"DPO's gradient points toward collapse at {r.dpo_share_collapse:.0%} of the grid.")
for beta in betas:
    d = grad[(grad.beta == beta) & (grad.loss == "spo")]
    target = reward_gap / beta
    past = d[d.h > target * (1 + 1e-9)]
    restoring = (past.sign_d_p_rejected < 0).mean() if not past.empty else float("nan")
    say(f"beta = {beta}: spo's target is h* = {target:g}; at the {len(past)} grid points past it, "
        f"its gradient restores pi_l at {restoring:.0%} of them"
        + (", so it never drives pi_l toward 0 there." if restoring == 1 else "."))
