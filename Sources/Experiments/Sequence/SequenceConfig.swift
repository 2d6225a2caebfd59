import GSLKit
import LossMath

/// The configuration of a sequence-level simulation (`docs/theory.md §5.2`): the state
/// space, the reference policy and true reward, the proxy reward that labels the data, the
/// offline pairs, and the reward gap the reward-aware losses are told (``Target``).
///
/// Every random quantity has its own stream (``SequenceRandomStream``), derived from
/// ``seed``: the same seed gives the same reference, rewards, pairs and labels whatever
/// the loss, the learning rate or the parameterisation, so losses are compared on the same
/// data (paired comparisons).
///
/// **Defaults.** `markov`, `P = 8` prompts, `V = 4` tokens, `T = 6` tokens per response
/// (`V^T = 4096` responses per prompt, so the win rate is exact), `n = 16` pairs per
/// prompt from `pi_ref`, reference logits and per-transition rewards with spreads 1 and
/// 0.5, no label noise, hard labels, no proxy bias, target `fitted` (a reward model with
/// L2 strength `1e-2`, its accuracy measured on 64 held-out pairs per prompt),
/// `beta = 0.5`, seed 1.
///
/// See also: ``SequenceEnvironment``, ``SequenceTrainer``, ``SimulationConfig``.
public struct SequenceConfig: Sendable, Hashable, Codable {

    /// How the trained policy's logits are parameterised (``SequencePolicyFamily``).
    public enum Parameterisation: String, Sendable, Hashable, Codable, CaseIterable {
        /// A free logit per state and token (``MarkovFamily``): no parameter sharing.
        case markov
        /// ``SharedLogits`` over the reference logits (``SharedFamily``): chosen and
        /// rejected responses share parameters.
        case shared
    }

    /// The reward gap `dr` that a reward-aware loss (``LossMath/Loss/needsRewardGap``) is
    /// told for each pair. Losses that read only the labels ignore it.
    public enum Target: String, Sendable, Hashable, Codable, CaseIterable {
        /// The true reward's gap `r(y_w) - r(y_l)`. **An oracle**: no practitioner has it,
        /// so a run with it is an upper bound, not a comparison on equal information.
        case trueReward = "true"
        /// The labeller's proxy gap `r~(y_w) - r~(y_l)` (without the label noise).
        case proxy
        /// The gap of an additive Bradley–Terry reward model fitted to the same labels that
        /// DPO sees (``AdditiveRewardModel``): exactly DPO's information.
        case fitted

        /// Whether the target uses information no loss could have in practice (the true reward).
        public var isOracle: Bool { self == .trueReward }
    }

    /// The parameterisation of the trained policy. Default `.markov`.
    public var parameterisation: Parameterisation
    /// Prompts `P >= 1`. Default 8.
    public var prompts: Int
    /// Vocabulary `V >= 2`. Default 4.
    public var vocabulary: Int
    /// Tokens per response `T >= 1`. Default 6.
    public var length: Int
    /// Training pairs per prompt `n >= 1`, both responses drawn from `pi_ref`. Default 16.
    public var pairsPerPrompt: Int
    /// Standard deviation `s_ref >= 0` of the reference logits, one per state and token. Default 1.
    public var referenceSpread: Double
    /// Standard deviation `s_r >= 0` of the true reward `rho(s, a)` of each transition. Default 0.5.
    public var rewardSpread: Double
    /// Label noise `s_noise >= 0`: each pair is labelled on `dr~ + N(0, s_noise^2)`. Default 0.
    public var rewardNoise: Double
    /// Hard labels (the larger noisy proxy gap wins) or Bradley–Terry draws. Default `.hard`.
    public var labels: SimulationConfig.Labels
    /// The proxy's bias `lambda`: `r~ = r + lambda #{t : y_t = k}`. `0` is well specified. Default 0.
    public var proxyBias: Double
    /// The spurious token `k` in `0..<V` whose count the proxy rewards. Default 0.
    public var spuriousToken: Int
    /// Where reward-aware losses get `dr`. Default `.fitted`.
    public var target: Target
    /// The reward model's L2 strength `>= 0` (mean negative log-likelihood plus
    /// `(l2/2) |theta|^2`). Default `1e-2`: enough to pick the smallest-norm solution along
    /// the model's flat directions, small against the per-pair likelihood terms.
    public var rewardModelL2: Double
    /// Fresh pairs per prompt `>= 1`, labelled like the training pairs, on which the fitted
    /// reward model's accuracy and correlation are measured. Default 64.
    public var heldOutPairsPerPrompt: Int
    /// Monte Carlo pairs per prompt `>= 2` for the win rate when `V^T > 2^20`. Default 1024.
    public var winRateSamplesPerPrompt: Int
    /// KL strength `beta > 0`. Default 0.5.
    public var beta: Double
    /// Master seed. Default 1.
    public var seed: UInt64

