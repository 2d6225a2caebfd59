import LossMath
import RealModule

/// The numerical core shared by the trainer and the population-optimum solver: the policy's
/// log-probabilities, the weighted loss over a set of pairs and its exact gradient in
/// parameter space.
///
/// All buffers are allocated once in `init` and freed in `deinit`; the per-step methods
/// allocate nothing. Not thread-safe: one engine per run, created inside the worker.
///
/// Gradient (T9 and its generalisation to losses of `u_w`, `u_l` separately). With
/// `log pi(y|x) = z_xy - log sum_y' exp(z_xy')`, `d log pi(y|x) / d z_xy' = [y = y'] - pi(y'|x)`.
/// A pair with derivatives `a = dl/d log pi_w`, `b = dl/d log pi_l` therefore contributes
/// `a e_w + b e_l - (a + b) pi(.|x)` to `dl/dz_x`. For a loss of `h` alone `b = -a` and the
/// normaliser term cancels (T9: `dl/dz = l'(h) (e_w - e_l)`). The logit gradient `G` is
/// accumulated per prompt as the coefficients `a`, `b` on `e_w`, `e_l` plus one scalar
/// `s_x = sum (a + b)`, and `G_xy = c_xy - s_x pi(y|x)` is formed once per touched prompt.
/// Tabular: `dl/dtheta = G`. Log-linear (`z_xy = phi_xy . theta`): `dl/dtheta = sum_xy G_xy phi_xy`.
final class PolicyEngine {
    let policy: SimulationConfig.Policy
    let P: Int, K: Int, d: Int
    let parameterCount: Int
    let pairCount: Int
    let loss: Loss
    let baseParameters: LossParameters

    // Problem data (copied once into contiguous storage).
    let logRef: UnsafeMutableBufferPointer<Double>      // P*K
    let features: UnsafeMutableBufferPointer<Double>    // P*K*d (log-linear) or empty
    let pairPrompt: UnsafeMutableBufferPointer<Int>
    let pairChosen: UnsafeMutableBufferPointer<Int>
    let pairRejected: UnsafeMutableBufferPointer<Int>
    let pairGap: UnsafeMutableBufferPointer<Double>     // dr the loss trains on
    let pairWeight: UnsafeMutableBufferPointer<Double>  // per-pair weight (1 for the trainer)

    // State and scratch.
    let theta: UnsafeMutableBufferPointer<Double>       // parameters
    let logPi: UnsafeMutableBufferPointer<Double>       // P*K, valid on refreshed prompts
    let logitGrad: UnsafeMutableBufferPointer<Double>   // P*K, G (zero outside touched prompts)
    let promptSum: UnsafeMutableBufferPointer<Double>   // P, s_x
    let paramGrad: UnsafeMutableBufferPointer<Double>   // parameterCount
    let stamp: UnsafeMutableBufferPointer<Int>          // P, last mark id
    let touched: UnsafeMutableBufferPointer<Int>        // P, list of touched prompts
    var touchedCount = 0
    var markId = 0

    struct PairSpec {
        var prompt: Int, chosen: Int, rejected: Int, gap: Double, weight: Double
    }

