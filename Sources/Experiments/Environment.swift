import GSLKit
import LossMath
import RealModule

/// One labelled preference pair of the simulated data set.
///
/// Responses are indices `0..<K` within the prompt. The labels may disagree with the true
/// reward (Bradley–Terry sampling, or a noisy reward model), so ``trueRewardGap`` can be
/// negative: its target `h* = trueRewardGap / beta` is then negative too.
public struct PreferencePair: Sendable, Hashable, Codable {
    /// Prompt index in `0..<P`.
    public let prompt: Int
    /// The preferred response `y_w`.
    public let chosen: Int
    /// The dispreferred response `y_l`.
    public let rejected: Int
    /// `dr = r(y_w) - r(y_l)` under the true reward.
    public let trueRewardGap: Double
    /// `dr_hat = r_hat(y_w) - r_hat(y_l)` under the reward model `r_hat = r + noise`.
    public let modelRewardGap: Double

    public init(prompt: Int, chosen: Int, rejected: Int, trueRewardGap: Double, modelRewardGap: Double) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.trueRewardGap = trueRewardGap
        self.modelRewardGap = modelRewardGap
    }
}

/// A generated simulation: reference policy, rewards, the optimum `pi*` and the labelled
/// pairs. An immutable value, safe to share between threads.
///
/// Per-(prompt, response) tables are flat, row-major arrays of length `P*K`: the entry of
/// prompt `x` and response `y` is at `x*K + y`. Features are `P*K*d`, the `d` features of
/// `(x, y)` starting at `(x*K + y)*d`.
///
/// Generative model (THEORY.md, Simulation):
/// - **Tabular.** Reference logits `~ N(0, s_ref^2)` i.i.d.; true rewards `r ~ N(0, s_r^2)` i.i.d.
/// - **Log-linear.** Features `phi(x, y) ~ N(0, I_d)` i.i.d.; `theta_ref ~ N(0, (s_ref^2/d) I)`;
///   `w* ~ N(0, (s_r^2/d) I)`; `r(x, y) = phi(x, y) . w*`. The `1/d` scaling makes `s_ref`
///   and `s_r` the typical standard deviations of the reference logits and of the rewards
///   across responses, as in the tabular case, whatever `d` is. Then
///   `pi* = pi_{theta*}` with `theta* = theta_ref + w*/beta` lies in the family.
/// - **Reward model.** `r_hat = r + N(0, s_noise^2)`, one fixed score per response.
/// - **Pairs.** Each prompt gets `n` distinct unordered pairs `{a, b}`. With
///   `.fromReference`, pairs are drawn one at a time with probability proportional to
///   `pi_ref(a) pi_ref(b)` among the pairs not drawn yet (sampling two responses from
///   `pi_ref` and rejecting repeats); `.uniform` gives every pair the same weight.
/// - **Labels.** `.bt`: `a` is chosen with probability `sigma(r_hat(a) - r_hat(b))`.
///   `.hard`: the larger `r_hat` is chosen (an exact tie is broken by a fair coin).
///
/// See also: ``SimulationConfig``, ``RandomStream``, ``Trainer``.
public struct Environment: Sendable {
    /// The configuration it was generated from.
    public let config: SimulationConfig
    /// `log pi_ref(y|x)`, normalised per prompt, `P*K`.
    public let logReference: [Double]
    /// True rewards `r(x, y)`, `P*K`.
    public let rewards: [Double]
    /// Reward-model scores `r_hat(x, y)`, `P*K`.
    public let modelRewards: [Double]
    /// `log pi*(y|x)` (T1), `P*K`.
    public let logOptimal: [Double]
    /// `log Z(x)` of T1 per prompt, so `J(pi*) = beta log Z` (length `P`).
    public let logPartition: [Double]
    /// Features `phi`, `P*K*d` (log-linear), empty for tabular.
    public let features: [Double]
    /// The policy parameters at which `pi = pi_ref`: the normalised reference log-probabilities
    /// (tabular, `P*K`) or `theta_ref` (log-linear, `d`). Training starts here.
    public let referenceParameters: [Double]
    /// Parameters at which `pi = pi*`: `log pi*` (tabular) or `theta_ref + w*/beta` (log-linear).
    public let optimalParameters: [Double]
    /// The labelled pairs, prompt by prompt, `P*n` of them.
    public let pairs: [PreferencePair]
    /// `seen[x*K + y]` is true when response `y` of prompt `x` occurs in some pair.
    public let seen: [Bool]

    /// `P`, `K`, `d` (d = 0 for tabular).
    public var prompts: Int { config.prompts }
    public var responses: Int { config.responses }
    public var featureCount: Int { config.policy == .loglinear ? config.features : 0 }

