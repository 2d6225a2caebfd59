/// The state space of the sequence-level environment, and the one flat layout shared by
/// every per-state-per-token table (logits, log-probabilities, rewards, gradients).
///
/// A response to prompt `x` is `T` tokens `y_0 ... y_{T-1}` from a vocabulary `0..<V`. The
/// state before token `t` is `s_t = (x, t, y_{t-1})`, with no previous token at `t = 0`. So
/// each prompt has one state at `t = 0` and `V` states (one per previous token) at each
/// `t >= 1`: `S = 1 + (T - 1) V` states per prompt, `P S` in all.
///
/// **State index** (global, `0..<P S`):
/// - `t = 0`: `x S`;
/// - `t >= 1`, previous token `p`: `x S + 1 + (t - 1) V + p`.
///
/// **Table entry** of state `s` and token `a`: `s V + a`, so a table has `P S V` doubles and
/// the `V` entries of a state are contiguous (a row). Token `a` taken in a state at
/// position `t < T - 1` leads to the state at `t + 1` with previous token `a`.
///
/// The `previous` of a state at `t = 0` is ``noPrevious`` (`-1`), as in the
/// `transitions.csv` columns `prompt,position,previous,token`.
///
/// See also: ``MarkovPolicy``, ``SoftBellman``, ``SequenceOccupancy``, `docs/theory.md §5.2`.
public struct SequenceSpace: Sendable, Hashable, Codable {
    /// `P`, the number of prompts (`>= 1`).
    public let prompts: Int
    /// `T`, the number of tokens in every response (`>= 1`).
    public let length: Int
    /// `V`, the vocabulary size (`>= 2`).
    public let vocabulary: Int

    /// The `previous` of a state at position 0.
    public static let noPrevious = -1

    /// A space of `prompts` prompts, responses of `length` tokens from `vocabulary` tokens.
    ///
    /// - Throws: ``ExperimentError/invalidParameter(name:value:requirement:)`` unless
    ///   `P >= 1`, `T >= 1`, `V >= 2` and the table size `P S V` is at most `2^31`.
    public init(prompts: Int, length: Int, vocabulary: Int) throws(ExperimentError) {
        try require(prompts >= 1, "prompts P", "\(prompts)", "at least 1")
        try require(length >= 1, "length T", "\(length)", "at least 1")
        try require(vocabulary >= 2, "vocabulary V", "\(vocabulary)", "at least 2")
        let (s, o1) = (length - 1).multipliedReportingOverflow(by: vocabulary)
        let (n, o2) = (s + 1).multipliedReportingOverflow(by: vocabulary)
        let (total, o3) = n.multipliedReportingOverflow(by: prompts)
        try require(!o1 && !o2 && !o3 && total <= 1 << 31, "table size P(1+(T-1)V)V", "P=\(prompts), T=\(length), V=\(vocabulary)",
                    "at most 2^31 entries")
        self.prompts = prompts
        self.length = length
        self.vocabulary = vocabulary
    }

