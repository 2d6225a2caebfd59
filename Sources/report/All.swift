import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath

extension Report {
    /// `report all`: every figure and table of the study, with an index that reads top to bottom.
    struct All: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regenerate every figure and table into one folder, with an index README.md.",
            discussion: """
            The index covers T1-T11 with the numbers that verify them, the gradient study, the \
            training curves, the sweep over reward-model noise, the gradient flow, the \
            population optimum and the sequence level (markov and shared, proxy bias 0 and 1), and gives each claim of the paper a verdict computed from these \
            numbers by a stated rule: reproduced, qualified (with a measured exception), \
            contradicted, or not significant (across seeds, paired by seed). Deterministic: the same --seed gives the same \
            bytes. A few seconds with the release build on 2 cores; --quick is a smoke test.

            Example:
              swift run -c release report all
              report all --out results --quick
            """
        )

        @Option(help: "Output folder: built under a hidden sibling and renamed into place at the end; an existing one is replaced only if it holds nothing but this command's files.", completion: .directory)
        var out: String = "out"
        @Flag(help: "Small grids (seconds): for a smoke test, not for conclusions.")
        var quick = false
        @Flag(help: "No progress on stderr.")
        var quiet = false
        @Option(parsing: .unconditional, help: "Parallel worker threads for the sweep (default: all cores).")
        var jobs: Int = Sweep.processorCount

        func validate() throws {
            Verbosity.setQuiet(quiet)
            guard !out.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--out: the folder name is empty") }
            guard jobs >= 1 else { throw ValidationError("--jobs must be >= 1, got \(jobs)") }
        }

        func run() throws {
            let bar = ProgressBar(total: 8, label: "report all", enabled: !quiet && isatty(2) != 0)
            var files: [(String, String)] = []
            func add(_ folder: String, _ fs: [(String, String)]) { files += fs.map { (folder + "/" + $0.0, $0.1) } }

            // 1. Theory.
            let checks = try TheoryChecks.run(instances: quick ? 40 : 400)
            add("theory", [("theory.md", TheoryReport.markdown(checks)), ("theory.csv", try TheoryReport.table(checks).csv())])
            bar.advance()

            // 2. Gradient study: every loss at beta = 0.1, dr = 1.
            let lossOptions = try LossOptions.parse([])
            var config = GradientStudy.Configuration(parameters: lossOptions.parameters(for: .sigmoid, rewardGap: 1),
                                                     points: quick ? 60 : 200)
            for loss in Loss.allCases { config.parameterOverrides[loss] = lossOptions.parameters(for: loss, rewardGap: 1) }
            let study = try GradientStudy(configuration: config, losses: Loss.allCases)
            add("gradients", [("gradients.csv", GradientReport.csv(study)), ("gradients.md", GradientReport.markdown(study)),
                              ("gradients.json", GradientReport.json(study)), ("gradients-plot.txt", GradientReport.plot(study)),
                              ("gradients.svg", GradientReport.svg(study))])
            bar.advance()

            // 3. Training: the default tabular problem, and the log-linear policy.
            let trainLosses: [Loss] = [.sigmoid, .ipo, .spo, .spoBT]
            let steps = quick ? 300 : TrainingConfig(loss: .sigmoid).steps
            func train(_ sim: SimulationConfig) throws -> (trainings: [TrainingConfig], results: [TrainingResult]) {
                let trainings = trainLosses.map { l -> TrainingConfig in var t = TrainingConfig(loss: l); t.steps = steps; return t }
                var results: [TrainingResult] = []
                for t in trainings {
                    do { results.append(try Trainer.train(sim, t)) } catch { throw ReportError("\(t.loss.rawValue): \(error)") }
                }
                return (trainings, results)
            }
            let tabularSim = SimulationConfig()
            let tabular = try train(tabularSim)
            add("train", TrainReport.files(simulation: tabularSim, trainings: tabular.trainings, results: tabular.results).map { ($0.name, $0.text) })
            var loglinearSim = SimulationConfig()
            loglinearSim.policy = .loglinear
            let loglinear = try train(loglinearSim)
            add("train-loglinear", TrainReport.files(simulation: loglinearSim, trainings: loglinear.trainings, results: loglinear.results).map { ($0.name, $0.text) })
            bar.advance()

            // 4. Sweep over reward-model noise.
            var training = TrainingConfig(loss: .sigmoid)
            training.steps = quick ? 200 : training.steps
            let spec = SweepSpec(losses: trainLosses, betas: quick ? [0.5] : [0.1, 0.5],
                                 rewardNoises: quick ? [0, 1] : [0, 0.5, 1, 2],
                                 seeds: (1...(quick ? 2 : 10)).map { UInt64($0) },
                                 simulation: SimulationConfig(), training: training)
            let sweepResults: [SweepRunResult]
            do { sweepResults = try Sweep.run(spec, runs: try spec.runs(), workers: jobs) } catch { throw ReportError("\(error)") }
            add("sweep", SweepFiles.files(manifest: SweepFiles.manifest(spec: spec, shard: nil), results: sweepResults).map { ($0.name, $0.text) })
            bar.advance()

            // 5. Gradient flow.
            let times = LogSpacedTimes(from: 1e-2, to: quick ? 1e4 : 1e8, count: quick ? 20 : 80)
            add("flow", try FlowReport.files(losses: [.sigmoid, .ipo, .spo, .spoBT, .spoAsym], beta: 0.5, rewardGap: 1, h0: 0, times: times).files)
            bar.advance()

            // 6. Population optimum, Bradley–Terry and hard labels (each solved once).
            var optimumRegret: [String: [Loss: Double]] = [:]
            for labels in [SimulationConfig.Labels.bt, .hard] {
                let sim = SimulationConfig(prompts: 2, responses: 4, pairsPerPrompt: 1, labels: labels, beta: 0.5, seed: 1)
                let trainings = [Loss.sigmoid, .ipo, .spo, .spoBT, .rpoForwardKL].map { TrainingConfig(loss: $0, target: .trueReward) }
                let solved = try OptimumReport.solve(simulation: sim, trainings: trainings)
                add("optimum-\(labels.rawValue)", try OptimumReport.files(simulation: sim, solved: solved))
                for (loss, r) in solved { optimumRegret[labels.rawValue, default: [:]][loss] = r.regret }
            }
            bar.advance()

            // 7. Sequence level: markov and shared, proxy bias 0 and 1.
            let sequenceRuns = try SequenceAll.run(quick: quick, threads: jobs)
            files += SequenceAll.files(sequenceRuns)
            bar.advance()

            // 7b. A short version of `report study` (issue 11).
            let studyShort = try StudyAll.files(quick: quick, jobs: jobs)
            add("study", studyShort.files)

            // 8. The verdicts on the paper's claims, and the index.
            let claims: [Finding]
            do {
                claims = try PaperClaims.evaluate(.init(
                    checks: checks, study: study, tabular: tabular.results, sweep: sweepResults,
                    dpoBradleyTerryOptimumRegret: optimumRegret["bt"]?[.sigmoid] ?? .nan,
                    maxTarget: try Environment(tabularSim).pairs.map { Swift.abs($0.trueRewardGap) / tabularSim.beta }.max() ?? .nan))
            } catch { throw ReportError("\(error)") }
            let index = AllReport.index(checks: checks, claims: claims, study: study, tabular: tabular.results, loglinear: loglinear.results,
                                        sweep: Sweep.aggregate(sweepResults), optimumRegret: optimumRegret, quick: quick)
                + SequenceAll.indexSection(sequenceRuns) + studyShort.section
            files.insert(("README.md", index), at: 0)
            // The folder is built under a hidden sibling and renamed into place: never half
            // written, never mixed with files of an earlier run (AtomicFolder).
            let owned = Set(files.map { String($0.0.split(separator: "/").first ?? "") })
            do {
                try AtomicFolder.build(URL(fileURLWithPath: out), owns: owned) { dir in try writeFiles(files, into: dir.path) }
            } catch let error as ReportError { throw error } catch { throw ReportError("\(error)") }
            bar.advance()
            bar.finish()
            if !quiet { note("wrote \(files.count) files into \(out); start with \(out)/README.md") }
        }
    }
}
