import LossMath

/// The simulated environment of docs/theory.md §5: prompts, candidate
/// responses, a reference policy, a true reward, a reward model and a fixed offline set of
/// labelled preference pairs.
///
/// Every random quantity is drawn from GSL's MT19937 (``GSLKit/RandomGenerator``) on its own
/// stream, derived from ``seed`` by ``GSLKit/RandomGenerator/derivedSeed(_:_:)`` (see
/// ``RandomStream``). So changing, say, the reward noise leaves the reference, the rewards and
/// the sampled pairs unchanged, and runs that differ only in `beta` or in the loss train on
/// exactly the same data.
///
/// **The default problem** (the initialiser with no arguments): tabular, `P = 8` prompts,
/// `K = 6` responses, `n = 6` of the 15 distinct pairs per prompt drawn from `pi_ref`,
/// `s_ref = s_r = 1`, no reward-model noise, hard labels, `beta = 0.5`, seed 1. With
/// ``TrainingConfig``'s defaults (Adam, lr 0.05, 2000 full-batch steps) it shows the paper's
/// point with no options: DPO (`sigmoid`) ends at regret 0.431 with min `log pi_l` still
/// falling (-23.6, -31.8, -37.2, -41.3 at steps 500..2000), while `spo` ends at regret
/// 0.0046 with every pair at `h* = dr/beta` (mean `|h - h*|` ~ 3e-16). spo's remaining regret
/// is the mass it cannot place: responses in no pair, or in a different connected group of
/// pairs, keep their reference log-ratio. Each run takes ~5 ms in a release build.
///
/// See also: ``Environment``, ``TrainingConfig``, ``validate()``.
public struct SimulationConfig: Sendable, Hashable, Codable {

    /// The policy family.
    public enum Policy: String, Sendable, Hashable, Codable, CaseIterable {
        /// One free logit per (prompt, response); `pi(.|x) = softmax(theta_x)`.
        case tabular
        /// `pi(y|x)` proportional to `exp(phi(x, y) . theta)` with one `theta` in `R^d`
        /// shared by all prompts.
        case loglinear
    }

    /// How each pair's chosen/rejected order is decided.
    public enum Labels: String, Sendable, Hashable, Codable, CaseIterable {
        /// Bradley–Terry sampling: `P(a preferred to b) = sigma(r_hat(a) - r_hat(b))`.
        case bt
        /// Deterministic: the response with the larger reward-model score `r_hat` is chosen.
        case hard
    }

    /// How the responses of a pair are drawn.
    public enum PairSampling: String, Sendable, Hashable, Codable, CaseIterable {
        /// Offline data from the SFT model: both responses drawn from `pi_ref`,
        /// conditioned on being distinct and on the pair being new for the prompt.
        case fromReference = "reference"
        /// Every distinct unordered pair equally likely.
        case uniform
    }

    /// Policy family. Default `.tabular`.
    public var policy: Policy
    /// Number of prompts `P >= 1`.
    public var prompts: Int
    /// Candidate responses per prompt `K >= 2`.
    public var responses: Int
    /// Distinct unordered pairs per prompt, `1 <= n <= K(K-1)/2`.
    public var pairsPerPrompt: Int
    /// Feature dimension `d >= 1` (log-linear policy only; ignored for tabular).
    public var features: Int
    /// Spread `s_ref >= 0` of the reference logits (their standard deviation).
    public var referenceSpread: Double
    /// Spread `s_r >= 0` of the true rewards (their standard deviation).
    public var rewardSpread: Double
    /// Reward-model noise `s_noise >= 0`: `r_hat = r + N(0, s_noise^2)`, one score per response.
    public var rewardNoise: Double
    /// Label model. Default `.hard`.
    public var labels: Labels
    /// Pair sampling. Default `.fromReference`.
    public var pairSampling: PairSampling
    /// KL strength `beta > 0`; sets `pi*` and `h* = dr/beta`.
    public var beta: Double
    /// Master seed; every stream is derived from it.
    public var seed: UInt64

