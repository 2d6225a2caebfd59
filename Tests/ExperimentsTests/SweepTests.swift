import Testing
import Synchronization
import GSLKit
import LossMath
import PropertyBased
import Experiments

@Suite struct SweepTests {

    static let spec = SweepSpec(losses: [.sigmoid, .spo, .ipo], betas: [0.5, 1], rewardNoises: [0, 0.3], seeds: [1, 2, 3],
                                simulation: SimulationConfig(prompts: 3, responses: 4, pairsPerPrompt: 3),
                                training: TrainingConfig(loss: .spo, steps: 60, logEvery: 20))

    @Test func runsAreEnumeratedInAFixedOrder() throws {
        let runs = try Self.spec.runs()
        #expect(runs.count == 3 * 2 * 2 * 3)
        #expect(runs.map(\.id) == Array(0..<36))
        #expect(runs[0] == SweepRun(id: 0, loss: .sigmoid, beta: 0.5, rewardNoise: 0, seed: 1))
        #expect(runs[1] == SweepRun(id: 1, loss: .sigmoid, beta: 0.5, rewardNoise: 0, seed: 2))
        #expect(runs[3] == SweepRun(id: 3, loss: .sigmoid, beta: 0.5, rewardNoise: 0.3, seed: 1))
        #expect(runs[35] == SweepRun(id: 35, loss: .ipo, beta: 1, rewardNoise: 0.3, seed: 3))
        #expect(try Self.spec.runs() == runs)
        let (sim, training) = Self.spec.configuration(for: runs[35])
        #expect(sim.beta == 1 && sim.rewardNoise == 0.3 && sim.seed == 3 && training.loss == .ipo && sim.prompts == 3)
    }

    /// Shards i/n partition the runs exactly: disjoint, covering, each in id order.
    @Test func shardsPartitionTheRuns() async throws {
        let runs = try Self.spec.runs()
        await propertyCheck(count: 30, input: Gen.int(in: 1...50)) { n in
            var seen: [Int] = []
            for i in 0..<n {
                let shard = try Sweep.shard(runs, index: i, count: n)
                #expect(shard.map(\.id) == shard.map(\.id).sorted())
                #expect(shard.allSatisfy { $0.id % n == i })
                seen += shard.map(\.id)
            }
            #expect(seen.sorted() == runs.map(\.id))
        }
    }

    @Test func badShardsAreRejected() throws {
        let runs = try Self.spec.runs()
        #expect(experimentError { _ = try Sweep.shard(runs, index: 3, count: 3) }?.parameterName == "shard index i")
        #expect(experimentError { _ = try Sweep.shard(runs, index: -1, count: 3) }?.parameterName == "shard index i")
        #expect(experimentError { _ = try Sweep.shard(runs, index: 0, count: 0) }?.parameterName == "shard count n")
    }

    @Test func badGridsAreRejected() {
        var s = Self.spec
        s.betas = [0.5, 0.5]
        #expect(experimentError { _ = try s.runs() }?.parameterName == "betas")
        s = Self.spec
        s.seeds = []
        #expect(experimentError { _ = try s.runs() }?.parameterName == "seeds")
        s = Self.spec
        s.rewardNoises = [0, -1]
        #expect(experimentError { _ = try s.runs() }?.parameterName == "reward noise s_noise")
        s = Self.spec
        s.betas = [0.5, 0]
        #expect(experimentError { _ = try s.runs() }?.parameterName == "beta")
    }

