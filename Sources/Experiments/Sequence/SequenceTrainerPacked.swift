import LossMath

// The blocked markov step on a packed copy of a prompt's rows: eight rows per vector.

/// One thread's scratch for ``SequenceTrainer/packedPrompt(_:firstUpdate:steps:losses:squares:scratch:)``,
/// sized for the largest prompt: the packed `theta`, `m`, `v`, `pi` of its active rows
/// (groups of eight rows, entry `(a, k)` of a group at `8 a + k`), each row's maximum and
/// `log sum exp` after the last update, one group's counts, the prompt's path entries
/// mapped to packed indices and rows, and a map from the prompt's states to its rows.
/// Allocated once per thread and block; ``deallocate()`` frees it.
struct PackedPromptScratch {
    let groupValues: Int
    let theta, m, v, pi, rowMax, rowLogSum, counts: UnsafeMutablePointer<Double>
    let pathIndex, pathRow, stateRow: UnsafeMutablePointer<Int>
    private let doubles: UnsafeMutablePointer<Double>
    private let ints: UnsafeMutablePointer<Int>

    init(rows: Int, vocabulary: Int, pathEntries: Int, statesPerPrompt: Int) {
        let groups = (rows + 7) / 8
        groupValues = 8 * vocabulary
        let table = groups * groupValues, scalars = groups * 8
        let doubleCount = 4 * table + 2 * scalars + groupValues, intCount = 2 * pathEntries + statesPerPrompt
        let d = UnsafeMutablePointer<Double>.allocate(capacity: doubleCount)
        d.initialize(repeating: 0, count: doubleCount)
        let i = UnsafeMutablePointer<Int>.allocate(capacity: intCount)
        i.initialize(repeating: 0, count: intCount)
        doubles = d; ints = i
        theta = d; m = d + table; v = d + 2 * table; pi = d + 3 * table
        rowMax = d + 4 * table; rowLogSum = rowMax + scalars; counts = rowLogSum + scalars
        pathIndex = i; pathRow = i + pathEntries; stateRow = i + 2 * pathEntries
    }

    func deallocate() {
        doubles.deallocate()
        ints.deallocate()
    }
}

extension SequenceTrainer {
    /// The largest number of active rows and of pairs of any prompt (the packed scratch's size).
    var largestPrompt: (rows: Int, pairs: Int) {
        var rows = 0, pairs = 0
        for x in 0..<space.prompts {
            rows = Swift.max(rows, activeStart[x + 1] - activeStart[x])
            pairs = Swift.max(pairs, pairStart[x + 1] - pairStart[x])
        }
        return (rows, pairs)
    }

