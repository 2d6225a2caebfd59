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
/// Generative model (docs/theory.md §5.1). The policy family (``SimulationConfig/policy``)
/// draws its reference policy and the true rewards (``PolicyFamily/generate(_:stream:)``:
/// ``TabularPolicy``, ``LogLinearPolicy``); everything else is the same for every family:
/// - **Optimum.** `pi*(y|x) = pi_ref(y|x) exp(r(x, y)/beta) / Z(x)` (T1).
/// - **Reward model.** `r_hat = r + N(0, s_noise^2)`, one fixed score per response.
/// - **Pairs.** Each prompt gets `n` distinct unordered pairs `{a, b}`. With
///   `.fromReference`, pairs are drawn one at a time with probability proportional to
///   `pi_ref(a) pi_ref(b)` among the pairs not drawn yet (sampling two responses from
///   `pi_ref` and rejecting repeats); `.uniform` gives every pair the same weight.
/// - **Labels.** `.bt`: `a` is chosen with probability `sigma(r_hat(a) - r_hat(b))`.
///   `.hard`: the larger `r_hat` is chosen (an exact tie is broken by a fair coin).
///
/// See also: ``SimulationConfig``, ``RandomStream``, ``PolicyFamily``, ``Trainer``.
public struct Environment: Sendable {
    /// The configuration it was generated from.
    public let config: SimulationConfig
    /// The policy family, as drawn (its reference parameters, and features if it has any).
    public let family: any PolicyFamily
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
    /// The policy parameters at which `pi = pi_ref` (``PolicyFamily/referenceParameters``).
    /// Training starts here.
    public let referenceParameters: [Double]
    /// Parameters at which `pi = pi*` (``PolicyFamily/optimalParameters(logOptimal:beta:)``).
    public let optimalParameters: [Double]
    /// The labelled pairs, prompt by prompt, `P*n` of them.
    public let pairs: [PreferencePair]
    /// `seen[x*K + y]` is true when response `y` of prompt `x` occurs in some pair.
    public let seen: [Bool]

    /// `P`, `K`.
    public var prompts: Int { config.prompts }
    public var responses: Int { config.responses }

    /// Generates the environment of `config`, deterministically from its seed.
    ///
    /// - Throws: ``ExperimentError`` from ``SimulationConfig/validate()``, before any work.
    public init(_ config: SimulationConfig) throws(ExperimentError) {
        try config.validate()
        self.config = config
        let P = config.prompts, K = config.responses, beta = config.beta
        func rng(_ s: RandomStream) -> RandomGenerator {
            RandomGenerator(seed: RandomGenerator.derivedSeed(config.seed, s.rawValue))
        }

        // The family: reference and true rewards.
        let (family, rewards) = config.policy.family.generate(config, stream: rng)
        let logRef = family.referenceLogPolicy()

        // pi* (T1) with LossMath.Theory.
        var logOpt = [Double](repeating: 0, count: P * K)
        var logZ = [Double](repeating: 0, count: P)
        for x in 0..<P {
            let row = x * K ..< (x + 1) * K
            let star = Theory.optimalPolicy(logReference: Array(logRef[row]), rewards: Array(rewards[row]), beta: beta)
            for (k, i) in row.enumerated() { logOpt[i] = star.logPolicy[k] }
            logZ[x] = star.logZ
        }

        // Reward model, pairs and labels.
        let model = RewardModel.scores(rewards, noise: config.rewardNoise, rng: rng(.rewardNoise))
        let (pairs, seen) = PairSampler.labelledPairs(config: config, logReference: logRef, modelRewards: model,
                                                      rewards: rewards, pairRNG: rng(.pairs), labelRNG: rng(.labels))

        self.family = family
        self.logReference = logRef
        self.rewards = rewards
        self.modelRewards = model
        self.logOptimal = logOpt
        self.logPartition = logZ
        self.pairs = pairs
        self.seen = seen
        referenceParameters = family.referenceParameters
        optimalParameters = family.optimalParameters(logOptimal: logOpt, beta: beta)
    }

    /// `log pi_ref(.|x)` of prompt `x` as an array of length `K`.
    public func logReference(prompt x: Int) -> [Double] { Array(logReference[x * responses ..< (x + 1) * responses]) }
    /// `r(x, .)` as an array of length `K`.
    public func rewards(prompt x: Int) -> [Double] { Array(rewards[x * responses ..< (x + 1) * responses]) }
    /// `log pi*(.|x)` as an array of length `K`.
    public func logOptimal(prompt x: Int) -> [Double] { Array(logOptimal[x * responses ..< (x + 1) * responses]) }
}

/// The reward model `r_hat = r + N(0, s_noise^2)` (internal; see ``Environment``).
enum RewardModel {
    /// One noisy score per response, drawn in cell order from `rng`.
    static func scores(_ rewards: [Double], noise: Double, rng: RandomGenerator) -> [Double] {
        var model = rewards
        for i in model.indices { model[i] += rng.gaussian(sigma: noise) }
        return model
    }
}

/// Sampling of distinct unordered pairs (internal; see ``Environment`` for the law).
enum PairSampler {
    /// The labelled pairs, prompt by prompt, and which cells occur in a pair: the pairs of
    /// ``sample(config:logReference:rng:)`` from `pairRNG`, each labelled by the reward
    /// model's scores (Bradley–Terry draws or hard labels from `labelRNG`).
    static func labelledPairs(config: SimulationConfig, logReference logRef: [Double], modelRewards model: [Double],
                              rewards: [Double], pairRNG: RandomGenerator, labelRNG gl: RandomGenerator) -> ([PreferencePair], [Bool]) {
        let P = config.prompts, K = config.responses
        let codes = sample(config: config, logReference: logRef, rng: pairRNG)
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
        return (pairs, seen)
    }

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
