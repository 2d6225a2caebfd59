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

# %%
losses = "sigmoid,ipo,spo,spo_bt"
nb.report("losses", "--input", nb.path("pairs.jsonl"), "--beta", beta, "--losses", losses,
          "--out", nb.path("losses"), "--quiet")
per_pair = pd.read_csv(nb.path("losses", "losses.csv"))
per_pair.head()

# %% [markdown]
# ## One row per loss: mean loss, gradient quantiles, TRL's logged metrics
#
# TRL's metrics, with TRL's definitions: `rewards/chosen` = mean of beta (log pi(y_w) - log pi_ref(y_w)),
# `rewards/rejected` likewise, `rewards/margins` = mean of their difference, `rewards/accuracies`
# = share of pairs with a positive margin. The target h* = dr/beta comes from the score gap.

# %%
per_pair["abs_d_logp_rejected"] = per_pair.d_logp_rejected.abs()
per_pair["abs_d_logp_chosen"] = per_pair.d_logp_chosen.abs()
per_pair["reward_chosen"] = beta * (per_pair.logp_chosen - per_pair.ref_logp_chosen)
per_pair["reward_rejected"] = beta * (per_pair.logp_rejected - per_pair.ref_logp_rejected)
per_pair["past_target"] = per_pair.h > per_pair.reward_gap / beta
# Collapse regime: a descent step lowers pi_l (dl/dlog pi_l > 0) and log pi_l is already below its reference.
per_pair["collapse"] = (per_pair.d_logp_rejected > 0) & (per_pair.logp_rejected < per_pair.ref_logp_rejected)
q = lambda p: (lambda s: s.quantile(p))
summary = per_pair.groupby("loss").agg(
    pairs=("row", "count"), mean_loss=("value", "mean"),
    d_rejected_p50=("abs_d_logp_rejected", q(0.5)), d_rejected_p95=("abs_d_logp_rejected", q(0.95)),
    d_rejected_max=("abs_d_logp_rejected", "max"),
    rewards_chosen=("reward_chosen", "mean"), rewards_rejected=("reward_rejected", "mean"),
    share_past_target=("past_target", "mean"), share_collapse=("collapse", "mean"))
summary["rewards_margins"] = summary.rewards_chosen - summary.rewards_rejected
summary["rewards_accuracies"] = per_pair.groupby("loss").apply(
    lambda g: float((g.reward_chosen > g.reward_rejected).mean()), include_groups=False)
summary.to_csv(nb.path("summary.csv"))
summary

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
one = per_pair[per_pair.loss == "sigmoid"]
axes[0].hist(beta * one.h, bins=40, color="tab:grey", label="beta h")
axes[0].hist(one.reward_gap, bins=40, histtype="step", color="tab:blue", label="dr (score gap)")
axes[0].set_xlabel("beta h  against  dr")
axes[0].set_title(f"beta h and the score gap dr, {len(one)} pairs, beta={beta}")
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
say(f"{int(s.pairs.iloc[0])} pairs; rewards/accuracies {s.rewards_accuracies.iloc[0]:.1%}, "
    f"rewards/margins {s.rewards_margins.iloc[0]:.3f} (TRL's metrics do not depend on the loss).")
for loss, r in s.iterrows():
    say(f"{loss}: mean loss {r.mean_loss:.4g}; median |dl/dlog pi_l| {r.d_rejected_p50:.3g}, 95% {r.d_rejected_p95:.3g}; "
        f"{r.share_collapse:.1%} of pairs in the collapse regime (descent lowers pi_l, already below its reference).")
dpo_collapse = s.loc["sigmoid", "share_collapse"] if "sigmoid" in s.index else float("nan")
spo_collapse = s.loc["spo", "share_collapse"] if "spo" in s.index else float("nan")
spo_past = per_pair[(per_pair.loss == "spo") & per_pair.past_target]
restoring = float((spo_past.d_logp_rejected < 0).mean()) if len(spo_past) else float("nan")
say(f"{s.share_past_target.iloc[0]:.1%} of pairs are already past h* = dr/beta; on {restoring:.0%} of them spo's "
    f"descent step raises pi_l. spo's collapse share is {spo_collapse:.1%} against DPO's {dpo_collapse:.1%}"
    + (" (lower)." if spo_collapse < dpo_collapse else " (not lower)."))

# %% [markdown]
# Does this build of `report` aggregate by itself? The notebook reads `report losses --help`.

# %%
help_text = nb.report("losses", "--help")
if "--summary" in help_text:
    say("This build of report has `report losses --summary`, which computes a table like the one above "
        "in constant memory; use it for files too large for pandas.")
else:
    say("This build of report writes per-pair rows only: aggregate them with pandas as above.")
