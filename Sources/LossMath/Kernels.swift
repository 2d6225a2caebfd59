import RealModule

/// The catalogue's losses as small pure functions.
///
/// Losses of the logits difference alone take `x = beta*h` and return the value and
/// `dl/dx` (multiply by `beta` for `dl/dh`). Losses that act on the two log-ratios
/// separately take `(uW, uL, beta)` and return `dl/du_w` and `dl/du_l`.
/// Every formula is in `docs/loss-catalogue.md`; the names are TRL's `loss_type`.
public enum Kernels {

    // MARK: - Losses of h alone

    /// DPO (TRL `sigmoid`, Rafailov et al. 2023): `l = -log sigma(x) = softplus(-x)`,
    /// `dl/dx = -sigma(-x)`.
    ///
    /// Strictly decreasing with infimum 0 as x -> +inf (T5): no finite minimiser.
    @inlinable @inline(__always)
    public static func sigmoid(x: Double) -> (value: Double, dx: Double) {
        (softplus(-x), -LossMath.sigmoid(-x))
    }

    /// Conservative DPO (TRL `cdpo`; TRL's `sigmoid` with `label_smoothing`):
    /// `l = (1-eps) softplus(-x) + eps softplus(x)`, `dl/dx = eps - sigma(-x)`.
    ///
    /// Valid for `0 <= eps <= 0.5`; minimised at `x = log((1-eps)/eps)` when `eps > 0`.
    @inlinable @inline(__always)
    public static func cdpo(x: Double, eps: Double) -> (value: Double, dx: Double) {
        let value = (1 - eps) * softplus(-x) + eps * softplus(x)
        // eps - sigma(-x) == sigma(x) - (1 - eps); use the form whose sigmoid is the
        // small one, so it is computed without a `1 - p`.
        let dx = x >= 0 ? eps - LossMath.sigmoid(-x) : LossMath.sigmoid(x) - (1 - eps)
        return (value, dx)
    }

    /// SLiC's hinge loss (TRL `hinge`): `l = max(0, 1 - x)`; `dl/dx = -1` for `x < 1`,
    /// else 0 (0 at the kink, as torch's `relu`).
    @inlinable @inline(__always)
    public static func hinge(x: Double) -> (value: Double, dx: Double) {
        x < 1 ? (1 - x, -1) : (0, 0)
    }

    /// IPO (TRL `ipo`, Azar et al. 2023): `l = (h - 1/(2 beta))^2`, `dl/dh = 2 (h - 1/(2 beta))`.
    /// Takes `h` itself, not `x` (T10: its target is `1/(2 beta)` whatever the reward).
    @inlinable @inline(__always)
    public static func ipo(h: Double, beta: Double) -> (value: Double, dh: Double) {
        let r = h - 1 / (2 * beta)
        return (r * r, 2 * r)
    }

    /// EXO (TRL `exo_pair`, Ji et al. 2024): the KL divergence from `(q_w, q_l) =
    /// (sigma(x), sigma(-x))` to `(1-eps, eps)`:
    /// `l = q_w (log q_w - log(1-eps)) + q_l (log q_l - log eps)`,
    /// `dl/dx = sigma(x) sigma(-x) (x - log((1-eps)/eps))`. Needs `0 < eps < 1`.
    @inlinable @inline(__always)
    public static func exoPair(x: Double, eps: Double) -> (value: Double, dx: Double) {
        // The target logit of (1-eps, eps); the value is KL(Bern(sigma(x)) || Bern(1-eps)).
        let target = Elementary.log(onePlus: -eps) - Elementary.log(eps)
        return (bernoulliKL(logitP: x, logitQ: target), sigmoidDensity(x) * (x - target))
    }

