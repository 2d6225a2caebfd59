import Testing
import LossMath
@testable import Experiments
#if canImport(Glibc)
import Glibc
#endif

@Test func scratchExplore() throws {
    guard getenv("EXPLORE") != nil else { return }
    var sim = SimulationConfig()
    func env(_ k: String) -> String? { getenv(k).map { String(cString: $0) } }
    if let b = env("BETA") { sim.beta = Double(b)! }
    if let b = env("LABELS") { sim.labels = .init(rawValue: b)! }
    if let b = env("POLICY") { sim.policy = .init(rawValue: b)! }
    if let b = env("NOISE") { sim.rewardNoise = Double(b)! }
    if let b = env("P") { sim.prompts = Int(b)! }
    if let b = env("K") { sim.responses = Int(b)! }
    if let b = env("N") { sim.pairsPerPrompt = Int(b)! }
    if let b = env("SEED") { sim.seed = UInt64(b)! }
    for loss in [Loss.sigmoid, .spo, .spoBT, .ipo, .ncaPair, .hinge] {
        var t = TrainingConfig(loss: loss)
        if let s = env("STEPS") { t.steps = Int(s)! }
        if let s = env("OPT") { t.optimizer = .init(rawValue: s)! }
        if let s = env("LR") { t.learningRate = Double(s)! }
        if let s = env("BATCH") { t.batchSize = Int(s)! }
        var ts = timespec(); clock_gettime(CLOCK_MONOTONIC, &ts)
        let t0 = Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        let r = try Trainer.train(sim, t)
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let t1 = Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        let s = r.summary
        print(loss.rawValue, "regret", s.finalRegret, "klref", s.finalKLRef, "ER", s.finalExpectedReward, "minlogpl", s.minLogpRejected, "|h-h*|", s.meanAbsHMinusTarget, "maxH", s.maxH, "unseen", s.unseenMass, "gn", s.maxGradNorm, "log10dp", s.maxLog10AbsDPRejected, "time", t1 - t0)
        let idx = [0, r.metrics.count / 4, r.metrics.count / 2, 3 * r.metrics.count / 4, r.metrics.count - 1]
        print("   minlogpl trend", idx.map { (r.metrics[$0].step, r.metrics[$0].minLogpRejected, r.metrics[$0].regret) })
    }
}