    /// Creates a configuration. Nothing is checked here: call ``validate()``.
    public init(policy: Policy = .tabular, prompts: Int = 8, responses: Int = 6,
                pairsPerPrompt: Int = 6, features: Int = 4,
                referenceSpread: Double = 1, rewardSpread: Double = 1, rewardNoise: Double = 0,
                labels: Labels = .hard, pairSampling: PairSampling = .fromReference,
                beta: Double = 0.5, seed: UInt64 = 1) {
        self.policy = policy
        self.prompts = prompts
        self.responses = responses
        self.pairsPerPrompt = pairsPerPrompt
        self.features = features
        self.referenceSpread = referenceSpread
        self.rewardSpread = rewardSpread
        self.rewardNoise = rewardNoise
        self.labels = labels
        self.pairSampling = pairSampling
        self.beta = beta
        self.seed = seed
    }

    /// The number of distinct unordered pairs of `K` responses, `K(K-1)/2`.
    public static func distinctPairs(responses k: Int) -> Int { k >= 2 ? k * (k - 1) / 2 : 0 }

    /// Total number of training pairs, `P * n`.
    public var pairCount: Int { prompts * pairsPerPrompt }

    /// Number of trainable parameters: `P*K` (tabular) or `d` (log-linear).
    public var parameterCount: Int { policy.family.parameterCount(self) }

    /// The largest `P*K*d` (log-linear), `P*K` or `P*n` accepted, so buffers stay addressable and
    /// a typo such as `--prompts 1e9` fails fast instead of exhausting memory.
    public static let maximumCells = 1 << 31

    /// Checks every parameter, throwing ``ExperimentError/invalidParameter(name:value:requirement:)``
    /// that names the first bad one. Cheap; does no work.
    public func validate() throws(ExperimentError) {
        try require(prompts >= 1, "prompts P", "\(prompts)", "P >= 1")
        try require(responses >= 2, "responses K", "\(responses)", "K >= 2 (a pair needs two distinct responses)")
        try require(responses <= 1 << 20, "responses K", "\(responses)", "K <= 1048576")
        let maxPairs = Self.distinctPairs(responses: responses)
        try require(pairsPerPrompt >= 1, "pairs per prompt n", "\(pairsPerPrompt)", "n >= 1")
        try require(pairsPerPrompt <= maxPairs, "pairs per prompt n", "\(pairsPerPrompt)",
                    "n <= K(K-1)/2 = \(maxPairs), the number of distinct pairs of K = \(responses) responses")
        if policy == .loglinear {
            try require(features >= 1, "features d", "\(features)", "d >= 1 for the log-linear policy")
        }
        let (cells, overflow) = prompts.multipliedReportingOverflow(by: responses)
        let (cellsD, overflowD) = cells.multipliedReportingOverflow(by: policy == .loglinear ? Swift.max(features, 1) : 1)
        try require(!overflow && !overflowD && cellsD <= Self.maximumCells, "prompts P x responses K" + (policy == .loglinear ? " x features d" : ""),
                    "\(prompts) x \(responses)" + (policy == .loglinear ? " x \(features)" : ""), "a product <= \(Self.maximumCells)")
        let (pairTotal, pairOverflow) = prompts.multipliedReportingOverflow(by: pairsPerPrompt)
        try require(!pairOverflow && pairTotal <= Self.maximumCells, "pairs P x n", "\(prompts) x \(pairsPerPrompt)",
                    "a product <= \(Self.maximumCells)")
        try require(referenceSpread.isFinite && referenceSpread >= 0, "reference spread s_ref", "\(referenceSpread)", "a finite s_ref >= 0")
        try require(rewardSpread.isFinite && rewardSpread >= 0, "reward spread s_r", "\(rewardSpread)", "a finite s_r >= 0")
        try require(rewardNoise.isFinite && rewardNoise >= 0, "reward noise s_noise", "\(rewardNoise)", "a finite s_noise >= 0")
        try require(beta.isFinite && beta > 0, "beta", "\(beta)", "a finite beta > 0")
    }
}

/// The independent random streams of one run, each seeded with
/// `RandomGenerator.derivedSeed(seed, stream.rawValue)`.
public enum RandomStream: UInt64, Sendable, CaseIterable {
    /// Reference logits (tabular) or `theta_ref` (log-linear).
    case reference = 0
    /// True rewards (tabular) or `w*` (log-linear).
    case reward = 1
    /// Reward-model noise.
    case rewardNoise = 2
    /// Which pairs each prompt gets.
    case pairs = 3
    /// Bradley–Terry label draws.
    case labels = 4
    /// Log-linear features.
    case features = 5
    /// The trainer's minibatch shuffles.
    case shuffle = 6
}
