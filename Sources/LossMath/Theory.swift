import RealModule

/// The RLHF objective's closed forms (docs/theory.md, T1–T4), for one prompt with a finite set
/// of responses. Every distribution is given as log-probabilities, so a reference with
/// log pi_ref = -800 or a small beta (r/beta = 1e6) neither underflows nor overflows.
public enum Theory {

    /// The optimal policy of `J(pi) = E_pi[r] - beta KL(pi || pi_ref)` (T1):
    /// `log pi*(y) = log pi_ref(y) + r(y)/beta - log Z`, `log Z = logsumexp(log pi_ref + r/beta)`.
    ///
    /// - Precondition: equal lengths, `beta > 0`.
    /// - Returns: `log pi*` and `log Z`.
    public static func optimalPolicy(logReference: [Double], rewards: [Double], beta: Double) -> (logPolicy: [Double], logZ: Double) {
        precondition(logReference.count == rewards.count && beta > 0)
        var shifted = [Double](repeating: 0, count: rewards.count)
        for i in shifted.indices { shifted[i] = logReference[i] + rewards[i] / beta }
        let logZ = logSumExp(shifted)
        for i in shifted.indices { shifted[i] -= logZ }
        return (shifted, logZ)
    }

    /// `KL(p || q) = sum_y p(y) (log p(y) - log q(y))` from log-probabilities; terms with
    /// p(y) = 0 contribute 0. Returns +infinity when q(y) = 0 < p(y).
    public static func klDivergence(logP: [Double], logQ: [Double]) -> Double {
        precondition(logP.count == logQ.count)
        var s = 0.0
        for i in logP.indices where logP[i] > -.infinity {
            s += Elementary.exp(logP[i]) * (logP[i] - logQ[i])
        }
        return s
    }

    /// The expected reward `E_pi[r]`.
    public static func expectedReward(logPolicy: [Double], rewards: [Double]) -> Double {
        var s = 0.0
        for i in logPolicy.indices { s += Elementary.exp(logPolicy[i]) * rewards[i] }
        return s
    }

    /// The objective `J(pi) = E_pi[r] - beta KL(pi || pi_ref)` (T1).
    public static func objective(logPolicy: [Double], logReference: [Double], rewards: [Double], beta: Double) -> Double {
        expectedReward(logPolicy: logPolicy, rewards: rewards) - beta * klDivergence(logP: logPolicy, logQ: logReference)
    }

    /// The regret `J(pi*) - J(pi)`, computed as `beta KL(pi || pi*)` (T2). Non-negative,
    /// and zero exactly at `pi = pi*`; it never subtracts two large objective values.
    public static func regret(logPolicy: [Double], logReference: [Double], rewards: [Double], beta: Double) -> Double {
        let star = optimalPolicy(logReference: logReference, rewards: rewards, beta: beta).logPolicy
        return beta * klDivergence(logP: logPolicy, logQ: star)
    }

    /// The reward recovered from the optimal policy (T3):
    /// `r(y) = beta log(pi*(y)/pi_ref(y)) + beta log Z`.
    public static func impliedReward(logOptimal: Double, logReference: Double, logZ: Double, beta: Double) -> Double {
        beta * (logOptimal - logReference) + beta * logZ
    }

    /// The target logits difference (T4): `h* = dr / beta`. Every pair has this `h` under
    /// `pi*`, whatever `Z` and `pi_ref` are.
    @inlinable
    public static func targetLogitsDifference(rewardGap: Double, beta: Double) -> Double { rewardGap / beta }

    /// IPO's fixed target (T10): `1/(2 beta)`, whatever the reward.
    @inlinable
    public static func ipoTarget(beta: Double) -> Double { 1 / (2 * beta) }

    /// The Bradley–Terry population loss of a loss of h alone on a pair with reward gap dr
    /// (T5): both orders weighted by `sigma(+-dr)`: `sigma(dr) l(h) + sigma(-dr) l(-h)`,
    /// and its derivative in h.
    public static func bradleyTerryPopulationLoss(_ loss: Loss, h: Double, rewardGap dr: Double, parameters: LossParameters) -> (value: Double, dh: Double) {
        let pw = sigmoid(dr), pl = sigmoid(-dr)
        let forward = loss.evaluate(PairLogProbs(chosen: h, rejected: 0, refChosen: 0, refRejected: 0), parameters)
        let backward = loss.evaluate(PairLogProbs(chosen: -h, rejected: 0, refChosen: 0, refRejected: 0), parameters)
        return (pw * forward.value + pl * backward.value, pw * forward.dChosen - pl * backward.dChosen)
    }
}