    /// Creates a configuration. Nothing is checked here: call ``validate()``.
    public init(parameterisation: Parameterisation = .markov, prompts: Int = 8, vocabulary: Int = 4, length: Int = 6,
                pairsPerPrompt: Int = 16, referenceSpread: Double = 1, rewardSpread: Double = 0.5,
                rewardNoise: Double = 0, labels: SimulationConfig.Labels = .hard, proxyBias: Double = 0,
                spuriousToken: Int = 0, target: Target = .fitted, rewardModelL2: Double = 1e-2,
                heldOutPairsPerPrompt: Int = 64, winRateSamplesPerPrompt: Int = 1024,
                beta: Double = 0.5, seed: UInt64 = 1) {
        self.parameterisation = parameterisation
        self.prompts = prompts
        self.vocabulary = vocabulary
        self.length = length
        self.pairsPerPrompt = pairsPerPrompt
        self.referenceSpread = referenceSpread
        self.rewardSpread = rewardSpread
        self.rewardNoise = rewardNoise
        self.labels = labels
        self.proxyBias = proxyBias
        self.spuriousToken = spuriousToken
        self.target = target
        self.rewardModelL2 = rewardModelL2
        self.heldOutPairsPerPrompt = heldOutPairsPerPrompt
        self.winRateSamplesPerPrompt = winRateSamplesPerPrompt
        self.beta = beta
        self.seed = seed
    }

    /// `P n`, the number of training pairs.
    public var pairCount: Int { prompts * pairsPerPrompt }

    /// The largest number of pairs, or of pair tokens `2 P n T`, accepted.
    public static let maximumPairTokens = 1 << 31

    /// The state space (after ``validate()``).
    public func space() throws(ExperimentError) -> SequenceSpace {
        try SequenceSpace(prompts: prompts, length: length, vocabulary: vocabulary)
    }

    /// Checks every parameter, throwing ``ExperimentError/invalidParameter(name:value:requirement:)``
    /// that names the first bad one. Cheap; does no work.
    public func validate() throws(ExperimentError) {
        try require(prompts >= 1, "prompts P", "\(prompts)", "P >= 1")
        try require(vocabulary >= 2, "vocabulary V", "\(vocabulary)", "V >= 2")
        try require(length >= 1, "length T", "\(length)", "T >= 1")
        _ = try space()
        try require(pairsPerPrompt >= 1, "pairs per prompt n", "\(pairsPerPrompt)", "n >= 1")
        try require(heldOutPairsPerPrompt >= 1, "held-out pairs per prompt", "\(heldOutPairsPerPrompt)", "at least 1")
        for (name, count) in [("pairs P x n x 2T", pairsPerPrompt), ("held-out pairs P x n x 2T", heldOutPairsPerPrompt)] {
            let (a, o1) = prompts.multipliedReportingOverflow(by: count)
            let (b, o2) = a.multipliedReportingOverflow(by: 2 * length)
            try require(!o1 && !o2 && b <= Self.maximumPairTokens, name, "\(prompts) x \(count) x \(2 * length)",
                        "a product <= \(Self.maximumPairTokens)")
        }
        try require(winRateSamplesPerPrompt >= 2 && winRateSamplesPerPrompt <= 1 << 24, "win-rate samples per prompt",
                    "\(winRateSamplesPerPrompt)", "2 <= samples <= 16777216")
        try require(referenceSpread.isFinite && referenceSpread >= 0, "reference spread s_ref", "\(referenceSpread)", "a finite s_ref >= 0")
        try require(rewardSpread.isFinite && rewardSpread >= 0, "reward spread s_r", "\(rewardSpread)", "a finite s_r >= 0")
        try require(rewardNoise.isFinite && rewardNoise >= 0, "reward noise s_noise", "\(rewardNoise)", "a finite s_noise >= 0")
        try require(proxyBias.isFinite, "proxy bias lambda", "\(proxyBias)", "a finite number")
        try require(spuriousToken >= 0 && spuriousToken < vocabulary, "spurious token k", "\(spuriousToken)",
                    "0 <= k < V = \(vocabulary)")
        try require(rewardModelL2.isFinite && rewardModelL2 >= 0, "rm-l2", "\(rewardModelL2)", "a finite number >= 0")
        try require(beta.isFinite && beta > 0, "beta", "\(beta)", "a finite beta > 0")
    }
}

/// The independent random streams of a sequence-level run, each seeded with
/// `RandomGenerator.derivedSeed(seed, stream.rawValue)` (numbered apart from
/// ``RandomStream``'s).
public enum SequenceRandomStream: UInt64, Sendable, CaseIterable {
    /// Reference logits, one Gaussian per state and token in table order.
    case reference = 100
    /// True per-transition rewards `rho`, one Gaussian per state and token in table order.
    case reward = 101
    /// The training pairs' responses.
    case pairs = 102
    /// Label noise of the training pairs.
    case noise = 103
    /// Label draws (Bradley–Terry, and coin flips for exact ties) of the training pairs.
    case labels = 104
    /// The held-out pairs' responses.
    case heldOutPairs = 105
    /// Label noise of the held-out pairs.
    case heldOutNoise = 106
    /// Label draws of the held-out pairs.
    case heldOutLabels = 107
    /// Monte Carlo win rates (the same seed at every logged step: common random numbers).
    case winRate = 108
}
