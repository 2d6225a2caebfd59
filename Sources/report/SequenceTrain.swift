import ArgumentParser
import Experiments
import Foundation
import Formats
import LossMath

// `report train --policy markov|shared`: the sequence-level runs (docs/theory.md §5.2).

extension Report.Train {
    /// The sequence-level configuration and one training configuration per loss, checked
    /// without generating anything; every message names the option.
    func sequenceConfigurations() throws -> (SequenceConfig, [TrainingConfig]) {
        guard let parameterisation = simulation.policy.sequenceParameterisation else {
            preconditionFailure("sequenceConfigurations() needs --policy markov or shared")
        }
        if let option = simulation.tabularOnlyGiven.first {
            throw ValidationError("\(option) applies to the tabular and loglinear policies only; "
                                  + "a sequence-level response is --length T tokens from --vocab V")
        }
        if optimizer.batchSize != nil {
            throw ValidationError("--batch-size: the sequence-level trainer is full batch (leave --batch-size unset)")
        }
        if let target = optimizer.target, target.isTabularOnly {
            throw ValidationError("--target \(target.rawValue) applies to --policy tabular|loglinear; "
                                  + "the sequence-level policies take true (oracle), proxy or fitted")
        }
        if optimizer.constantGap != 1 {
            throw ValidationError("--constant-gap applies to --target constant, which the sequence-level policies do not take")
        }
        let list: [Loss]
        do { list = try Loss.parseList(losses) } catch { throw ValidationError("--losses: \(error)") }
        try checkRange("--beta", beta, LossOptions.betaRange, "a number")
        try checkRange("--reward-noise", rewardNoise, SimulationOptions.spreadRange, "a number")
        let d = SequenceConfig()
        let target: SequenceConfig.Target
        switch optimizer.target {
        case .true?: target = .trueReward
        case .proxy?: target = .proxy
        case .fitted?, nil, .model?, .constant?: target = .fitted
        }
        let config = SequenceConfig(
            parameterisation: parameterisation, prompts: simulation.prompts, vocabulary: sequence.vocab ?? d.vocabulary,
            length: sequence.length ?? d.length, pairsPerPrompt: simulation.pairsPerPrompt ?? d.pairsPerPrompt,
            referenceSpread: simulation.referenceSpread, rewardSpread: simulation.rewardSpread ?? d.rewardSpread,
            rewardNoise: rewardNoise, labels: simulation.labels, proxyBias: sequence.proxyBias ?? d.proxyBias,
            spuriousToken: sequence.spuriousToken ?? d.spuriousToken, target: target,
            rewardModelL2: sequence.rmL2 ?? d.rewardModelL2, beta: beta, seed: simulation.seed)
        do { try config.validate() } catch { throw optionError(error) }
        if output.out != nil {
            let space: SequenceSpace
            do { space = try config.space() } catch { throw optionError(error) }
            try SequenceTables.checkSize(space)
        }
        // The training settings are checked as the sequence trainer checks them (a stand-in
        // tabular simulation carries P, n and beta; the gap is set per pair).
        let standIn = SimulationConfig(prompts: config.prompts, responses: 2, pairsPerPrompt: config.pairsPerPrompt,
                                       rewardSpread: 1, rewardNoise: 0, beta: config.beta)
        var trainings: [TrainingConfig] = []
        for loss in list {
            var t = optimizer.training(loss: loss)
            t.target = .rewardModel  // the environment's target gaps (config.target)
            do { try t.validate(for: standIn) } catch {
                if case .loss(let e) = error, case .labelSmoothingOutOfRange = e { throw ValidationError("--label-smoothing: \(e)") }
                throw optionError(error)
            }
            trainings.append(t)
        }
        return (config, trainings)
    }

    /// Generates the environment, trains every loss on it (in parallel, bit-identical to a
    /// serial run), and prints or writes the outputs.
    func runSequence() throws {
        let (config, trainings) = try sequenceConfigurations()
        let environment: SequenceEnvironment
        do { environment = try SequenceEnvironment(config) } catch { throw ReportError("\(optionError(error))") }
        let results: [SequenceTrainingResult]
        do {
            results = try SequenceRuns.train(trainings, environment: environment, threads: Sweep.processorCount)
        } catch { throw ReportError("\(optionError(error))") }
        let report = SequenceTrainReport(environment: environment, trainings: trainings, results: results)
        let files = report.files()
        if let folder = output.out {
            try SequenceTables.writeFolder(folder, files: files, environment: environment, results: results)
        }
        let byName = Dictionary(uniqueKeysWithValues: files.map { ($0.name, $0.text) })
        func text(_ name: String) -> String { byName[name] ?? "" }
        switch output.format {
        case .csv?: emit(text("summary.csv"))
        case .markdown?: emit(text("summary.md"))
        case .plot?: emit(text("plots.txt"))
        case .json?: emit(jsonRecords(fromCSV: text("summary.csv")))
        case nil: if output.out == nil { emit(text("summary.md") + "\n" + text("plots.txt")) }
        }
    }
}