    /// Robust DPO (TRL `robust`, Chowdhury et al. 2024):
    /// `l = [(1-eps) softplus(-x) - eps softplus(x)] / (1 - 2 eps)`,
    /// `dl/dx = -[(1-eps) sigma(-x) + eps sigma(x)] / (1 - 2 eps)`, always < 0. Needs `0 <= eps < 0.5`.
    @inlinable @inline(__always)
    public static func robust(x: Double, eps: Double) -> (value: Double, dx: Double) {
        let scale = 1 / (1 - 2 * eps)
        let value = ((1 - eps) * softplus(-x) - eps * softplus(x)) * scale
        let dx = -((1 - eps) * LossMath.sigmoid(-x) + eps * LossMath.sigmoid(x)) * scale
        return (value, dx)
    }

    /// DiscoPOP (TRL `discopop`, Chris Lu et al. 2024): with `m = sigma(x/tau)`,
    /// `l = (1-m) softplus(-x) + m exp(-x)`.
    ///
    /// `dl/dx = m'(e^-x - softplus(-x)) - (1-m) sigma(-x) - m e^-x` with
    /// `m' = m(1-m)/tau`. Products such as `m e^-x` are formed as `exp(log m - x)`, since
    /// `e^-x` alone overflows for x < -709 while the product is tiny.
    @inlinable @inline(__always)
    public static func discopop(x: Double, tau: Double) -> (value: Double, dx: Double) {
        let logM = -softplus(-x / tau)       // log m
        let log1mM = -softplus(x / tau)      // log(1 - m)
        // m and 1 - m themselves come from the same exponential as their logs (no products
        // with e^-x, so no log space needed): sigma(±x/tau).
        let m = LossMath.sigmoid(x / tau), oneMinusM = LossMath.sigmoid(-x / tau)
        let sp = softplus(-x)
        let value = oneMinusM * sp + Elementary.exp(logM - x)
        let mm = m * oneMinusM / tau                                 // m' = m(1-m)/tau
        let t1 = Elementary.exp(logM + log1mM - x) / tau             // m' e^-x
        let t2 = mm * sp                                             // m' softplus(-x)
        let t3 = oneMinusM * LossMath.sigmoid(-x)                    // (1-m) sigma(-x)
        let t4 = Elementary.exp(logM - x)                            // m e^-x
        return (value, t1 - t2 - t3 - t4)
    }

    /// Reward-aware squared loss (NeMo-Aligner `rpo_sq`) and the principled loss's
    /// default form (`spo`): `l = (x - dr)^2`, `dl/dx = 2 (x - dr)`. Minimised at the
    /// target `h* = dr/beta` (T4, T8).
    @inlinable @inline(__always)
    public static func squaredTarget(x: Double, rewardGap dr: Double) -> (value: Double, dx: Double) {
        let r = x - dr
        return (r * r, 2 * r)
    }

    /// Cross-entropy to the soft Bradley–Terry label `sigma(dr)` (`spo_bt`):
    /// `l = sigma(dr) softplus(-x) + sigma(-dr) softplus(x)`, `dl/dx = sigma(x) - sigma(dr)`,
    /// bounded by 1 in magnitude and zero exactly at `x = dr`.
    @inlinable @inline(__always)
    public static func softLabelCrossEntropy(x: Double, rewardGap dr: Double) -> (value: Double, dx: Double) {
        let value = LossMath.sigmoid(dr) * softplus(-x) + LossMath.sigmoid(-dr) * softplus(x)
        return (value, sigmoidDifference(x, dr))
    }

    /// NeMo-Aligner's `rpo_bwd_kl`: `KL(q || p)` with `q = (sigma(dr), sigma(-dr))`,
    /// `p = (sigma(x), sigma(-x))`. Equal to ``softLabelCrossEntropy(x:rewardGap:)`` minus the
    /// entropy of `q`, so it has the same derivative `sigma(x) - sigma(dr)`.
    @inlinable @inline(__always)
    public static func rpoBackwardKL(x: Double, rewardGap dr: Double) -> (value: Double, dx: Double) {
        (bernoulliKL(logitP: dr, logitQ: x), sigmoidDifference(x, dr))
    }

