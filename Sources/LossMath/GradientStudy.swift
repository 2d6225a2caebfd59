import GSLKit
import RealModule

/// The gradient study behind `report gradients` (T6, T7, T8): hold the chosen response
/// fixed, sweep the rejected response's probability toward 0 on a log-spaced grid, and
/// look at each loss's probability-space gradient `dl/dpi_l`.
public struct GradientStudy: Sendable {
    /// The sweep's inputs. Probabilities are given as log10 so that the sweep can go far
    /// below the double range (1e-400 is an ordinary sequence probability).
    public struct Configuration: Sendable, Equatable {
        public var parameters: LossParameters
        /// Per-loss replacements of `parameters` (e.g. exo_pair's label smoothing).
        public var parameterOverrides: [Loss: LossParameters] = [:]
        /// log pi(y_w), held fixed.
        public var logpChosen: Double
        /// log pi_ref(y_w) and log pi_ref(y_l).
        public var refChosen: Double
        public var refRejected: Double
        /// The sweep runs log10 pi_l from `log10Start` down to `log10End` (start > end).
        public var log10Start: Double
        public var log10End: Double
        public var points: Int
        /// The slope is fitted on the points with log10 pi_l below
        /// `log10Start + tailFraction * (log10End - log10Start)`: the far tail.
        public var tailFraction: Double

        public init(parameters: LossParameters, logpChosen: Double = -2.302_585_092_994_045_7,
                    refChosen: Double = -2.302_585_092_994_045_7, refRejected: Double = -2.302_585_092_994_045_7,
                    log10Start: Double = -1, log10End: Double = -400, points: Int = 120,
                    tailFraction: Double = 0.5) {
            self.parameters = parameters
            self.logpChosen = logpChosen
            self.refChosen = refChosen
            self.refRejected = refRejected
            self.log10Start = log10Start
            self.log10End = log10End
            self.points = points
            self.tailFraction = tailFraction
        }

        /// The parameters used for `loss`.
        public func parameters(for loss: Loss) -> LossParameters {
            parameterOverrides[loss] ?? parameters
        }

        /// The log10 pi_l grid, from start to end inclusive.
        public var log10Grid: [Double] { (0..<points).map(log10Probability(at:)) }

        /// Point `i` of ``log10Grid`` (0 is `log10Start`, `points - 1` is `log10End`),
        /// computed alone so that a sweep of a million points need not hold the grid.
        public func log10Probability(at i: Int) -> Double {
            if points == 1 { return log10Start }
            return log10Start + (log10End - log10Start) * Double(i) / Double(points - 1)
        }
    }

    /// One point of the sweep for one loss.
    public struct Row: Sendable, Equatable {
        public let loss: Loss
        public let pair: PairLogProbs
        public let h: Double
        public let evaluation: LossEvaluation
        public let gradients: ProbabilityGradients
    }

    /// What happens to pi_l at the far end of the sweep under gradient descent.
    public enum Direction: String, Sendable {
        /// `dl/dpi_l > 0`: a descent step lowers pi_l further.
        case collapse
        /// `dl/dpi_l < 0`: a descent step raises pi_l back.
        case restoring
        /// `dl/dpi_l == 0` (exactly, or below the double range).
        case none
    }

    /// The per-loss summary.
    public struct Summary: Sendable {
        public let loss: Loss
        /// Least-squares (GSL) slope of log10|dl/dpi_l| against log10 pi_l on the tail,
        /// with its standard error; `nil` when fewer than two tail points have a nonzero
        /// gradient (see ``missingSlopeReason``).
        public let slope: Double?
        public let slopeStandardError: Double?
        /// DPO's theoretical slope `beta - 1` (T7), for comparison.
        public let direction: Direction
        public let stationary: StationaryPoints
        /// log10(|dl_DPO/dpi_l| / |dl/dpi_l|) at the smallest pi_l; `nil` when this loss's
        /// gradient is exactly zero there.
        public let log10DPOOverLossAtEnd: Double?
        /// log10 of the largest collapse force `max(0, dl/dpi_l)` over the sweep (T8);
        /// `nil` when the loss never pushes pi_l down on the sweep.
        public let log10MaxCollapseForce: Double?
        /// log10 of the collapse force at the smallest pi_l; `nil` when it is 0 there.
        public let log10CollapseForceAtEnd: Double?
        /// Grid points in the tail (`log10 pi_l` below the cut), whatever their gradient.
        public let tailPoints: Int
        /// Those of them with a nonzero gradient: the points the slope is fitted on.
        public let fittedTailPoints: Int

        /// Why ``slope`` is `nil`, in words (`nil` when there is a slope): `(zero)` when the
        /// gradient is exactly 0 on a tail of at least two points, else `(no fit: n point(s))`
        /// when fewer than two points can be fitted (`--points 2` leaves one tail point).
        public var missingSlopeReason: String? {
            guard slope == nil else { return nil }
            if tailPoints >= 2 && fittedTailPoints == 0 { return "(zero)" }
            return "(no fit: \(fittedTailPoints) point\(fittedTailPoints == 1 ? "" : "s"))"
        }
    }

    public let configuration: Configuration
    public let losses: [Loss]
    public let summaries: [Summary]

    /// Every row, ordered by loss (in `losses` order), then by decreasing pi_l. Computed on
    /// each access (`points x losses` rows): a large sweep streams with ``forEachRow(of:_:)``.
    public var rows: [Row] {
        var out: [Row] = []
        out.reserveCapacity(configuration.points * losses.count)
        for loss in losses { forEachRow(of: loss) { out.append($0) } }
        return out
    }

