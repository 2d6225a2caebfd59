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
# # 03 · Training dynamics and likelihood displacement (docs/theory.md §5.1)
#
# A tabular softmax policy is trained offline on a fixed set of hard-labelled pairs, once per
# loss, on identical data. The regret beta KL(pi || pi*) is exact (T2). The metrics file also
# has the mean log-probability of the chosen and of the rejected responses: when both fall,
# the policy is moving mass away from the chosen responses too (likelihood displacement).
#
# Run: `python notebooks/03-training-dynamics.py` (`QUICK=1` for a fast run).

# %%
import pandas as pd
import matplotlib.pyplot as plt
from nblib import Notebook, quick, say

nb = Notebook("03-training-dynamics")
steps = quick(2000, 200)
styles = {"sigmoid": ("tab:red", "-"), "ipo": ("tab:green", "--"), "spo": ("tab:blue", "-."),
          "spo_bt": ("tab:purple", ":")}

# %%
runs = {
    "tabular": ["--losses", "sigmoid,ipo,spo,spo_bt"],
    "loglinear": ["--policy", "loglinear", "--features", 4, "--losses", "sigmoid,spo"],
    "clipped": ["--losses", "sigmoid,spo", "--clip", 0.01, "--optimizer", "sgd", "--lr", 1],
}
metrics, summaries = {}, {}
for name, args in runs.items():
    nb.report("train", *args, "--steps", steps, "--out", nb.path(name), "--quiet")
    metrics[name] = pd.read_csv(nb.path(name, "metrics.csv"))
    summaries[name] = pd.read_csv(nb.path(name, "summary.csv"))
summaries["tabular"]

# %%
def draw(name):
    m = metrics[name]
    columns = [("regret", "regret beta KL(pi || pi*)", True), ("min_logp_rejected", "min log pi_l", False),
               ("mean_logp_chosen", "mean log pi(chosen)", False), ("mean_logp_rejected", "mean log pi(rejected)", False)]
    columns = [c for c in columns if c[0] in m.columns]
    fig, axes = plt.subplots(1, len(columns), figsize=(4.5 * len(columns), 4))
    for ax, (col, label, log) in zip(axes, columns):
        for loss, g in m.groupby("loss"):
            colour, dash = styles.get(loss, ("black", "-"))
            y = g[col].clip(lower=1e-16) if log else g[col]  # regret is a KL: rounding noise < 0 -> floor
            ax.plot(g.step, y, color=colour, linestyle=dash, label=loss)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_title(label, fontsize=10)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"report train, {name} run, {steps} steps " + " ".join(str(a) for a in runs[name]), fontsize=10)
    nb.save(fig, f"{name}-dynamics")

for name in runs:
    draw(name)

# %% [markdown]
# ## Conclusions, computed from the metrics

# %%
for name in runs:
    m, s = metrics[name], summaries[name]
    best = s.loc[s.final_regret.idxmin()]
    say(f"{name}: the lowest final regret is {best.loss}'s ({max(best.final_regret, 0):.3g}); "
        + "; ".join(f"{r.loss} {max(r.final_regret, 0):.3g} (min log pi_l {r.min_logp_rejected:.3g})"
                    for r in s.itertuples()) + ".")
    if {"mean_logp_chosen", "mean_logp_rejected"} <= set(m.columns):
        for loss, g in m.groupby("loss"):
            g = g.sort_values("step")
            dc = g.mean_logp_chosen.iloc[-1] - g.mean_logp_chosen.iloc[0]
            dr = g.mean_logp_rejected.iloc[-1] - g.mean_logp_rejected.iloc[0]
            verdict = ("both fall: likelihood displacement" if dc < 0 and dr < 0
                       else "the chosen log-prob does not fall")
            say(f"{name}, {loss}: mean log pi(chosen) moves by {dc:+.3f}, mean log pi(rejected) by {dr:+.3f}; {verdict}.")
