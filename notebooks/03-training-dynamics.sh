#!/usr/bin/env bash
# # 03 · Training dynamics on a simulated policy (the mechanism behind the paper's 7B run)
#
# A tabular softmax policy is trained offline on a fixed set of hard-labelled pairs, once
# per loss, on identical data. The regret beta KL(pi || pi*) is exact (T2). DPO drives h
# past the target and min log pi_l toward -infinity; spo settles at h* = dr/beta.
# Gradient clipping, what practitioners use to hide DPO's blow-up, is shown too.
#
# Run: bash notebooks/03-training-dynamics.sh   (QUICK=1 for a fast run)
source "$(dirname "$0")/lib.sh"
STEPS="$(quick 2000 300)"

say "Step 1. The default tabular problem: DPO, IPO and the principled loss."
"$REPORT" train --losses sigmoid,ipo,spo,spo_bt --steps "$STEPS" --out "$OUT/tabular" --quiet
cat "$OUT/tabular/summary.md" "$OUT/tabular/plots.txt"

say "Step 2. The log-linear policy, where pushing one response down moves mass onto responses
never seen in training (the 'unseen mass' column): reward hacking in miniature."
"$REPORT" train --policy loglinear --features 4 --losses sigmoid,spo --steps "$STEPS" --out "$OUT/loglinear" --quiet
cat "$OUT/loglinear/summary.md"

say "Step 3. DPO with gradient clipping at norm 0.01: the steps are small, h still drifts."
"$REPORT" train --losses sigmoid,spo --steps "$STEPS" --clip 0.01 --optimizer sgd --lr 1 --out "$OUT/clipped" --quiet
cat "$OUT/clipped/summary.md"

say "Files: $OUT/*/{metrics.csv,summary.csv,summary.md,plots.txt}"