    init(policy: SimulationConfig.Policy, prompts: Int, responses: Int, featureCount: Int,
         logReference: [Double], features: [Double], initialParameters: [Double],
         pairs: [PairSpec], loss: Loss, parameters: LossParameters) {
        self.policy = policy
        P = prompts; K = responses; d = policy == .loglinear ? featureCount : 0
        parameterCount = policy == .tabular ? P * K : d
        pairCount = pairs.count
        self.loss = loss
        baseParameters = parameters
        precondition(logReference.count == P * K && initialParameters.count == parameterCount)
        precondition(policy == .tabular || features.count == P * K * d)

        func buffer<T>(_ n: Int, _ v: T) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: n)
            b.initialize(repeating: v)
            return b
        }
        logRef = buffer(P * K, 0.0)
        _ = logRef.update(fromContentsOf: logReference)
        self.features = buffer(features.count, 0.0)
        _ = self.features.update(fromContentsOf: features)
        pairPrompt = buffer(pairCount, 0)
        pairChosen = buffer(pairCount, 0)
        pairRejected = buffer(pairCount, 0)
        pairGap = buffer(pairCount, 0.0)
        pairWeight = buffer(pairCount, 0.0)
        for (i, p) in pairs.enumerated() {
            pairPrompt[i] = p.prompt; pairChosen[i] = p.chosen; pairRejected[i] = p.rejected
            pairGap[i] = p.gap; pairWeight[i] = p.weight
        }
        theta = buffer(parameterCount, 0.0)
        _ = theta.update(fromContentsOf: initialParameters)
        logPi = buffer(P * K, 0.0)
        logitGrad = buffer(P * K, 0.0)
        promptSum = buffer(P, 0.0)
        paramGrad = buffer(parameterCount, 0.0)
        stamp = buffer(P, -1)
        touched = buffer(P, 0)
    }

    deinit {
        logRef.deallocate(); features.deallocate()
        pairPrompt.deallocate(); pairChosen.deallocate(); pairRejected.deallocate()
        pairGap.deallocate(); pairWeight.deallocate()
        theta.deallocate(); logPi.deallocate(); logitGrad.deallocate(); promptSum.deallocate()
        paramGrad.deallocate(); stamp.deallocate(); touched.deallocate()
    }

    // MARK: - Touched prompts

    /// Marks every prompt as touched.
    func touchAll() {
        markId += 1
        for x in 0..<P { touched[x] = x; stamp[x] = markId }
        touchedCount = P
    }

    /// Marks the prompts of `indices` (pair indices) as touched.
    func touch(pairs indices: UnsafeBufferPointer<Int>) {
        markId += 1
        touchedCount = 0
        for i in indices {
            let x = pairPrompt[i]
            if stamp[x] != markId { stamp[x] = markId; touched[touchedCount] = x; touchedCount += 1 }
        }
    }

    // MARK: - Policy

    /// Recomputes `log pi(.|x)` for the touched prompts from `theta`.
    func refreshLogPolicy() {
        for t in 0..<touchedCount {
            let x = touched[t]
            let row = x * K
            // Logits into logPi, then subtract their log-sum-exp (max-shifted, so logits
            // of any size neither overflow nor underflow to an all-zero row).
            var m = -Double.infinity
            if policy == .tabular {
                for y in 0..<K { let z = theta[row + y]; logPi[row + y] = z; if z > m { m = z } }
            } else {
                for y in 0..<K {
                    let f = (row + y) * d
                    var z = 0.0
                    for j in 0..<d { z += features[f + j] * theta[j] }
                    logPi[row + y] = z
                    if z > m { m = z }
                }
            }
            var s = 0.0
            for y in 0..<K { s += Double.exp(logPi[row + y] - m) }
            let lse = m + Double.log(s)
            for y in 0..<K { logPi[row + y] -= lse }
        }
    }

    @inline(__always)
    func evaluate(pair i: Int) -> (e: LossEvaluation, logpW: Double, logpL: Double) {
        let x = pairPrompt[i], row = x * K
        let w = row + pairChosen[i], l = row + pairRejected[i]
        var p = baseParameters
        p.rewardGap = pairGap[i]
        let pair = PairLogProbs(chosen: logPi[w], rejected: logPi[l], refChosen: logRef[w], refRejected: logRef[l])
        return (loss.evaluate(pair, p), logPi[w], logPi[l])
    }

    // MARK: - Loss and gradient

    /// Adds `scale * weight_i * (loss_i, dloss_i/dz)` over `indices` into the logit gradient
    /// and returns the weighted loss sum. Touched prompts must be refreshed.
    @inline(__always)
    func accumulate(pair i: Int, scale: Double) -> Double {
        let x = pairPrompt[i], row = x * K
        let (e, _, _) = evaluate(pair: i)
        let wt = scale * pairWeight[i]
        let a = wt * e.dChosen, b = wt * e.dRejected
        logitGrad[row + pairChosen[i]] += a
        logitGrad[row + pairRejected[i]] += b
        promptSum[x] += a + b
        return wt * e.value
    }

    /// Turns the accumulated coefficients into `G = c - s pi` on the touched prompts and the
    /// parameter gradient `paramGrad`. Returns nothing; `paramGrad` holds dl/dtheta.
    func finishGradient() {
        for t in 0..<touchedCount {
            let x = touched[t], row = x * K
            let s = promptSum[x]
            if s != 0 {
                for y in 0..<K { logitGrad[row + y] -= s * Double.exp(logPi[row + y]) }
            }
            promptSum[x] = 0
        }
        if policy == .tabular {
            // dl/dtheta = G; untouched rows of G are zero already.
            for t in 0..<touchedCount {
                let row = touched[t] * K
                for y in 0..<K { paramGrad[row + y] = logitGrad[row + y] }
            }
        } else {
            for j in 0..<d { paramGrad[j] = 0 }
            for t in 0..<touchedCount {
                let row = touched[t] * K
                for y in 0..<K {
                    let g = logitGrad[row + y]
                    if g == 0 { continue }
                    let f = (row + y) * d
                    for j in 0..<d { paramGrad[j] += g * features[f + j] }
                }
            }
        }
    }

    /// Zeroes the logit and parameter gradients on the touched prompts (so the next step
    /// starts from zero without an O(P*K) clear).
    func clearGradient() {
        for t in 0..<touchedCount {
            let row = touched[t] * K
            for y in 0..<K { logitGrad[row + y] = 0 }
            if policy == .tabular { for y in 0..<K { paramGrad[row + y] = 0 } }
        }
        if policy == .loglinear { for j in 0..<d { paramGrad[j] = 0 } }
    }

    /// The weighted mean loss `sum_i scale*w_i*l_i` over all pairs, with `paramGrad` set to its
    /// gradient. Refreshes every prompt.
    func fullLossAndGradient(scale: Double) -> Double {
        clearGradient()
        touchAll()
        refreshLogPolicy()
        var v = 0.0
        for i in 0..<pairCount { v += accumulate(pair: i, scale: scale) }
        finishGradient()
        return v
    }

    /// The Euclidean norm of `paramGrad`.
    func gradientNorm() -> Double {
        // Scaled sum of squares would guard against overflow; gradients here are bounded by
        // the loss derivatives (|l'| <= a few beta for most losses) times P*K, far from it.
        var s = 0.0
        for j in 0..<parameterCount { s += paramGrad[j] * paramGrad[j] }
        return s.squareRoot()
    }

    func setParameters(_ p: [Double]) {
        precondition(p.count == parameterCount, "expected \(parameterCount) parameters, got \(p.count)")
        _ = theta.update(fromContentsOf: p)
    }

    var parameters: [Double] { Array(theta) }
    var gradient: [Double] { Array(paramGrad) }
}
