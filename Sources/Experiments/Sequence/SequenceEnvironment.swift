import GSLKit
import LossMath

/// A generated sequence-level simulation (`docs/theory.md §5.2`): the reference policy, the
/// true and proxy rewards per transition, the exact optimum, the labelled offline pairs and
/// the reward gap each pair gives the reward-aware losses. An immutable value, safe to share
/// between threads; every loss trained on it sees the same data.
///
/// **Generative model.**
/// - **Reference.** `pi_ref = softmax(l_ref)` row by row, `l_ref(s, a) ~ N(0, s_ref^2)` i.i.d.
/// - **True reward.** `rho(s, a) ~ N(0, s_r^2)` i.i.d., `r(x, y) = sum_t rho(s_t, y_t)`.
/// - **Proxy.** `rho~(s, a) = rho(s, a) + lambda [a = k]`, so
///   `r~(x, y) = r(x, y) + lambda #{t : y_t = k}`; `lambda = 0` is the well-specified case.
/// - **Optimum.** `pi* ∝ pi_ref exp(r / beta)` under the TRUE reward, by ``SoftBellman``.
/// - **Pairs.** Per prompt, `n` pairs `(a, b)`, both responses drawn independently from
///   `pi_ref` (``SequenceSampler``; `a` then `b`, `T` uniforms each). The two may coincide
///   on a small space; such a pair has `h = 0` and teaches nothing.
/// - **Noise and labels.** The labeller sees `d = r~(a) - r~(b) + e`, `e ~ N(0, s_noise^2)`
///   (noise on the proxy gap, one draw per pair). Hard labels: `a` is chosen when `d > 0`
///   (a fair coin when `d = 0`); Bradley–Terry: with probability `sigma(d)`.
/// - **Targets.** For the ordered pair `(y_w, y_l)`: ``trueGaps`` `r(y_w) - r(y_l)`,
///   ``proxyGaps`` `r~(y_w) - r~(y_l)`, and, for ``SequenceConfig/Target/fitted``, the gap of
///   an ``AdditiveRewardModel`` fitted to the ordered pairs (the labels DPO sees). ``targetGaps``
///   is the one ``SequenceConfig/target`` selects.
/// - **Held-out pairs.** ``SequenceConfig/heldOutPairsPerPrompt`` fresh pairs per prompt,
///   drawn and labelled the same way on their own streams: the fitted model's pairwise
///   accuracy is measured on them, and its correlation with the true reward over their
///   responses.
///
/// Conventions: `h = log-ratio of y_w minus that of y_l`; every gap is chosen minus rejected.
///
/// See also: ``SequenceConfig``, ``SequenceRandomStream``, ``SequenceTrainer``.
public struct SequenceEnvironment: Sendable {
    /// The configuration it was generated from.
    public let config: SequenceConfig
    /// The state space.
    public let space: SequenceSpace
    /// `l_ref`, the reference logits (table layout of ``SequenceSpace``).
    public let referenceLogits: [Double]
    /// `pi_ref = softmax(l_ref)`.
    public let reference: MarkovPolicy
    /// The true reward `rho(s, a)` per transition (table layout).
    public let reward: [Double]
    /// The proxy reward `rho~(s, a) = rho(s, a) + lambda [a = k]` per transition (table layout).
    public let proxyReward: [Double]
    /// The exact optimum under the true reward (its `log Z` per prompt and values).
    public let optimum: SoftBellman
    /// The labelled training pairs, prompt by prompt (`n` per prompt), preference 1.
    public let pairs: LabelledPairs
    /// Per pair, `log pi_ref(y_w)` and `log pi_ref(y_l)`.
    public let referenceLogpChosen: [Double]
    public let referenceLogpRejected: [Double]
    /// Per pair, the true gap `r(y_w) - r(y_l)` (what the metrics measure `h` against).
    public let trueGaps: [Double]
    /// Per pair, the proxy gap `r~(y_w) - r~(y_l)`.
    public let proxyGaps: [Double]
    /// Per pair, the gap a reward-aware loss is told (``SequenceConfig/target``). Settable
    /// inside the module so that a study can give one arm other gaps on the same data.
    public internal(set) var targetGaps: [Double]
    /// The fitted reward model (``SequenceConfig/Target/fitted`` only, else nil).
    public let rewardModel: AdditiveRewardModel?
    /// The fitted model's pairwise accuracy on the held-out pairs (nil unless fitted).
    public let rewardModelAccuracy: Double?
    /// The fitted model's Pearson correlation with the true reward over the held-out pairs'
    /// responses, centred per prompt (nil unless fitted).
    public let rewardModelCorrelation: Double?
    /// The held-out pairs, labelled like the training pairs.
    public let heldOutPairs: LabelledPairs
    /// The fraction of training pairs whose label agrees with the true reward (`dr > 0`
    /// counts 1, `dr = 0` counts 1/2): how misleading the labels are.
    public let labelAgreement: Double

    /// `pi*`.
    public var optimal: MarkovPolicy { optimum.optimal }
    /// Whether the losses are told the true reward (an oracle: an upper bound).
    public var isOracle: Bool { config.target.isOracle }
    /// `P n`.
    public var pairCount: Int { pairs.count }

