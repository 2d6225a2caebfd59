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
# # 05 · Gradient flow (docs/theory.md, T11)
#
# On the smallest problem (two responses, continuous-time gradient descent) `report flow`
# integrates the ODE for h with GSL's implicit BDF stepper. T11: DPO's h grows like
# (1/beta) log t for ever; a target loss converges to h* = dr/beta; IPO converges to 1/(2 beta)
# whatever dr is.
#
# Run: `python notebooks/05-gradient-flow.py` (`QUICK=1` for a fast run).

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from nblib import Notebook, quick, say

nb = Notebook("05-gradient-flow")
betas = quick([0.1, 0.5, 1.0], [0.5])
reward_gap = 1.0
frames = []
for beta in betas:
    nb.report("flow", "--beta", beta, "--reward-gap", reward_gap, "--t-end", quick("1e8", "1e6"),
              "--points", quick(80, 30), "--out", nb.path(f"beta-{beta}"), "--quiet")
    frames.append(pd.read_csv(nb.path(f"beta-{beta}", "flow.csv")))
flow = pd.concat(frames, ignore_index=True)
flow.to_csv(nb.path("flow-all.csv"), index=False)
flow.head()

# %%
styles = {"sigmoid": ("tab:red", "-"), "ipo": ("tab:green", "--"), "spo": ("tab:blue", "-."),
          "spo_bt": ("tab:purple", ":"), "spo_asym": ("tab:orange", (0, (5, 2, 1, 2)))}
fig, axes = plt.subplots(1, len(betas), figsize=(6 * len(betas), 4.2), squeeze=False)
for ax, beta in zip(axes[0], betas):
    for loss, g in flow[flow.beta == beta].groupby("loss"):
        colour, dash = styles.get(loss, ("black", "-"))
        ax.plot(g.log10_t, g.h, color=colour, linestyle=dash, label=loss)
    ax.axhline(reward_gap / beta, color="grey", linestyle=":", label="h* = dr/beta")
    ax.set_xlabel("log10 t")
    ax.set_ylabel("h(t)")
    ax.set_title(f"Gradient flow, beta={beta}, dr={reward_gap}")
    ax.legend(fontsize=8)
nb.save(fig, "flow")

# %% [markdown]
# ## Conclusions, computed from the trajectories
#
# DPO's late slope dh/d(ln t) is fitted on the last quarter of the time grid; T11 predicts 1/beta.

# %%
rows = []
for (beta, loss), g in flow.groupby(["beta", "loss"]):
    g = g.sort_values("t")
    late = g.iloc[-max(3, len(g) // 4):]
    slope = np.polyfit(np.log(late.t), late.h, 1)[0]
    rows.append({"beta": beta, "loss": loss, "final_h": g.h.iloc[-1], "target_h": g.target_h.iloc[-1],
                 "final_gap": abs(g.h.iloc[-1] - g.target_h.iloc[-1]), "late_slope_per_ln_t": slope})
ends = pd.DataFrame(rows)
ends.to_csv(nb.path("flow-ends.csv"), index=False)
print(ends.to_string(index=False))
for r in ends.itertuples():
    if r.loss == "sigmoid":
        ok = abs(r.late_slope_per_ln_t * r.beta - 1) < 0.05
        say(f"beta = {r.beta}, DPO: h(t_end) = {r.final_h:.3g}, late slope dh/dln t = {r.late_slope_per_ln_t:.3f}, "
            f"which {'matches' if ok else 'does not match'} 1/beta = {1 / r.beta:.3f} within 5%: h keeps growing.")
    elif r.loss == "ipo":
        own = 1 / (2 * r.beta)
        ok = abs(r.final_h - own) < 1e-3 * max(1.0, own)
        say(f"beta = {r.beta}, IPO: h(t_end) = {r.final_h:.6g}; it {'sits at' if ok else 'is not at'} its own "
            f"target 1/(2 beta) = {own:.6g}, {r.final_gap:.3g} away from h* = {r.target_h:.6g}.")
    else:
        ok = r.final_gap < 1e-3 * max(1.0, abs(r.target_h))
        say(f"beta = {r.beta}, {r.loss}: h(t_end) = {r.final_h:.6g} against its target {r.target_h:.6g}; "
            f"it {'has converged' if ok else 'has not converged'} (|gap| = {r.final_gap:.2g}).")
