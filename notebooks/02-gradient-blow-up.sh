#!/usr/bin/env bash
# # 02 · DPO's gradient blow-up as pi_l -> 0 (T6–T8)
#
# Hold the chosen response fixed and push the rejected response's probability pi_l toward
# 0, far below the double range (1e-400). DPO's dl/dpi_l grows like pi_l^(beta-1) and
# always points down (collapse). The principled loss spo has zero gradient at h* = dr/beta
# and, past it, pushes pi_l back up (restoring): its collapse force is 0. Its magnitude,
# however, still grows; the notebook shows both.
#
# Run: bash notebooks/02-gradient-blow-up.sh   (QUICK=1 for a fast run)
source "$(dirname "$0")/lib.sh"

for beta in $(quick "0.05 0.1 0.5" "0.1"); do
    say "beta = $beta: the full catalogue, pi_l from 1e-1 to 1e-400."
    "$REPORT" gradients --beta "$beta" --reward-gap 1 --points "$(quick 200 40)" --out "$OUT/beta-$beta" --quiet
    cat "$OUT/beta-$beta/gradients.md"
done

say "The headline comparison, DPO against the three forms of the principled loss, as a plot."
"$REPORT" gradients --losses sigmoid,spo,spo_bt,spo_asym --points "$(quick 200 40)" --format plot | tee "$OUT/headline-plot.txt"

say "Files: $OUT/beta-*/{gradients.csv,gradients.md,gradients-plot.txt}, $OUT/headline-plot.txt"
