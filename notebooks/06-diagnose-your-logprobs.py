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
# # 06 · Diagnosing your own log-probs
#
# `report losses` evaluates every loss and its exact gradients on your preference pairs, given as
# sequence log-probs with TRL's column names (`chosen_logps`, `rejected_logps`,
# `ref_chosen_logps`, `ref_rejected_logps`, optional `score_chosen`/`score_rejected` and
# `chosen_length`/`rejected_length`). `Tools/trl_logps.py` writes such a file from a TRL
# policy and reference model. Here the notebook writes its own realistic file: responses of
# 100–500 tokens, log-probs between about -30 and -800, UltraFeedback-like scores (1–10).
#
# Run: `python notebooks/06-diagnose-your-logprobs.py` (`QUICK=1` for a fast run).

# %%
import numpy as np
import pandas as pd
import matplotlib.pyplot as plt
from nblib import Notebook, quick, say

nb = Notebook("06-diagnose-your-logprobs")
beta = 0.1
n = quick(5000, 400)
rng = np.random.default_rng(14)
chosen_length = rng.integers(100, 501, n)
rejected_length = rng.integers(100, 501, n)
# Per-token log-probs of about -0.3 to -1.6: sums between about -30 and -800.
ref_chosen = -chosen_length * rng.uniform(0.3, 1.6, n)
ref_rejected = -rejected_length * rng.uniform(0.3, 1.6, n)
# A policy after some DPO training: the rejected response drops more than the chosen one.
chosen = ref_chosen + rng.normal(-2.0, 4.0, n)
rejected = ref_rejected + rng.normal(-12.0, 8.0, n)
score_chosen = np.round(rng.uniform(6.0, 10.0, n) * 2) / 2
score_rejected = np.clip(score_chosen - np.round(rng.exponential(1.5, n) * 2) / 2 - 0.5, 1.0, None)
pairs = pd.DataFrame({
    "prompt_id": [f"p{i:05d}" for i in range(n)],
    "chosen_logps": chosen.clip(-800, -30), "rejected_logps": rejected.clip(-800, -30),
    "ref_chosen_logps": ref_chosen.clip(-800, -30), "ref_rejected_logps": ref_rejected.clip(-800, -30),
    "score_chosen": score_chosen, "score_rejected": score_rejected,
    "chosen_length": chosen_length, "rejected_length": rejected_length,
})
pairs.to_json(nb.path("pairs.jsonl"), orient="records", lines=True)
pairs.describe().T[["min", "50%", "max"]]

# %% [markdown]
# ## One row per loss, streamed: `report losses --summary`
#
# `--summary` reads the file once, in constant memory, and writes one row per loss: the mean
# loss, quantiles of |dl/d log pi_l| and |dl/d log pi_w| (within 0.78% of the exact ones), TRL's
# logged metrics with TRL's definitions (`rewards/chosen` = mean of beta (log pi(y_w) -
# log pi_ref(y_w)), `rewards/rejected`, `rewards/margins`, `rewards/accuracies`), for losses
# with a target the share of pairs past h* = dr/beta and the mean |beta h - dr|, and the share
# of pairs in the collapse regime (a descent step lowers pi_l, and log pi_l is already below
# its reference). `--out` adds a histogram of beta h with the targets dr (CSV and SVG).

# %%
losses = "sigmoid,ipo,spo,spo_bt"
nb.report("losses", "--input", nb.path("pairs.jsonl"), "--beta", beta, "--losses", losses, "--summary",
          "--out", nb.path("summary"), "--quiet")
summary = pd.read_csv(nb.path("summary", "summary.csv")).set_index("loss")
histogram = pd.read_csv(nb.path("summary", "beta_h_histogram.csv"))
summary[["pairs", "mean_loss", "abs_d_logp_rejected_p50", "abs_d_logp_rejected_p95", "rewards/accuracies",
         "rewards/margins", "share_past_target", "share_collapse"]]

# %% [markdown]
# ## The same numbers from the pair rows, with pandas
#
# The pair rows keep the input's names (`chosen_logps`, ...) and copy its other columns
# (`prompt_id`, the scores and lengths) through, so they can be joined back to the dataset.

# %%
nb.report("losses", "--input", nb.path("pairs.jsonl"), "--beta", beta, "--losses", losses,
          "--out", nb.path("losses"), "--quiet")
