#!/usr/bin/env bash
# # 04 · Reward-model noise: DPO against spo
#
# The principled loss needs a reward gap; in practice it comes from a reward model, which
# is noisy. This sweep trains every loss over beta x noise x seeds and reports the mean and
# a 95% interval over seeds. With a perfect reward model spo reaches pi*; as the noise
# grows its advantage shrinks, because it then aims exactly at the wrong target.
#
# Run: bash notebooks/04-reward-model-noise.sh   (QUICK=1 for a fast run)
source "$(dirname "$0")/lib.sh"

say "A sweep over reward-model noise, in parallel on all cores."
"$REPORT" sweep --losses sigmoid,ipo,spo,spo_bt --betas "$(quick 0.1,0.5 0.5)" \
    --reward-noises "$(quick 0,0.25,0.5,1,2 0,1)" --seeds "$(quick 10 2)" --steps "$(quick 2000 200)" \
    --out "$OUT/sweep" --quiet
cat "$OUT/sweep/sweep.md"

say "Files: $OUT/sweep/{runs.csv,aggregate.csv,sweep.md,manifest.txt}"