    /// Generates the environment of `config`, deterministically from its seed.
    ///
    /// - Throws: ``ExperimentError`` from ``SequenceConfig/validate()`` before any work, or
    ///   from the reward model's fit.
    public init(_ config: SequenceConfig) throws(ExperimentError) {
        try config.validate()
        let space = try config.space()
        func rng(_ s: SequenceRandomStream) -> RandomGenerator {
            RandomGenerator(seed: RandomGenerator.derivedSeed(config.seed, s.rawValue))
        }
        let gr = rng(.reference)
        let logits = (0..<space.tableCount).map { _ in gr.gaussian(sigma: config.referenceSpread) }
        let gw = rng(.reward)
        let rho = (0..<space.tableCount).map { _ in gw.gaussian(sigma: config.rewardSpread) }
        let indicator = space.tokenIndicator(config.spuriousToken)
        let proxy = zip(rho, indicator).map { $0 + config.proxyBias * $1 }
        let reference = MarkovPolicy(space: space, logits: logits)
        let sampler = SequenceSampler(policy: reference)

        let pairs = Self.labelledPairs(space: space, config: config, sampler: sampler, proxy: proxy,
                                       perPrompt: config.pairsPerPrompt, responses: rng(.pairs),
                                       noise: rng(.noise), labels: rng(.labels))
        let heldOut = Self.labelledPairs(space: space, config: config, sampler: sampler, proxy: proxy,
                                         perPrompt: config.heldOutPairsPerPrompt, responses: rng(.heldOutPairs),
                                         noise: rng(.heldOutNoise), labels: rng(.heldOutLabels))
        func gaps(_ table: [Double]) -> [Double] {
            zip(space.pathSums(table, of: pairs.chosen), space.pathSums(table, of: pairs.rejected)).map { $0 - $1 }
        }
        let trueGaps = gaps(rho)
        let proxyGaps = gaps(proxy)
        var model: AdditiveRewardModel?
        var accuracy: Double?
        var correlation: Double?
        let target: [Double]
        switch config.target {
        case .trueReward: target = trueGaps
        case .proxy: target = proxyGaps
        case .fitted:
            let fitted = try AdditiveRewardModel(space: space, pairs: pairs, l2: config.rewardModelL2)
            var both = heldOut.chosen
            for i in 0..<heldOut.count {
                both.append(prompt: heldOut.rejected.prompts[i], tokens: heldOut.rejected.response(i))
            }
            model = fitted
            accuracy = fitted.pairwiseAccuracy(heldOut)
            correlation = fitted.correlation(withReward: rho, over: both)
            target = gaps(fitted.reward)
        }

        self.config = config
        self.space = space
        referenceLogits = logits
        self.reference = reference
        reward = rho
        proxyReward = proxy
        optimum = SoftBellman(reference: reference, reward: rho, beta: config.beta)
        self.pairs = pairs
        referenceLogpChosen = reference.logProbabilities(of: pairs.chosen)
        referenceLogpRejected = reference.logProbabilities(of: pairs.rejected)
        self.trueGaps = trueGaps
        self.proxyGaps = proxyGaps
        targetGaps = target
        rewardModel = model
        rewardModelAccuracy = accuracy
        rewardModelCorrelation = correlation
        heldOutPairs = heldOut
        labelAgreement = trueGaps.reduce(0.0) { $0 + ($1 > 0 ? 1 : ($1 == 0 ? 0.5 : 0)) } / Double(trueGaps.count)
    }

    /// `perPrompt` ordered pairs per prompt, prompt by prompt: responses `a`, `b` from
    /// `sampler` on `responses`, the noisy proxy gap on `noise`, the label on `labels`.
    static func labelledPairs(space: SequenceSpace, config: SequenceConfig, sampler: SequenceSampler, proxy: [Double],
                              perPrompt n: Int, responses: RandomGenerator, noise: RandomGenerator,
                              labels: RandomGenerator) -> LabelledPairs {
        var prompts: [Int] = []
        prompts.reserveCapacity(2 * n * space.prompts)
        for x in 0..<space.prompts { for _ in 0..<(2 * n) { prompts.append(x) } }
        let drawn = sampler.sample(prompts: prompts, generator: responses)
        var chosen = ResponseBatch(length: space.length)
        var rejected = ResponseBatch(length: space.length)
        for i in 0..<(prompts.count / 2) {
            let x = prompts[2 * i]
            let (a, b) = (drawn.response(2 * i), drawn.response(2 * i + 1))
            let d = space.pathSum(proxy, prompt: x, tokens: a) - space.pathSum(proxy, prompt: x, tokens: b)
                + noise.gaussian(sigma: config.rewardNoise)
            let aWins: Bool
            switch config.labels {
            case .hard: aWins = d > 0 || (d == 0 && labels.bernoulli(0.5))
            case .bt: aWins = labels.bernoulli(sigmoid(d))
            }
            chosen.append(prompt: x, tokens: aWins ? a : b)
            rejected.append(prompt: x, tokens: aWins ? b : a)
        }
        return LabelledPairs(chosen: chosen, rejected: rejected)
    }
}