per_pair = pd.read_csv(nb.path("losses", "losses.csv"))
per_pair["abs_d_logp_rejected"] = per_pair.d_logp_rejected.abs()
# TRL averages ipo's log-probs over tokens, rewards included.
ipo = per_pair.loss == "ipo"
n_w = np.where(ipo, per_pair.chosen_length, 1.0)
n_l = np.where(ipo, per_pair.rejected_length, 1.0)
per_pair["reward_chosen"] = beta * (per_pair.chosen_logps - per_pair.ref_chosen_logps) / n_w
per_pair["reward_rejected"] = beta * (per_pair.rejected_logps - per_pair.ref_rejected_logps) / n_l
per_pair["collapse"] = (per_pair.d_logp_rejected > 0) & (per_pair.rejected_logps < per_pair.ref_rejected_logps)
recomputed = per_pair.groupby("loss").agg(
    pairs=("row", "count"), mean_loss=("value", "mean"),
    # The quantile --summary reports: the k-th smallest value, k = ceil(q n) (inverse CDF).
    abs_d_logp_rejected_p50=("abs_d_logp_rejected", lambda s: np.sort(s.to_numpy())[max(1, int(np.ceil(0.5 * len(s)))) - 1]),
    share_collapse=("collapse", "mean"))
recomputed["rewards/accuracies"] = per_pair.groupby("loss").apply(
    lambda g: float((g.reward_chosen > g.reward_rejected).mean()), include_groups=False)
comparison = recomputed.merge(summary[recomputed.columns], left_index=True, right_index=True, suffixes=("", " (report)"))
comparison.to_csv(nb.path("summary.csv"))
comparison

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
centres = (histogram.lower + histogram.upper) / 2
width = float((histogram.upper - histogram.lower).iloc[0])
axes[0].bar(centres, histogram.beta_h, width=width, color="tab:grey", label="beta h")
axes[0].step(centres, histogram.reward_gap, where="mid", color="tab:blue", label="dr (score gap: the target)")
axes[0].set_xlabel("beta h  against  dr")
axes[0].set_title(f"beta h and the targets dr, {int(summary.pairs.iloc[0])} pairs, beta={beta}")
axes[0].legend(fontsize=8)
for loss, g in per_pair.groupby("loss"):
    axes[1].hist(np.log10(g.abs_d_logp_rejected.clip(lower=1e-300)), bins=40, histtype="step", label=loss)
axes[1].set_xlabel("log10 |dl/d log pi_l|")
axes[1].set_title(f"Gradient on the rejected log-prob per loss, beta={beta}")
axes[1].legend(fontsize=8)
nb.save(fig, "diagnostics")

# %% [markdown]
# ## Conclusions, computed from the summary

# %%
s = summary
agree = all(np.isclose(comparison[c], comparison[f"{c} (report)"], rtol=1e-2).all() for c in recomputed.columns)
say(("The streamed summary agrees with the pandas recomputation from the pair rows "
     "(mean loss, median gradient within the histogram's 0.78%, collapse share, accuracies)."
     if agree else "The streamed summary and the pandas recomputation DISAGREE: see the comparison table."))
say(f"{int(s.pairs.iloc[0])} pairs; rewards/accuracies {s['rewards/accuracies'].iloc[0]:.1%}, "
    f"rewards/margins {s['rewards/margins'].iloc[0]:.3f}.")
for loss, r in s.iterrows():
    say(f"{loss}: mean loss {r.mean_loss:.4g}; median |dl/dlog pi_l| {r.abs_d_logp_rejected_p50:.3g}, "
        f"95% {r.abs_d_logp_rejected_p95:.3g}; {r.share_collapse:.1%} of pairs in the collapse regime.")
dpo_collapse = s.loc["sigmoid", "share_collapse"] if "sigmoid" in s.index else float("nan")
spo_collapse = s.loc["spo", "share_collapse"] if "spo" in s.index else float("nan")
past = s.loc["spo", "share_past_target"] if "spo" in s.index else float("nan")
say(f"{past:.1%} of pairs are already past h* = dr/beta. spo's collapse share is {spo_collapse:.1%} "
    f"against DPO's {dpo_collapse:.1%}" + (" (lower)." if spo_collapse < dpo_collapse else " (not lower)."))
