import LossMath

/// A study's grid (`docs/theory.md §6`): cells (policy x beta x proxy bias x reward noise),
/// `S` seeds per cell, every ``StudyArm`` on each seed's data. The policy is sequence level
/// (markov, shared) or one of the tabular trainer's (tabular, loglinear; ``StudyPolicy``);
/// the latter have no proxy reward, so their cells take proxy bias 0 only.
///
/// **Units.** The unit of work is one (cell, seed): one environment (pairs, labels, fitted
/// reward model) and every arm trained on it, so every comparison is paired by seed. Units
/// are numbered in mixed radix over (policy, beta, proxy bias, noise, seed), the seed
/// fastest; ``shard(index:count:)`` takes every `count`-th unit from `index`, so the shards
/// of a study partition its units whatever their number.
///
/// **Defaults** (the study that answers the paper's question fairly, and its cost; see the
/// README): `shared` policy, `beta = 0.5`, proxy bias 0 and 1, no label noise, 10 seeds;
/// `P = 8`, `V = 4`, `T = 6` (`V^T = 4096`: exact win rates), `n = 16`; Adam, learning rate
/// 0.05, 600 steps, metrics every 25 steps. (`T = 8` costs about 20 times more: each logged
/// step's exact win rate enumerates `V^T` responses per prompt.)
///
/// See also: ``StudyRunner``, ``StudyArm``, ``SequenceConfig``.
public struct StudySpec: Sendable, Hashable {
    /// One cell of the grid.
    public struct Cell: Sendable, Hashable {
        public var policy: StudyPolicy
        public var beta: Double
        public var proxyBias: Double
        public var rewardNoise: Double

        public init(policy: StudyPolicy, beta: Double, proxyBias: Double, rewardNoise: Double) {
            self.policy = policy
            self.beta = beta
            self.proxyBias = proxyBias
            self.rewardNoise = rewardNoise
        }
    }

    /// One unit of work: a cell and a seed, with its number in the grid.
    public struct Unit: Sendable, Hashable {
        public var id: Int
        public var cell: Cell
        public var seed: UInt64
    }

    public var policies: [StudyPolicy]
    public var betas: [Double]
    public var proxyBiases: [Double]
    public var rewardNoises: [Double]
    /// Seeds `1...seeds`.
    public var seeds: Int
    /// Everything else of the environment (P, V, T, n, spreads, labels, spurious token,
    /// reward-model L2, win-rate samples); its policy, beta, proxy bias, noise, target and
    /// seed are replaced per unit (the target is always ``SequenceConfig/Target/fitted``).
    public var base: SequenceConfig
    /// The optimiser settings of every arm (its loss is set per arm; full batch).
    public var training: TrainingConfig
    /// The tabular and log-linear cells' environment: its responses `K`, features `d`,
    /// spreads and labels (``defaultTabularBase``); its prompts `P` and pairs per prompt
    /// `n` are ``base``'s, and its policy, beta, reward noise and seed are set per unit.
    /// The reward model fitted for these cells uses ``base``'s `rewardModelL2`.
    public var tabularBase: SimulationConfig

    public init(policies: [StudyPolicy] = [.shared], betas: [Double] = [0.5],
                proxyBiases: [Double] = [0, 1], rewardNoises: [Double] = [0], seeds: Int = 10,
                base: SequenceConfig = StudySpec.defaultBase, training: TrainingConfig = StudySpec.defaultTraining,
                tabularBase: SimulationConfig = StudySpec.defaultTabularBase) {
        self.policies = policies
        self.betas = betas
        self.proxyBiases = proxyBiases
        self.rewardNoises = rewardNoises
        self.seeds = seeds
        self.base = base
        self.training = training
        self.tabularBase = tabularBase
    }

    /// The default environment: `P = 8`, `V = 4`, `T = 6`, `n = 16`, fitted target.
    public static let defaultBase = SequenceConfig(parameterisation: .shared, prompts: 8, vocabulary: 4, length: 6,
                                                   pairsPerPrompt: 16, target: .fitted)
    /// The default training: Adam, learning rate 0.05, 600 steps, metrics every 25 steps.
    public static let defaultTraining = TrainingConfig(loss: .sigmoid, optimizer: .adam, learningRate: 0.05,
                                                       steps: 600, logEvery: 25)

