#!/usr/bin/env bash
# # 05 · Gradient flow (T11)
#
# On the smallest problem (two responses, continuous-time gradient descent) the ODE for h
# is integrated with GSL's implicit BDF stepper (msbdf). DPO's h grows like (1/beta) log t for ever; a target loss
# converges exponentially to h* = dr/beta; IPO converges to 1/(2 beta) whatever dr is.
#
# Run: bash notebooks/05-gradient-flow.sh   (QUICK=1 for a fast run)
source "$(dirname "$0")/lib.sh"

for beta in $(quick "0.1 0.5 1" "0.5"); do
    say "beta = $beta, dr = 1."
    "$REPORT" flow --beta "$beta" --reward-gap 1 --t-end "$(quick 1e8 1e4)" --points "$(quick 80 20)" --out "$OUT/beta-$beta" --quiet
    cat "$OUT/beta-$beta/flow.md" "$OUT/beta-$beta/flow-plot.txt"
done

say "Files: $OUT/beta-*/{flow.csv,flow.md,flow-plot.txt}"