    /// Generates the environment of `config`, deterministically from its seed.
    ///
    /// - Throws: ``ExperimentError`` from ``SimulationConfig/validate()``, before any work.
    public init(_ config: SimulationConfig) throws(ExperimentError) {
        try config.validate()
        self.config = config
        let P = config.prompts, K = config.responses, beta = config.beta
        let d = config.policy == .loglinear ? config.features : 0
        func rng(_ s: RandomStream) -> RandomGenerator {
            RandomGenerator(seed: RandomGenerator.derivedSeed(config.seed, s.rawValue))
        }

        // Reference, features and true rewards.
        var logits = [Double](repeating: 0, count: P * K)
        var rewards = [Double](repeating: 0, count: P * K)
        var features: [Double] = []
        var thetaRef: [Double] = []
        var wStar: [Double] = []
        switch config.policy {
        case .tabular:
            let g = rng(.reference)
            for i in logits.indices { logits[i] = g.gaussian(sigma: config.referenceSpread) }
            let gr = rng(.reward)
            for i in rewards.indices { rewards[i] = gr.gaussian(sigma: config.rewardSpread) }
        case .loglinear:
            let scale = 1 / Double(d).squareRoot()
            let g = rng(.reference)
            thetaRef = (0..<d).map { _ in g.gaussian(sigma: config.referenceSpread * scale) }
            let gr = rng(.reward)
            wStar = (0..<d).map { _ in gr.gaussian(sigma: config.rewardSpread * scale) }
            let gf = rng(.features)
            features = [Double](repeating: 0, count: P * K * d)
            for i in features.indices { features[i] = gf.gaussian(sigma: 1) }
            for c in 0..<(P * K) {
                var z = 0.0, r = 0.0
                for j in 0..<d {
                    z += features[c * d + j] * thetaRef[j]
                    r += features[c * d + j] * wStar[j]
                }
                logits[c] = z
                rewards[c] = r
            }
        }

        // Normalise the reference per prompt; compute pi* (T1) with LossMath.Theory.
        var logRef = logits
        var logOpt = [Double](repeating: 0, count: P * K)
        var logZ = [Double](repeating: 0, count: P)
        for x in 0..<P {
            let row = x * K ..< (x + 1) * K
            let lse = logSumExp(logits[row])
            for i in row { logRef[i] = logits[i] - lse }
            let star = Theory.optimalPolicy(logReference: Array(logRef[row]), rewards: Array(rewards[row]), beta: beta)
            for (k, i) in row.enumerated() { logOpt[i] = star.logPolicy[k] }
            logZ[x] = star.logZ
        }

        // Reward model.
        var model = rewards
        let gn = rng(.rewardNoise)
        for i in model.indices { model[i] += gn.gaussian(sigma: config.rewardNoise) }

        // Pairs and labels.
        let codes = PairSampler.sample(config: config, logReference: logRef, rng: rng(.pairs))
        let gl = rng(.labels)
        var pairs: [PreferencePair] = []
        pairs.reserveCapacity(P * config.pairsPerPrompt)
        var seen = [Bool](repeating: false, count: P * K)
        for x in 0..<P {
            for c in codes[x * config.pairsPerPrompt ..< (x + 1) * config.pairsPerPrompt] {
                let a = c / K, b = c % K
                let gapHat = model[x * K + a] - model[x * K + b]
                let aWins: Bool
                switch config.labels {
                case .bt: aWins = gl.bernoulli(LossMath.sigmoid(gapHat))
                case .hard: aWins = gapHat > 0 || (gapHat == 0 && gl.bernoulli(0.5))
                }
                let (w, l) = aWins ? (a, b) : (b, a)
                pairs.append(PreferencePair(
                    prompt: x, chosen: w, rejected: l,
                    trueRewardGap: rewards[x * K + w] - rewards[x * K + l],
                    modelRewardGap: model[x * K + w] - model[x * K + l]))
                seen[x * K + w] = true
                seen[x * K + l] = true
            }
        }

        self.logReference = logRef
        self.rewards = rewards
        self.modelRewards = model
        self.logOptimal = logOpt
        self.logPartition = logZ
        self.features = features
        self.pairs = pairs
        self.seen = seen
        switch config.policy {
        case .tabular:
            referenceParameters = logRef
            optimalParameters = logOpt
        case .loglinear:
            referenceParameters = thetaRef
            optimalParameters = (0..<d).map { thetaRef[$0] + wStar[$0] / beta }
        }
    }