    /// Prompt `x`'s part of `steps` blocked steps, the first being optimiser step
    /// `firstUpdate`: per step, its pairs' path sums, the loss kernel on its pairs, its scaled
    /// derivatives, then for each of its active rows the logit gradient, the update and the
    /// log-softmax: exactly ``fusedLogitStep()``'s operations on its rows, in the same order
    /// (so the same bits), on a packed copy of the prompt's active rows.
    ///
    /// It packs the rows' `theta`, `m`, `v` and `pi` (groups of eight rows, one row per
    /// lane), runs every step on the copy with ``markovGroupStep(_:previous:count:update:)``,
    /// and unpacks at the end. Within the block no `log pi` table is written: the path
    /// sums of step `j >= 1` read `(theta_a - m) - log sum` at the visited entries (each
    /// row's maximum `m` and `log sum` kept from its last update: the bits the table would
    /// hold), step 0 reads the table. At the end `log pi` of the active rows is written once.
    /// Writes the loss and squared-norm partials of step `j` at `losses[j P + x]`,
    /// `squares[j P + x]` (the squares added in row order, as the row kernels' caller does).
    func packedPrompt(_ x: Int, firstUpdate: Int, steps: Int, losses: UnsafeMutablePointer<Double>,
                      squares: UnsafeMutablePointer<Double>, scratch w: PackedPromptScratch) {
        let prompts = space.prompts, vocab = space.vocabulary, length = space.length
        let pairs = pairStart[x] ..< pairStart[x + 1]
        let rows = activeStart[x] ..< activeStart[x + 1]
        let moments = optimizer.kind == .adam
        guard steps > 0, let lp = logPi.baseAddress, let path = paths.baseAddress,
              let th = theta.baseAddress, let p = probabilities.baseAddress else { return }
        let gv = w.groupValues, groups = (rows.count + 7) / 8
        let firstState = x * space.statesPerPrompt
        // Pack (the last group's unused lanes zero: they compute finite values nobody reads).
        if groups > 0 {
            let last = (groups - 1) * gv
            for j in last ..< last + gv { w.theta[j] = 0; w.m[j] = 0; w.v[j] = 0; w.pi[j] = 0 }
        }
        for (local, r) in rows.enumerated() {
            let s = activeStates[r], base = (local >> 3) * gv + (local & 7)
            w.stateRow[s - firstState] = local
            for a in 0..<vocab {
                w.theta[base + 8 * a] = th[s * vocab + a]
                w.pi[base + 8 * a] = p[s * vocab + a]
                if moments {
                    w.m[base + 8 * a] = optimizer.m[s * vocab + a]
                    w.v[base + 8 * a] = optimizer.v[s * vocab + a]
                }
            }
        }
        let visits = 2 * length
        for i in pairs {
            let from = path + 2 * i * length, to = (i - pairs.lowerBound) * visits
            for t in 0..<visits {
                let e = from[t], s = e / vocab
                let local = w.stateRow[s - firstState]
                w.pathIndex[to + t] = (local >> 3) * gv + (e - s * vocab) * 8 + (local & 7)
                w.pathRow[to + t] = local
            }
        }
        let scale = 1 / Double(pairCount)
        for j in 0..<steps {
            if j == 0 {
                sumPaths(pairs)
            } else {
                for i in pairs {
                    let base = (i - pairs.lowerBound) * visits
                    var sw = 0.0, sl = 0.0
                    for t in 0..<length {
                        let k = base + t, row = w.pathRow[k]
                        sw += (w.theta[w.pathIndex[k]] - w.rowMax[row]) - w.rowLogSum[row]
                    }
                    for t in length ..< visits {
                        let k = base + t, row = w.pathRow[k]
                        sl += (w.theta[w.pathIndex[k]] - w.rowMax[row]) - w.rowLogSum[row]
                    }
                    logpChosen[i] = sw
                    logpRejected[i] = sl
                }
            }
            if !pairs.isEmpty {
                config.loss.evaluateBatch(
                    chosen: UnsafeBufferPointer(rebasing: logpChosen[pairs]),
                    rejected: UnsafeBufferPointer(rebasing: logpRejected[pairs]),
                    refChosen: UnsafeBufferPointer(rebasing: refChosen[pairs]),
                    refRejected: UnsafeBufferPointer(rebasing: refRejected[pairs]),
                    rewardGaps: UnsafeBufferPointer(rebasing: gaps[pairs]), parameters: lossParameters,
                    values: UnsafeMutableBufferPointer(rebasing: values[pairs]),
                    dChosen: UnsafeMutableBufferPointer(rebasing: dChosen[pairs]),
                    dRejected: UnsafeMutableBufferPointer(rebasing: dRejected[pairs]))
            }
            var part = 0.0
            for i in pairs {
                part += scale * values[i]
                weights[2 * i] = scale * dChosen[i]
                weights[2 * i + 1] = scale * dRejected[i]
            }
            let update = FoldedRowUpdate(optimizer.update(step: firstUpdate + j))
            // Group by group; the exponentials of each group run in the loop of the next.
            var sq = 0.0
            var previous: (group: PackedGroup, maximum: SIMD8<Double>)? = nil
            func finish(_ group: Int, _ p: PackedGroup, _ mx: SIMD8<Double>, _ sum: SIMD8<Double>) {
                storeLanes(mx, w.rowMax + 8 * group)
                storeLanes(finishGroupSoftmax(probabilities: p.pi, sum: sum, count: vocab), w.rowLogSum + 8 * group)
            }
            for group in 0..<groups {
                let first = rows.lowerBound + 8 * group, lanes = Swift.min(8, rows.upperBound - first)
                let o = group * gv
                for k in 0..<lanes {
                    let s = activeStates[first + k]
                    for q in occurrenceStart[s] ..< occurrenceStart[s + 1] {
                        w.counts[8 * occurrenceToken[q] + k] += weights[occurrenceWeight[q]]
                    }
                }
                let current = PackedGroup(counts: w.counts, theta: w.theta + o, m: w.m + o, v: w.v + o, pi: w.pi + o)
                let (q2, mx, previousSum) = markovGroupStep(current, previous: previous, count: vocab, update: update)
                if let (p, pm) = previous { finish(group - 1, p, pm, previousSum) }
                previous = (current, mx)
                for k in 0..<lanes { sq += q2[k] }
            }
            if let (p, pm) = previous {
                finish(groups - 1, p, pm, groupExponentials(p, maximum: pm, count: vocab))
            }
            losses[j * prompts + x] = part
            squares[j * prompts + x] = sq
        }
        // Unpack, and write log pi once: (theta - m) - log sum, the bits of logSoftmaxRow.
        for (local, r) in rows.enumerated() {
            let s = activeStates[r], base = (local >> 3) * gv + (local & 7)
            let mx = w.rowMax[local], ls = w.rowLogSum[local]
            for a in 0..<vocab {
                let t = w.theta[base + 8 * a]
                th[s * vocab + a] = t
                p[s * vocab + a] = w.pi[base + 8 * a]
                lp[s * vocab + a] = (t - mx) - ls
                if moments {
                    optimizer.m[s * vocab + a] = w.m[base + 8 * a]
                    optimizer.v[s * vocab + a] = w.v[base + 8 * a]
                }
            }
        }
    }
}