    /// NeMo-Aligner's `rpo_fwd_kl`: `KL(p || q)`, `dl/dx = sigma(x) sigma(-x) (x - dr)`.
    @inlinable @inline(__always)
    public static func rpoForwardKL(x: Double, rewardGap dr: Double) -> (value: Double, dx: Double) {
        (bernoulliKL(logitP: x, logitQ: dr), sigmoidDensity(x) * (x - dr))
    }

    /// The principled loss's asymmetric form (`spo_asym`): with `z = x/dr`,
    /// `l = -z e^-z`, minimum `-1/e` at `z = 1` (`h = dr/beta`); `dl/dx = (z - 1) e^-z / dr`.
    ///
    /// Under-separation (z -> -inf) is penalised like `|z| e^|z|`: past z ~ -703 the value
    /// exceeds the double range and is returned as +infinity (the correctly rounded
    /// result); callers that print it check `isFinite`. Needs `dr != 0`.
    @inlinable @inline(__always)
    public static func asymmetricTarget(x: Double, rewardGap dr: Double) -> (value: Double, dx: Double) {
        let z = x / dr
        // z > 700: e^-z is near or below the subnormal range, where z e^-z would round
        // twice. There w = e^(-z/2) is still normal, and (z w) w rounds once at the end
        // (z w is normal). Both forms are computed and one selected (no branch, so batch
        // loops vectorise).
        let c = (z - 1) / dr
        let w = Elementary.exp(-0.5 * z)
        let e = Elementary.exp(-z)
        let far = z > 700
        return (far ? -(z * w) * w : -z * e, far ? (c * w) * w : (z - 1) * e / dr)
    }

    // MARK: - Losses of the two log-ratios

    /// NCA (TRL `nca_pair`, Chen et al. 2024), with `a = beta u_w`, `b = beta u_l`:
    /// `l = softplus(-a) + softplus(a)/2 + softplus(b)/2`;
    /// `dl/du_w = beta (sigma(a)/2 - sigma(-a))`, `dl/du_l = beta sigma(b)/2`.
    @inlinable @inline(__always)
    public static func ncaPair(uW: Double, uL: Double, beta: Double) -> (value: Double, dW: Double, dL: Double) {
        let a = beta * uW, b = beta * uL
        let value = softplus(-a) + 0.5 * softplus(a) + 0.5 * softplus(b)
        return (value, beta * (0.5 * LossMath.sigmoid(a) - LossMath.sigmoid(-a)), beta * 0.5 * LossMath.sigmoid(b))
    }

    /// BCO on pairs (TRL `bco_pair`, Jung et al. 2024):
    /// `l = softplus(-(beta u_w - delta)) + softplus(beta u_l - delta)`.
    @inlinable @inline(__always)
    public static func bcoPair(uW: Double, uL: Double, beta: Double, delta: Double) -> (value: Double, dW: Double, dL: Double) {
        let a = beta * uW - delta, b = beta * uL - delta
        return (softplus(-a) + softplus(b), -beta * LossMath.sigmoid(-a), beta * LossMath.sigmoid(b))
    }

    /// SPPO with hard labels (TRL `sppo_hard`, Wu et al. 2024), `c = 1/(2 beta)`:
    /// `l = (u_w - c)^2 + (u_l + c)^2`.
    @inlinable @inline(__always)
    public static func sppoHard(uW: Double, uL: Double, beta: Double) -> (value: Double, dW: Double, dL: Double) {
        let c = 1 / (2 * beta)
        let rw = uW - c, rl = uL + c
        return (rw * rw + rl * rl, 2 * rw, 2 * rl)
    }

    /// APO-zero (TRL `apo_zero`, D'Oosterlinck et al. 2024):
    /// `l = 1 - sigma(beta u_w) + sigma(beta u_l) = sigma(-beta u_w) + sigma(beta u_l)`.
    @inlinable @inline(__always)
    public static func apoZero(uW: Double, uL: Double, beta: Double) -> (value: Double, dW: Double, dL: Double) {
        let a = beta * uW, b = beta * uL
        return (LossMath.sigmoid(-a) + LossMath.sigmoid(b), -beta * sigmoidDensity(a), beta * sigmoidDensity(b))
    }

