import LossMath

// The roofline model of `report bench`: operation counts per item and the measured machine
// peaks they are divided by. Each loss type states its own operation counts
// (`PreferenceLoss.rooflineOps` and `rooflineGradientOps` in LossMath); `kernelOps` and
// `trainerOps` read them.

/// Operation counts of one loss evaluation (value and gradient), for the roofline model; nil
/// for the losses built on polynomials and several selected branches (exo_pair's and
/// rpo_*'s Bernoulli KL, discopop, spo_bt, apo_down), which the model does not count.
struct OpCount {
    /// Elementary's vectorised functions, and lanes of vectorised divisions and square roots
    /// (every loop the model counts vectorises).
    var exp = 0.0, log1p = 0.0, log = 0.0, expm1 = 0.0, div = 0.0, sqrt = 0.0
    /// Additions, subtractions, multiplications and selects (maxima) in vectorised loops, and
    /// the same in scalar code (the trainer's scatter of the pairs' derivatives). Counted for
    /// the trainer only; the kernels' model leaves them out.
    var flop = 0.0, scalarFlop = 0.0
    /// Bytes moved per item (read + written, no write-allocate, as STREAM counts).
    var bytes = 0.0
    var text: String {
        var parts: [String] = []
        if exp > 0 { parts.append("\(g3(exp)) exp") }
        if log1p > 0 { parts.append("\(g3(log1p)) log1p") }
        if log > 0 { parts.append("\(g3(log)) log") }
        if expm1 > 0 { parts.append("\(g3(expm1)) expm1") }
        if div > 0 { parts.append("\(g3(div)) div") }
        if sqrt > 0 { parts.append("\(g3(sqrt)) sqrt") }
        if flop > 0 { parts.append("\(g3(flop)) flop") }
        if scalarFlop > 0 { parts.append("\(g3(scalarFlop)) scalar flop") }
        parts.append("\(g3(bytes)) B")
        return parts.joined(separator: " + ")
    }
}

struct Peaks {
    var bandwidth: Double       // bytes/s
    var exp: Double, log1p: Double, log: Double, expm1: Double, div: Double, sqrt: Double   // per second
    /// Vectorised additions and multiplications, and scalar ones, per second (infinite when
    /// not measured: then they cost nothing in the model).
    var flop: Double = .infinity, scalarFlop: Double = .infinity
    /// Roofline time per item: max(compute, memory), compute = sum count/peak (compute and
    /// memory traffic overlap perfectly).
    func seconds(_ c: OpCount) -> Double {
        Swift.max(compute(c), c.bytes / bandwidth)
    }
    /// The same without overlap: compute + memory. Where the two are about equal (the
    /// transcendental kernels here) the truth lies between the two models.
    func secondsWithoutOverlap(_ c: OpCount) -> Double {
        compute(c) + c.bytes / bandwidth
    }
    func compute(_ c: OpCount) -> Double {
        c.exp / exp + c.log1p / log1p + c.log / log + c.expm1 / expm1 + c.div / div + c.sqrt / sqrt
            + c.flop / flop + c.scalarFlop / scalarFlop
    }
}

extension BenchRunner {
    // MARK: Loss kernels' op table

    /// Operation counts of the batch kernels' value-and-gradient path (each loss type in Sources/LossMath/Losses/),
    /// after common subexpressions are merged (`exp(-|x|)` of a sigmoid and of its density
    /// is one exponential). Divisions by loop-invariant parameters (1/(2 beta),
    /// 1/(1 - 2 eps)) are hoisted by the compiler and not counted. Bytes: 4 log-probabilities
    /// and the gap read, value and two derivatives written: 64 B per pair.
    static func kernelOps(_ loss: Loss) -> OpCount? {
        let io = 64.0
        // Each loss states its counts (PreferenceLoss.rooflineOps); nil when not modelled.
        return loss.rooflineOps.map { OpCount(exp: $0.exp, log1p: $0.log1p, log: $0.log, expm1: $0.expm1, div: $0.div, sqrt: $0.sqrt, bytes: io) }
    }

    /// The roofline count of one pair-update of the fused full-batch Adam step with DPO or
    /// spo, per pair, with `r = K/n` cells and `1/n` prompts per pair:
    /// - per cell: one exp (the softmax; the gradient's pi is its exponential times the row's
    ///   reciprocal), Adam's one division and one square root (its constants folded,
    ///   Experiments' `adamRowFolded`);
    /// - per prompt: one log (the log-sum-exp) and one division (the reciprocal of the sum);
    /// - per pair: the kernel's derivative (sigmoid: one exp and one division; spo: none);
    /// - per step: two expm1 (Adam's bias corrections), over `P n` pairs;
    /// - every `L` steps, the metrics: the full pass with values (one exp per cell, one log per
    ///   prompt and one division, the kernel's value and gradient per pair: sigmoid one exp,
    ///   log1p and division), one more exp per cell for the KLs, one log10 (counted as a log)
    ///   per pair.
    /// - additions, subtractions, multiplications and selects of the step (`flop`, in vectorised
    ///   loops), read off the code: per cell 18 (the softmax: the row maximum, `z - max`, the sum,
    ///   `z - lse`, `e / sum`; the gradient row's `g - s pi`, two; Adam's folded update, eleven:
    ///   `b1 m + (1 - b1) g`, `b2 v + (1 - b2) g g`, `a m`, `v c`, `+ eps`, `theta -`), per pair
    ///   6 (the gathered log-ratios' two subtractions, the finiteness check's `dw^2 + dl^2`
    ///   accumulated) plus the kernel's own (`rooflineGradientOps.flop`: 5 for DPO and spo);
    ///   and in scalar code (`scalarFlop`) per pair 7, the scatter of the derivatives into the
    ///   gradient rows (`scale w`, `w dw`, `w dl`, two scatter-adds, `s += a + b`), and per
    ///   prompt 1 (`max + log sum`). The metrics' additions and multiplications are not counted.
    /// Every counted operation runs in a vectorised loop except the per-prompt logs and the
    /// scalar flops.
    /// Bytes: the steps between two logged ones run as one temporally blocked window
    /// (Experiments' TemporalBlocking.swift), so memory is streamed once per `L` steps, not
    /// once per step: per window 88 bytes per cell (theta, m, v read and written, their copy
    /// aside written, the reference read, log pi written) and 32 per pair (chosen, rejected,
    /// gap, weight), and per logged step's metrics about 80 per cell and 48 per pair. None when
    /// everything stays in cache (the default problem's working set is 2.3 KB). Before
    /// blocking it was 64 per cell and 32 per pair at every step.
    static func trainerOps(loss: Loss, P: Int, K: Int, n: Int, logEvery L: Int, inCache: Bool) -> OpCount? {
        let r = Double(K) / Double(n), l = Double(L), perPrompt = 1 / Double(n)
        // The step runs the loss's derivative-only kernel, the metrics its full kernel.
        guard let step = loss.rooflineGradientOps, let full = loss.rooflineOps else { return nil }
        return OpCount(exp: r + step.exp + (2 * r + full.exp) / l,
                       log1p: full.log1p / l,
                       log: perPrompt + (perPrompt + 1) / l,
                       expm1: 2 / (Double(P) * Double(n)),
                       div: step.div + full.div / l + r + perPrompt * (1 + 1 / l),
                       sqrt: r,
                       flop: 18 * r + 6 + step.flop,
                       scalarFlop: 7 + perPrompt,
                       bytes: inCache ? 0 : (r * (88 + 80) + 32 + 48) / l)
    }
}
