import ArgumentParser

@main
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Checks the theory of stable alignment losses (arXiv 2508.07137) in numbers."
    )
}
