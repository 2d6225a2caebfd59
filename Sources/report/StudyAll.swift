import Experiments
import Foundation
import Formats

/// The short version of `report study` that `report all` includes (folder `study/`): the
/// default grid (shared policy, proxy bias 0 and 1) with fewer seeds and steps and a smaller
/// vocabulary, so that `report all` stays fast. Its index says so; the README quotes the
/// full default study.
enum StudyAll {
    /// The short study's spec: 5 seeds (2 with --quick), P = 4 prompts, 300 steps (100 quick).
    static func spec(quick: Bool) -> StudySpec {
        var s = StudySpec(seeds: quick ? 2 : 5)
        s.base.prompts = quick ? 2 : 4
        s.training.steps = quick ? 100 : 300
        return s
    }

    /// The files of `study/` and the section of the `report all` index.
    static func files(quick: Bool, jobs: Int) throws -> (files: [(String, String)], section: String) {
        let spec = spec(quick: quick)
        let (runs, trajectories) = try Report.Study.execute(spec, units: spec.units, jobs: jobs, progress: false)
        let files = try StudyFiles.files(manifest: StudyTables.manifest(spec), runs: runs, trajectories: trajectories)
        let records = try StudyTables.records(runs, source: "runs.csv")
        let points = try StudyTables.trajectories(trajectories, source: "trajectories.csv")
        let analysis = StudyAnalysis(spec: spec, records: records, trajectories: points)
        var s = "\n## Study: does the principled loss beat DPO given the same information? ([study/README.md](study/README.md))\n\n"
        s += "A SHORT version of `report study` (\(spec.seeds) seeds, P = \(spec.base.prompts), \(spec.training.steps) steps; "
        s += "the default study has 10 seeds, P = 8, 600 steps). Cells: \(StudyReport.cellLegend(analysis)). \(StudyReport.legend)\n\n"
        s += StudyReport.verdictTable(analysis, arms: StudyArm.principled.filter { !$0.isOracle })
        s += "\nRule: \(StudyMeasure.rule)\n"
        return (files, s)
    }
}
