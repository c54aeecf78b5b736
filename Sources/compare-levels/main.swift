// compare-levels — train every level from the same start and prove they agree.
//
//     swift run -c release compare-levels                      # Fashion-MNIST, 10 epochs
//     swift run -c release compare-levels --task regression
//     swift run -c release compare-levels --levels 3,4 --epochs 2 --trace

import ArgumentParser
import Foundation
import LevelComparison
import Shared
import TrainingCLI

struct CompareLevelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare-levels",
        abstract: "Train the network at every level of abstraction from the same weights and batches, "
            + "verify that they agree, and write Reports/.")

    @OptionGroup var options: TrainingOptions

    @Option(help: ArgumentHelp("Levels to run, e.g. 1,2,3,4 (the lowest level run is the reference).",
                               valueName: "list"))
    var levels: String = "1,2,3,4"

    @Option(help: "Relative tolerance for losses and weights.")
    var tolerance: Double = 1e-5

    @Flag(help: "Print the kernel calls of one training step of every level, side by side.")
    var trace = false

    @Option(help: .hidden)      // test hook: make this level's learning rate differ slightly
    var perturbLevel: Int?

    var levelNumbers: [Int] {
        get throws {
            let parts = levels.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = parts.compactMap { Int($0) }
            guard !parts.isEmpty, numbers.count == parts.count, numbers.allSatisfy({ (1...4).contains($0) }) else {
                throw ValidationError("--levels: expected level numbers from 1 to 4 like 1,2,3,4, got '\(levels)'")
            }
            guard Set(numbers).count == numbers.count else {
                throw ValidationError("--levels: '\(levels)' names a level twice")
            }
            let missing = numbers.filter { Level.numbered($0) == nil }
            guard missing.isEmpty else {
                throw ValidationError("--levels: level \(missing.map(String.init).joined(separator: ", ")) is not built yet")
            }
            return numbers
        }
    }

    func validate() throws {
        _ = try levelNumbers
        guard tolerance.isFinite, tolerance >= 0 else {
            throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)")
        }
    }

    func run() throws {
        do {
            let experiment = try Experiment.prepare(options)
            print("compare-levels: \(experiment.banner)")
            let numbers = try levelNumbers
            if trace {
                let traces = try Comparison.traceFirstStep(experiment, levels: numbers.compactMap(Level.numbered))
                print("\nKernel calls of the first training step:\n")
                print(Comparison.traceText(traces))
                return
            }
            let settings = ComparisonSettings(levels: numbers, tolerance: tolerance, perturbedLevel: perturbLevel)
            let outcome = try Comparison.run(experiment, settings: settings)
            print("\n" + outcome.tableText)
            let files = try outcome.writeReports(to: options.reportDir)
            print("\nReports: \(files.map { (options.reportDir as NSString).appendingPathComponent($0) }.joined(separator: ", "))")
            if let failure = outcome.failure { throw failure }
            print(outcome.bitwiseIdentical
                ? "All levels are bitwise identical to Level \(outcome.referenceLevel)."
                : "All levels agree with Level \(outcome.referenceLevel) within relative tolerance \(tolerance).")
        } catch let error as NeuralLevelsError {
            throw reported(error)
        }
    }
}

CompareLevelsCommand.main()