    static let ln10 = 2.302_585_092_994_045_7

    /// The row of `loss` at grid point `i` (see ``Configuration/log10Probability(at:)``).
    public func row(_ loss: Loss, at i: Int) -> Row {
        Self.row(loss, at: i, configuration, configuration.parameters(for: loss))
    }

    static func row(_ loss: Loss, at i: Int, _ c: Configuration, _ p: LossParameters) -> Row {
        let pair = PairLogProbs(chosen: c.logpChosen, rejected: c.log10Probability(at: i) * ln10,
                                refChosen: c.refChosen, refRejected: c.refRejected)
        let e = loss.evaluate(pair, p)
        return Row(loss: loss, pair: pair, h: pair.logitsDifference, evaluation: e,
                   gradients: ProbabilityGradients(loss: loss, pair: pair, parameters: p, evaluation: e))
    }

    /// Calls `body` with each row of `loss`, by decreasing pi_l, one at a time: memory does
    /// not grow with the number of points.
    public func forEachRow(of loss: Loss, _ body: (Row) throws -> Void) rethrows {
        let p = configuration.parameters(for: loss)
        for i in 0..<configuration.points { try body(Self.row(loss, at: i, configuration, p)) }
    }

    /// 1 when every coordinate is at most 2^400 in magnitude, else `2^-e` with `2^e` the
    /// largest magnitude's binade: the scale that keeps the fit's sums of squares finite.
    static func fitScale(_ x: [Double], _ y: [Double]) -> Double {
        var m = 0.0
        for v in x { m = Swift.max(m, Swift.abs(v)) }
        for v in y { m = Swift.max(m, Swift.abs(v)) }
        guard m.isFinite, m > 0x1p400 else { return 1 }
        return Double(sign: .plus, exponent: -m.exponent, significand: 1)
    }

    /// Runs the sweep: the per-loss summaries, computed point by point. Memory: the slope
    /// fit keeps the tail's (x, y) of one loss at a time (16 bytes per tail point); the rows
    /// themselves are recomputed on demand (``rows``, ``forEachRow(of:_:)``).
    ///
    /// - Throws: ``LossMathError`` for invalid parameters (checked for every loss first,
    ///   before any work), ``GSLKit/GSLError`` from GSL's fit or root finder.
    public init(configuration c: Configuration, losses: [Loss]) throws {
        precondition(c.points >= 2 || c.points == 1)
        for loss in losses { try loss.validate(c.parameters(for: loss)) }
        self.configuration = c
        self.losses = losses
        let ln10 = Self.ln10
        let n = c.points

        // DPO's gradient at the far end, for the ratio column.
        let endPair = PairLogProbs(chosen: c.logpChosen, rejected: c.log10Probability(at: n - 1) * ln10,
                                   refChosen: c.refChosen, refRejected: c.refRejected)
        let dpoEnd = ProbabilityGradients(loss: .sigmoid, pair: endPair, parameters: c.parameters).rejected

        let cut = c.log10Start + c.tailFraction * (c.log10End - c.log10Start)
        var summaries: [Summary] = []
        for loss in losses {
            let p = c.parameters(for: loss)
            var tailX: [Double] = [], tailY: [Double] = []
            var maxForce: Double? = nil
            var lastRow: Row? = nil
            var tailPoints = 0
            for i in 0..<n {
                let r = Self.row(loss, at: i, c, p)
                if r.pair.rejected / ln10 <= cut { tailPoints += 1 }
                if r.pair.rejected / ln10 <= cut && !r.gradients.rejected.isZero {
                    tailX.append(r.pair.rejected / ln10)
                    tailY.append(r.gradients.rejected.log10Magnitude)
                }
                if !r.gradients.collapseForce.isZero {
                    let f = r.gradients.collapseForce.log10Magnitude
                    maxForce = Swift.max(maxForce ?? f, f)
                }
                lastRow = r
            }
            var slope: Double? = nil, se: Double? = nil
            if tailX.count >= 2 {
                // Far out (--log10-end -3.9e307) the squares of the coordinates overflow in
                // the fit and the slope was NaN. Both coordinates are then multiplied by the
                // same power of two: every operation of the fit scales exactly, so the slope
                // and its variance are those of the unscaled data. (Not needed, and not done,
                // below 2^400: the sweeps that fitted before keep their bits.)
                let scale = Self.fitScale(tailX, tailY)
                let fit = scale == 1 ? try LinearFit(x: tailX, y: tailY)
                    : try LinearFit(x: tailX.map { $0 * scale }, y: tailY.map { $0 * scale })
                if fit.slope.isFinite {
                    slope = fit.slope
                    se = fit.slopeVariance.squareRoot()  // NaN with 2 points (no residual freedom): null in JSON
                }
            }
            guard let last = lastRow?.gradients else { continue }
            let direction: Direction = last.rejected.sign > 0 ? .collapse : (last.rejected.sign < 0 ? .restoring : .none)
            let ratio = last.rejected.isZero ? nil : dpoEnd.log10Magnitude - last.rejected.log10Magnitude
            let stationary = try loss.stationaryPoints(p, chosenLogRatio: c.logpChosen - c.refChosen)
            summaries.append(Summary(
                loss: loss, slope: slope, slopeStandardError: se, direction: direction,
                stationary: stationary, log10DPOOverLossAtEnd: ratio,
                log10MaxCollapseForce: maxForce,
                log10CollapseForceAtEnd: last.collapseForce.isZero ? nil : last.collapseForce.log10Magnitude,
                tailPoints: tailPoints, fittedTailPoints: tailX.count))
        }
        self.summaries = summaries
    }
}