    /// APO-down (TRL `apo_down`): `l = sigma(beta u_w) + 1 - sigma(beta h) = sigma(beta u_w) + sigma(-beta h)`.
    @inlinable @inline(__always)
    public static func apoDown(uW: Double, uL: Double, beta: Double) -> (value: Double, dW: Double, dL: Double) {
        let a = beta * uW, x = beta * (uW - uL)
        let dx = beta * sigmoidDensity(x)
        // dl/du_w = beta (sigma'(a) - sigma'(x)) cancels when u_l ~ 0 (a ~ x). With
        // sigma'(t) = 1/(4 cosh^2(t/2)) and cosh^2 P - cosh^2 Q = sinh(P+Q) sinh(P-Q):
        // sigma'(a) - sigma'(x) = sinh((x+a)/2) sinh((x-a)/2) / (4 cosh^2(a/2) cosh^2(x/2)),
        // where (x - a)/2 = -beta u_l / 2 is formed without subtraction.
        let p = 0.5 * (a + x), q = -0.5 * beta * uL
        let ha = 0.5 * a, hx = 0.5 * x
        // Both forms are computed and one selected (no branch, so batch loops vectorise).
        // With m = expm1(|t|) >= 0: sinh t = sign(t) (m + m/(1 + m))/2 (expm1(-|t|) =
        // -m/(1 + m); the two terms have the same sign, so no cancellation, and 1 + m >= 1);
        // cosh t = (E + 1/E)/2 with E = e^t.
        @inline(__always) func sinh(_ t: Double) -> Double {
            let m = Elementary.expMinusOne(Swift.abs(t))
            return Double(signOf: t, magnitudeOf: 0.5 * (m + m / (1 + m)))
        }
        @inline(__always) func cosh(_ t: Double) -> Double {
            let e = Elementary.exp(t)
            return 0.5 * (e + 1 / e)
        }
        let ca = cosh(ha), cx = cosh(hx)
        let sp = sinh(p), sq = sinh(q)
        // Divided pairwise (each quotient is at most 1: 2 cosh(ha) cosh(hx) >= cosh(p) >=
        // |sinh(p)|, and likewise for q), so that nothing overflows while
        // |ha| + |hx| < 700 (|p| and |q| are at most that; 4 ca^2 cx^2 alone would overflow
        // from |ha| + |hx| ~ 355).
        let nearby = beta * (sp / (2 * ca * cx)) * (sq / (2 * ca * cx))
        let far = beta * (sigmoidDensity(a) - sigmoidDensity(x))
        let dW = Swift.abs(ha) + Swift.abs(hx) < 700 ? nearby : far
        return (LossMath.sigmoid(a) + LossMath.sigmoid(-x), dW, dx)
    }

    /// Bounded DPO (`bdpo`, Cho et al. 2025): DPO with `u_l` replaced by
    /// `u_l' = log(lam e^{u_l} + 1 - lam)`, which stays >= log(1 - lam) as pi_l -> 0.
    ///
    /// `l = softplus(-beta (u_w - u_l'))`, `dl/du_w = -beta sigma(-beta h')`,
    /// `dl/du_l = beta sigma(-beta h') sigma(u_l + log(lam/(1-lam)))`.
    @inlinable @inline(__always)
    public static func bdpo(uW: Double, uL: Double, beta: Double, lambda lam: Double) -> (value: Double, dW: Double, dL: Double) {
        let uLMixed: Double
        let weight: Double
        if lam >= 1 {
            uLMixed = uL
            weight = 1
        } else {
            let logLam = Elementary.log(lam), log1mLam = Elementary.log(onePlus: -lam)
            uLMixed = logAddExp(logLam + uL, log1mLam)
            weight = LossMath.sigmoid(uL + logLam - log1mLam)   // d u_l' / d u_l
        }
        let x = beta * (uW - uLMixed)
        let s = LossMath.sigmoid(-x)
        return (softplus(-x), -beta * s, beta * s * weight)
    }
}