    /// Decodes and validates like ``init(prompts:length:vocabulary:)``.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(prompts: c.decode(Int.self, forKey: .prompts), length: c.decode(Int.self, forKey: .length),
                      vocabulary: c.decode(Int.self, forKey: .vocabulary))
    }

    /// `S = 1 + (T - 1) V`, the states of one prompt.
    @inlinable public var statesPerPrompt: Int { 1 + (length - 1) * vocabulary }
    /// `P S`, all states.
    @inlinable public var stateCount: Int { prompts * statesPerPrompt }
    /// `P S V`, the length of every per-state-per-token table.
    @inlinable public var tableCount: Int { stateCount * vocabulary }

    /// The state `(x, t, previous)`; `previous` is ``noPrevious`` exactly when `t = 0`.
    @inlinable
    public func state(prompt x: Int, position t: Int, previous p: Int) -> Int {
        precondition(x >= 0 && x < prompts && t >= 0 && t < length, "state out of range")
        if t == 0 {
            precondition(p == Self.noPrevious, "position 0 has no previous token")
            return x * statesPerPrompt
        }
        precondition(p >= 0 && p < vocabulary, "previous token out of range")
        return x * statesPerPrompt + 1 + (t - 1) * vocabulary + p
    }

    /// The state before token `t` of `tokens` (a response of prompt `x`, at least `t` tokens).
    @inlinable
    public func state<C: RandomAccessCollection>(prompt x: Int, position t: Int, of tokens: C) -> Int
    where C.Element == Int, C.Index == Int {
        t == 0 ? state(prompt: x, position: 0, previous: Self.noPrevious)
               : state(prompt: x, position: t, previous: tokens[tokens.startIndex + t - 1])
    }

    /// The first state of prompt `x`'s states at position `t` (`t >= 1`: `V` consecutive
    /// states, previous token `0..<V`; `t = 0`: the single start state).
    @inlinable
    public func firstState(prompt x: Int, position t: Int) -> Int {
        x * statesPerPrompt + (t == 0 ? 0 : 1 + (t - 1) * vocabulary)
    }

    /// The number of states of one prompt at position `t`: 1 at `t = 0`, else `V`.
    @inlinable
    public func stateCount(atPosition t: Int) -> Int { t == 0 ? 1 : vocabulary }

    /// The table entry of token `a` in state `s`: `s V + a`.
    @inlinable
    public func entry(state s: Int, token a: Int) -> Int { s * vocabulary + a }

    /// `(prompt, position, previous)` of a state index (`previous = -1` at position 0).
    public func components(ofState s: Int) -> (prompt: Int, position: Int, previous: Int) {
        precondition(s >= 0 && s < stateCount, "state index out of range")
        let x = s / statesPerPrompt
        let local = s - x * statesPerPrompt
        if local == 0 { return (x, 0, Self.noPrevious) }
        let (q, p) = (local - 1).quotientAndRemainder(dividingBy: vocabulary)
        return (x, q + 1, p)
    }

    /// The table `f(s, a) = [a = k]`: its path sum is the number of occurrences of token `k`
    /// in a response, so `rho + lambda * tokenIndicator(k)` is the proxy reward
    /// `r~ = r + lambda #{t : y_t = k}` (`docs/theory.md §5.2`).
    public func tokenIndicator(_ k: Int) -> [Double] {
        precondition(k >= 0 && k < vocabulary, "token out of range")
        return (0..<tableCount).map { $0 % vocabulary == k ? 1 : 0 }
    }

    /// `V^T` when it is at most `limit`, else `nil`: the number of responses per prompt.
    public func responseCount(atMost limit: Int) -> Int? {
        var n = 1
        for _ in 0..<length {
            let (m, o) = n.multipliedReportingOverflow(by: vocabulary)
            if o || m > limit { return nil }
            n = m
        }
        return n
    }
}

/// A batch of responses: response `i` answers prompt `prompts[i]` with the tokens
/// `tokens[i T ..< (i + 1) T]` (one flat, contiguous array).
///
/// See also: ``SequenceSpace``, ``MarkovPolicy/sample(prompts:generator:)``.
public struct ResponseBatch: Sendable, Hashable {
    /// `T`.
    public let length: Int
    /// The prompt of each response.
    public private(set) var prompts: [Int]
    /// The tokens, `count * T`, response after response.
    public private(set) var tokens: [Int]

    /// An empty batch of responses of `length` tokens.
    public init(length: Int) {
        precondition(length >= 1)
        self.length = length
        prompts = []
        tokens = []
    }

    /// A batch from flat arrays; `tokens.count` must be `prompts.count * length`.
    public init(length: Int, prompts: [Int], tokens: [Int]) {
        precondition(length >= 1 && tokens.count == prompts.count * length, "tokens must hold T per prompt")
        self.length = length
        self.prompts = prompts
        self.tokens = tokens
    }

    /// The number of responses.
    @inlinable public var count: Int { prompts.count }

    /// The tokens of response `i`.
    @inlinable
    public func response(_ i: Int) -> ArraySlice<Int> { tokens[(i * length)..<((i + 1) * length)] }

    /// Appends a response of `T` tokens to prompt `x`.
    public mutating func append<C: Collection>(prompt x: Int, tokens y: C) where C.Element == Int {
        precondition(y.count == length, "a response has T tokens")
        prompts.append(x)
        tokens.append(contentsOf: y)
    }

    /// Checks every prompt and token against `space`.
    public func isValid(in space: SequenceSpace) -> Bool {
        length == space.length && prompts.allSatisfy { $0 >= 0 && $0 < space.prompts }
            && tokens.allSatisfy { $0 >= 0 && $0 < space.vocabulary }
    }
}