    /// The axes are declared once: columns, cells and enumeration all follow SweepAxis, and a
    /// value of the wrong type for its axis is refused by name.
    @Test func axesAreDeclaredOnce() throws {
        #expect(SweepRun.columnNames == ["run_id", "loss", "beta", "reward_noise", "seed"])
        #expect(SweepAggregate.columnNames.prefix(4) == ["loss", "beta", "reward_noise", "seeds"])
        #expect(SweepAxis.cellAxes == [.loss, .beta, .rewardNoise])
        let runs = try Self.spec.runs()
        #expect(runs.count == Self.spec.runCount && runs.count == 3 * 2 * 2 * 3)
        for (k, r) in runs.enumerated() {
            let c = Self.spec.configuration(for: r)
            #expect(r.id == k && c.training.loss == r.loss && c.simulation.beta == r.beta
                    && c.simulation.rewardNoise == r.rewardNoise && c.simulation.seed == r.seed)
        }
        var s = Self.spec
        s.grid[.beta] = [.real(0.5), .seed(1)]
        #expect(experimentError { _ = try s.runs() }?.parameterName == "betas")
    }

    /// Parallel results equal serial results bit for bit, in run-id order; progress reports
    /// every completion once, in increasing order.
    @Test func parallelEqualsSerial() throws {
        let runs = try Self.spec.runs()
        let serial = try Sweep.run(Self.spec, runs: runs, workers: 1)
        let calls = Mutex<[Int]>([])
        let parallel = try Sweep.run(Self.spec, runs: runs.reversed(), workers: 4) { done, total in
            #expect(total == runs.count)
            calls.withLock { $0.append(done) }
        }
        #expect(serial.map(\.run) == runs)
        #expect(parallel.map(\.run) == runs)
        func bits(_ r: [SweepRunResult]) -> [[UInt64]] { r.map { $0.summary.metricValues.map(\.bitPattern) } }
        #expect(bits(serial) == bits(parallel))
        #expect(calls.withLock { $0 } == Array(1...runs.count))
        // Each equals an independent single run.
        let (sim, training) = Self.spec.configuration(for: runs[17])
        #expect(try Trainer.train(sim, training).summary == serial[17].summary)
        // A shard's results are the matching rows of the whole.
        let shard = try Sweep.run(Self.spec, runs: try Sweep.shard(runs, index: 1, count: 5), workers: 2)
        #expect(shard == stride(from: 1, to: runs.count, by: 5).map { serial[$0] })
    }

    /// Mean and 95% t-interval over seeds, against hand computation with the tabulated
    /// quantile t_{0.975, 2} = 4.302652729911275.
    @Test func aggregateUsesTheStudentTInterval() throws {
        let runs = try Self.spec.runs()
        let results = try Sweep.run(Self.spec, runs: runs, workers: 2)
        let agg = Sweep.aggregate(results.shuffled())
        #expect(agg.count == 3 * 2 * 2)
        #expect(agg.map(\.loss) == [Loss.sigmoid, .sigmoid, .sigmoid, .sigmoid, .spo, .spo, .spo, .spo, .ipo, .ipo, .ipo, .ipo])
        let cell = agg[5]   // spo, beta 0.5, noise 0.3
        #expect(cell.loss == .spo && cell.beta == 0.5 && cell.rewardNoise == 0.3 && cell.count == 3)
        let rows = results.filter { $0.run.loss == .spo && $0.run.beta == 0.5 && $0.run.rewardNoise == 0.3 }
        #expect(rows.count == 3)
        for c in 0..<RunSummary.metricColumnNames.count {
            let xs = rows.map { $0.summary.metricValues[c] }
            let m = (xs[0] + xs[1] + xs[2]) / 3
            let s = ((xs.map { ($0 - m) * ($0 - m) }.reduce(0, +)) / 2).squareRoot()
            #expect(close(cell.mean[c], m, abs: 1e-15, rel: 1e-12))
            #expect(close(cell.halfWidth[c], 4.302652729911275 * s / 3.0.squareRoot(), abs: 1e-15, rel: 1e-9))
        }
        // One seed: no interval.
        var one = Self.spec
        one.seeds = [1]
        let single = Sweep.aggregate(try Sweep.run(one, runs: try one.runs(), workers: 2))
        #expect(single.allSatisfy { $0.count == 1 && $0.halfWidth.allSatisfy(\.isNaN) })
    }

    @Test func rowsAndColumnsLineUp() throws {
        #expect(RunSummary.columnNames == ["loss", "final_regret", "final_kl_ref", "final_expected_reward", "min_logp_rejected",
                                           "mean_abs_h_minus_target", "max_h", "unseen_mass", "max_grad_norm", "max_log10_abs_d_p_rejected", "status"])
        #expect(SweepRunResult.columnNames == ["run_id", "loss", "beta", "reward_noise", "seed"] + RunSummary.metricColumnNames + ["status"])
        let results = try Sweep.run(Self.spec, runs: Array(try Self.spec.runs().prefix(2)), workers: 1)
        // Each typed row encodes exactly its declared columns, in order.
        let row = try encodedColumns(results[1])
        #expect(row.map(\.0) == SweepRunResult.columnNames)
        #expect(row.prefix(5).map(\.1) == ["1", "sigmoid", "0.5", "0.0", "2"])
        #expect(try encodedColumns(results[1].summary).map(\.0) == RunSummary.columnNames)
        let agg = Sweep.aggregate(results)
        #expect(try encodedColumns(agg[0]).map(\.0) == SweepAggregate.columnNames)
        #expect(SweepAggregate.columnNames.prefix(6) == ["loss", "beta", "reward_noise", "seeds", "final_regret_mean", "final_regret_ci95"])
        let m = try Trainer.train(SimulationConfig(prompts: 2, responses: 3, pairsPerPrompt: 2), TrainingConfig(loss: .spo, steps: 3))
        #expect(try encodedColumns(m.metrics[0]).map(\.0) == StepMetrics.columnNames)
        #expect(try encodedColumns(LossStepMetrics(loss: .spo, metrics: m.metrics[0])).map(\.0) == LossStepMetrics.columnNames)
        #expect(StepMetrics.columnNames == ["step", "mean_loss", "regret", "kl_ref", "expected_reward", "mean_logp_chosen",
                                            "mean_logp_rejected", "min_logp_rejected", "mean_abs_h_minus_target", "max_h",
                                            "frac_within_tol", "unseen_mass", "grad_norm", "max_log10_abs_d_p_rejected"])
    }
}