    /// `log pi_ref(.|x)` of prompt `x` as an array of length `K`.
    public func logReference(prompt x: Int) -> [Double] { Array(logReference[x * responses ..< (x + 1) * responses]) }
    /// `r(x, .)` as an array of length `K`.
    public func rewards(prompt x: Int) -> [Double] { Array(rewards[x * responses ..< (x + 1) * responses]) }
    /// `log pi*(.|x)` as an array of length `K`.
    public func logOptimal(prompt x: Int) -> [Double] { Array(logOptimal[x * responses ..< (x + 1) * responses]) }
}

/// Sampling of distinct unordered pairs (internal; see ``Environment`` for the law).
enum PairSampler {
    /// Codes `a*K + b` (a < b), `n` per prompt, prompt by prompt.
    ///
    /// Exact sequential sampling without replacement with weights `w(a,b)`:
    /// 1. Rejection: draw `a, b` i.i.d. from `pi_ref` (or uniform), reject `a == b` and pairs
    ///    already taken. Conditioned on acceptance this is exactly the next draw without
    ///    replacement, and it is cheap while the pairs left carry most of the mass.
    /// 2. If a budget of attempts runs out (a peaked `pi_ref`, or `n` close to `K(K-1)/2`),
    ///    the remaining draws are made by Gumbel-top-k over all pairs not yet taken: the
    ///    top keys `log w + Gumbel` are distributed exactly as sequential draws without
    ///    replacement (Efraimidis–Spirakis / Vieira), so the combined law is unchanged.
    static func sample(config: SimulationConfig, logReference: [Double], rng: RandomGenerator) -> [Int] {
        let P = config.prompts, K = config.responses, n = config.pairsPerPrompt
        let fromRef = config.pairSampling == .fromReference
        var out: [Int] = []
        out.reserveCapacity(P * n)
        var taken = Set<Int>(minimumCapacity: 2 * n)
        var cdf = [Double](repeating: 0, count: K)
        let budget = 4 * n + 16
        for x in 0..<P {
            taken.removeAll(keepingCapacity: true)
            let base = x * K
            if fromRef {
                var acc = 0.0
                for y in 0..<K { acc += Double.exp(logReference[base + y]); cdf[y] = acc }
            }
            @inline(__always) func draw() -> Int {
                if !fromRef { return rng.uniformInt(below: K) }
                // Inverse CDF by binary search; cdf[K-1] is ~1 (not exactly, so scale u).
                let u = rng.uniform() * cdf[K - 1]
                var lo = 0, hi = K - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cdf[mid] > u { hi = mid } else { lo = mid + 1 }
                }
                return lo
            }
            var count = 0
            var attempts = 0
            while count < n && attempts < budget {
                attempts += 1
                let s = draw(), t = draw()
                if s == t { continue }
                let code = Swift.min(s, t) * K + Swift.max(s, t)
                if taken.insert(code).inserted {
                    out.append(code)
                    count += 1
                }
            }
            if count < n {
                // Gumbel-top-k over the pairs not taken, with a min-heap of the k best keys.
                let k = n - count
                var heap = MinHeap(capacity: k)
                for a in 0..<K {
                    for b in (a + 1)..<K {
                        let code = a * K + b
                        if taken.contains(code) { continue }
                        let logW = fromRef ? logReference[base + a] + logReference[base + b] : 0
                        let key = logW - Double.log(-Double.log(rng.uniformPositive()))
                        heap.offer(key: key, code: code)
                    }
                }
                out.append(contentsOf: heap.codesByDescendingKey())
            }
        }
        return out
    }
}

/// A fixed-capacity min-heap keeping the `capacity` largest keys offered.
struct MinHeap {
    private(set) var keys: [Double] = []
    private(set) var codes: [Int] = []
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        keys.reserveCapacity(capacity)
        codes.reserveCapacity(capacity)
    }

    mutating func offer(key: Double, code: Int) {
        if keys.count < capacity {
            keys.append(key); codes.append(code)
            var i = keys.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                if keys[p] <= keys[i] { break }
                keys.swapAt(p, i); codes.swapAt(p, i); i = p
            }
        } else if capacity > 0 && key > keys[0] {
            keys[0] = key; codes[0] = code
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < keys.count && keys[l] < keys[m] { m = l }
                if r < keys.count && keys[r] < keys[m] { m = r }
                if m == i { break }
                keys.swapAt(m, i); codes.swapAt(m, i); i = m
            }
        }
    }

    /// The kept codes, largest key first (ties by code, so the order is deterministic).
    func codesByDescendingKey() -> [Int] {
        zip(keys, codes).sorted { $0.0 != $1.0 ? $0.0 > $1.0 : $0.1 < $1.1 }.map(\.1)
    }
}
