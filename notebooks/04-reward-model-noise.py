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
# # 04 · Reward-model noise and misspecification: DPO against spo (docs/theory.md §6)
#
# The principled loss needs a reward gap; in practice it comes from a reward model, which is
# noisy or misspecified. `report sweep` trains every loss over beta x reward noise x seeds on
# identical data per seed, so runs with the same seed are paired: the comparison below takes
# the per-seed difference of final regrets, which removes the seed-to-seed variation.
#
# Run: `python notebooks/04-reward-model-noise.py` (`QUICK=1` for a fast run).

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from nblib import Notebook, quick, say

nb = Notebook("04-reward-model-noise")
nb.report("sweep", "--losses", "sigmoid,ipo,spo,spo_bt", "--betas", quick("0.1,0.5", "0.5"),
          "--reward-noises", quick("0,0.25,0.5,1,2", "0,1"), "--seeds", quick(10, 3),
          "--steps", quick(2000, 150), "--out", nb.path("sweep"), "--quiet")
runs = pd.read_csv(nb.path("sweep", "runs.csv"))
aggregate = pd.read_csv(nb.path("sweep", "aggregate.csv"))
runs["final_regret"] = runs.final_regret.clip(lower=0.0)  # a KL divergence: rounding noise below 0 -> 0
runs.head()

# %% [markdown]
# ## Mean regret and a 95% interval over seeds, against the reward-model noise

# %%
styles = {"sigmoid": ("tab:red", "-"), "ipo": ("tab:green", "--"), "spo": ("tab:blue", "-."),
          "spo_bt": ("tab:purple", ":")}
betas = sorted(aggregate.beta.unique())
fig, axes = plt.subplots(1, len(betas), figsize=(6 * len(betas), 4.2), squeeze=False)
for ax, beta in zip(axes[0], betas):
    for loss, g in aggregate[aggregate.beta == beta].groupby("loss"):
        g = g.sort_values("reward_noise")
        colour, dash = styles.get(loss, ("black", "-"))
        mean = g.final_regret_mean.clip(lower=0)
        ax.plot(g.reward_noise, mean, color=colour, linestyle=dash, marker="o", label=loss)
        ax.fill_between(g.reward_noise, (mean - g.final_regret_ci95).clip(lower=0), mean + g.final_regret_ci95,
                        color=colour, alpha=0.15)
    ax.set_xlabel("reward-model noise (sd of the error on dr)")
    ax.set_ylabel("final regret (mean, 95% interval)")
    ax.set_title(f"Regret against reward noise, beta={beta}, seeds={int(aggregate.seeds.max())}")
    ax.legend(fontsize=8)
nb.save(fig, "regret-vs-noise")

# %% [markdown]
# ## Paired by seed: spo's regret minus DPO's

# %%
wide = runs.pivot_table(index=["beta", "reward_noise", "seed"], columns="loss", values="final_regret").reset_index()
wide["spo_minus_dpo"] = wide["spo"] - wide["sigmoid"]
paired = (wide.groupby(["beta", "reward_noise"])
          .agg(seeds=("seed", "count"), mean_diff=("spo_minus_dpo", "mean"), sd=("spo_minus_dpo", "std"),
               spo_wins=("spo_minus_dpo", lambda d: float((d < 0).mean())))
          .reset_index())
paired["ci95"] = 1.96 * paired.sd.fillna(0) / np.sqrt(paired.seeds)
paired.to_csv(nb.path("paired-spo-minus-dpo.csv"), index=False)
print(paired.to_string(index=False))

fig, ax = plt.subplots(figsize=(6, 4))
for beta, g in paired.groupby("beta"):
    ax.errorbar(g.reward_noise, g.mean_diff, yerr=g.ci95, marker="o", capsize=3, label=f"beta={beta}")
ax.axhline(0, color="grey", linewidth=0.8)
ax.set_xlabel("reward-model noise")
ax.set_ylabel("regret(spo) - regret(DPO), paired by seed")
ax.set_title(f"Paired difference (below 0: spo better), seeds={int(paired.seeds.max())}")
ax.legend(fontsize=8)
nb.save(fig, "paired-difference")

# %% [markdown]
# ## Conclusions, computed from the runs

# %%
for r in paired.itertuples():
    lo, hi = r.mean_diff - r.ci95, r.mean_diff + r.ci95
    verdict = ("spo is better" if hi < 0 else "DPO is better" if lo > 0 else "the interval includes 0: no clear winner")
    say(f"beta = {r.beta}, noise = {r.reward_noise}: spo minus DPO regret {r.mean_diff:+.3g} "
        f"(95% interval {lo:+.3g} to {hi:+.3g}, {r.seeds} seeds); spo wins on {r.spo_wins:.0%} of seeds; {verdict}.")
for beta, g in paired.groupby("beta"):
    g = g.sort_values("reward_noise")
    first, last = g.iloc[0], g.iloc[-1]
    trend = "shrinks" if last.mean_diff > first.mean_diff else "does not shrink"
    say(f"beta = {beta}: from noise {first.reward_noise} to {last.reward_noise}, spo's advantage {trend} "
        f"({first.mean_diff:+.3g} -> {last.mean_diff:+.3g}).")
