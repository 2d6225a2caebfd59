import GSLKit
import LossMath

/// The log-linear family: `pi(y|x)` proportional to `exp(phi(x, y) . theta)`, one
/// `theta` in `R^d` shared by all prompts.
///
/// Generation (docs/theory.md §5.1): features `phi(x, y) ~ N(0, I_d)` i.i.d.;
/// `theta_ref ~ N(0, (s_ref^2/d) I)`; `w* ~ N(0, (s_r^2/d) I)`; `r(x, y) = phi(x, y) . w*`.
/// The `1/d` scaling makes `s_ref` and `s_r` the typical standard deviations of the
/// reference logits and of the rewards across responses, whatever `d` is. Then
/// `pi* = pi_{theta*}` with `theta* = theta_ref + w*/beta` lies in the family.
///
/// Gradient: with `G_x = c - (sum c) pi(.|x)` the logit gradient (T9),
/// `dl/dtheta = sum_x sum_y G_xy phi(x, y)`.
///
/// See also: ``PolicyFamily``, ``TabularPolicy``.
public struct LogLinearPolicy: PolicyFamily {
    public let prompts: Int
    public let responses: Int
    /// Feature dimension `d`.
    public let featureCount: Int
    /// `phi`, `P*K*d`: the `d` features of `(x, y)` start at `(x*K + y)*d`.
    public let features: [Double]
    /// `theta_ref` (`d`).
    public let referenceParameters: [Double]
    /// `w*` (`d`): the true reward is `r = phi . w*`.
    public let rewardWeights: [Double]

    public var parameterCount: Int { featureCount }

    public static func parameterCount(_ config: SimulationConfig) -> Int { config.features }

    public static func generate(_ config: SimulationConfig, stream: (RandomStream) -> RandomGenerator) -> (family: LogLinearPolicy, rewards: [Double]) {
        let P = config.prompts, K = config.responses, d = config.features
        let scale = 1 / Double(d).squareRoot()
        let g = stream(.reference)
        let thetaRef = (0..<d).map { _ in g.gaussian(sigma: config.referenceSpread * scale) }
        let gr = stream(.reward)
        let wStar = (0..<d).map { _ in gr.gaussian(sigma: config.rewardSpread * scale) }
        let gf = stream(.features)
        var features = [Double](repeating: 0, count: P * K * d)
        for i in features.indices { features[i] = gf.gaussian(sigma: 1) }
        let family = LogLinearPolicy(prompts: P, responses: K, featureCount: d, features: features,
                                     referenceParameters: thetaRef, rewardWeights: wStar)
        return (family, family.scores(wStar))
    }

    /// `phi(x, y) . w` for every cell (`P*K`), each a sum over `j` in order.
    func scores(_ w: [Double]) -> [Double] {
        let d = featureCount
        return (0..<(prompts * responses)).map { c in
            var z = 0.0
            for j in 0..<d { z += features[c * d + j] * w[j] }
            return z
        }
    }

    public func referenceLogPolicy() -> [Double] { normalisedRows(scores(referenceParameters), responses: responses) }

    public func optimalParameters(logOptimal: [Double], beta: Double) -> [Double] {
        (0..<featureCount).map { referenceParameters[$0] + rewardWeights[$0] / beta }
    }

    public func logPolicy(prompt x: Int, parameters theta: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        let K = responses, d = featureCount, row = x * K
        features.withUnsafeBufferPointer { phi in
            guard let phi = phi.baseAddress else { return }
            for y in 0..<K {
                let f = phi + (row + y) * d
                var z = 0.0
                for j in 0..<d { z += f[j] * theta[j] }
                out[y] = z
            }
        }
        logSoftmaxInPlace(out, K)
    }

    public func addGradient(prompt x: Int, dLogPolicy c: UnsafeMutablePointer<Double>, total: Double,
                            logPolicy: UnsafePointer<Double>, into gradient: UnsafeMutablePointer<Double>) {
        let K = responses, d = featureCount, row = x * K
        softmaxLogitGradient(c, total: total, logPolicy: logPolicy, K)
        features.withUnsafeBufferPointer { phi in
            guard let phi = phi.baseAddress else { return }
            for y in 0..<K {
                let g = c[y]
                if g == 0 { continue }
                let f = phi + (row + y) * d
                for j in 0..<d { gradient[j] += g * f[j] }
            }
        }
    }

    public func localParameters(prompt x: Int) -> Range<Int>? { nil }
}
