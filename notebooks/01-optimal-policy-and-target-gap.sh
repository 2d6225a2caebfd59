#!/usr/bin/env bash
# # 01 · The optimal policy and the target gap (T1–T4, T10)
#
# RLHF maximises J(pi) = E_pi[r] - beta KL(pi || pi_ref). Its maximiser is
# pi* = pi_ref exp(r/beta) / Z (T1), the gap to it is exactly beta KL(pi || pi*) (T2),
# the reward can be read back from pi* (T3), and under pi* every preference pair has the
# same logits difference h* = dr/beta (T4). That finite h* is the target the principled
# loss aims at; IPO aims at the constant 1/(2 beta) instead (T10).
#
# Run: bash notebooks/01-optimal-policy-and-target-gap.sh   (QUICK=1 for a fast run)
source "$(dirname "$0")/lib.sh"

say "Step 1. Check T1-T11 numerically on seeded random prompts (log pi_ref down to -800)."
"$REPORT" theory --instances "$(quick 500 40)" --out "$OUT/theory" --quiet
cat "$OUT/theory/theory.md"

say "Step 2. Where does each loss's population minimiser sit relative to pi*? Under
Bradley-Terry labels spo and DPO both land on pi* (T5); IPO lands on its own 1/(2 beta)."
"$REPORT" optimum --labels bt --out "$OUT/optimum-bt" --quiet
cat "$OUT/optimum-bt/optimum.md"

say "Step 3. The same with hard labels: DPO's minimiser runs off to infinite h."
"$REPORT" optimum --labels hard --out "$OUT/optimum-hard" --quiet
cat "$OUT/optimum-hard/optimum.md"

say "Files: $OUT/theory/{theory.md,theory.csv}, $OUT/optimum-*/{optimum.md,optimum.csv}"