    /// The tabular and log-linear cells' default environment: `K = 8` responses, `d = 4`
    /// features, `s_ref = s_r = 1`, hard labels, pairs from `pi_ref` (P and n are ``base``'s:
    /// 8 and 16 of the 28 distinct pairs by default).
    public static let defaultTabularBase = SimulationConfig(prompts: 8, responses: 8, pairsPerPrompt: 16, features: 4)

    /// The proxy biases of `policy`'s cells: ``proxyBiases`` for a sequence-level policy,
    /// `[0]` for the tabular and log-linear ones (no proxy reward).
    public func proxyBiases(for policy: StudyPolicy) -> [Double] { policy.hasProxy ? proxyBiases : [0] }

    /// The cells in grid order (policy, beta, proxy bias, noise; the last fastest). A
    /// tabular or log-linear policy has proxy bias 0 only.
    public var cells: [Cell] {
        var out: [Cell] = []
        for p in policies { for b in betas { for l in proxyBiases(for: p) { for s in rewardNoises {
            out.append(Cell(policy: p, beta: b, proxyBias: l, rewardNoise: s))
        } } } }
        return out
    }

    /// Every unit, in id order.
    public var units: [Unit] {
        var out: [Unit] = []
        for (c, cell) in cells.enumerated() {
            for s in 1...Swift.max(1, seeds) { out.append(Unit(id: c * seeds + s - 1, cell: cell, seed: UInt64(s))) }
        }
        return out
    }

    /// The units of shard `index` of `count`: ids `index, index + count, ...`.
    public func shard(index: Int, count: Int) -> [Unit] {
        units.filter { $0.id % count == index }
    }

    /// The environment configuration of a sequence-level `unit` (its policy must be markov
    /// or shared).
    public func environmentConfig(_ unit: Unit) -> SequenceConfig {
        var c = base
        c.parameterisation = unit.cell.policy.sequence ?? .shared
        c.beta = unit.cell.beta
        c.proxyBias = unit.cell.proxyBias
        c.rewardNoise = unit.cell.rewardNoise
        c.target = .fitted
        c.seed = unit.seed
        return c
    }

    /// The environment configuration of a tabular or log-linear `unit`: ``tabularBase``
    /// with ``base``'s prompts and pairs per prompt, and the unit's policy, beta, reward
    /// noise (`r_hat = r + N(0, s^2)` per response) and seed.
    public func tabularConfig(_ unit: Unit) -> SimulationConfig {
        var c = tabularBase
        c.policy = unit.cell.policy.simulation ?? .tabular
        c.prompts = base.prompts
        c.pairsPerPrompt = base.pairsPerPrompt
        c.beta = unit.cell.beta
        c.rewardNoise = unit.cell.rewardNoise
        c.seed = unit.seed
        return c
    }

    /// The training configuration of `arm` (the environment's gaps, replaced per arm).
    public func trainingConfig(_ arm: StudyArm) -> TrainingConfig {
        var t = training
        t.loss = arm.loss
        t.target = .rewardModel
        t.batchSize = nil
        return t
    }

    /// Checks every axis and every unit's configurations without generating anything,
    /// naming the first bad value.
    public func validate() throws(ExperimentError) {
        try require(!policies.isEmpty, "policies", "none", "at least one")
        try require(!betas.isEmpty, "betas", "none", "at least one")
        try require(!proxyBiases.isEmpty, "proxy biases", "none", "at least one")
        try require(!rewardNoises.isEmpty, "reward noises", "none", "at least one")
        try require(seeds >= 2 && seeds <= 100_000, "seeds", "\(seeds)", "2 <= seeds <= 100000 (a paired interval needs two)")
        for cell in cells {
            if cell.policy.sequence == nil {
                let config = tabularConfig(Unit(id: 0, cell: cell, seed: 1))
                try config.validate()
                for arm in StudyArm.allCases { try trainingConfig(arm).validate(for: config) }
                continue
            }
            let config = environmentConfig(Unit(id: 0, cell: cell, seed: 1))
            try config.validate()
            let standIn = SimulationConfig(prompts: config.prompts, responses: 2, pairsPerPrompt: config.pairsPerPrompt,
                                           rewardSpread: 1, rewardNoise: 0, beta: config.beta)
            for arm in StudyArm.allCases { try trainingConfig(arm).validate(for: standIn) }
        }
    }
}
