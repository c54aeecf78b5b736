// StepTiming.swift — opt-in (NEURAL_LEVELS_STEP_TIMING=1): the time of one training step at
// Level 3 and Level 4, measured alternately in one process so that machine load hits both alike.
//
// Teaches: what the tape costs: Level 3's step minus Level 4's.
// Leaves out: pass/fail thresholds (timing on a shared machine is too noisy to gate CI on).
//
//     NEURAL_LEVELS_STEP_TIMING=1 swift test -c release --filter StepTiming

import Foundation
import Testing
@testable import Level3Autograd
@testable import Level4Manual
@testable import Shared
import TestSupport

@Suite("Level 3: step timing (opt-in)", .serialized,
       .enabled(if: ProcessInfo.processInfo.environment["NEURAL_LEVELS_STEP_TIMING"] == "1"))
struct StepTiming {
    @Test("one training step, Level 4 against Level 3 (batch 64)", arguments: Task.allCases)
    func steps(task: Task) throws {
        let (train, _) = try slice(task, train: 6400, test: 1, regressionSeed: 1)
        let batches = (0..<100).map { train.batch(rows: ($0 * 64)..<($0 * 64 + 64)) }
        let parameters = NetworkParameters<Float>.glorotNormal(shape: .standard(for: task), seed: 42)
        var manual = ManualNetwork(parameters: parameters, learningRate: 0.01)
        let autograd = AutogradNetwork(parameters: parameters, learningRate: 0.01)
        func seconds(_ body: () -> Void) -> Double {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        }
        var best4 = Double.infinity, best3 = Double.infinity
        for _ in 0..<30 {
            best4 = min(best4, seconds { for batch in batches { _ = manual.trainStep(on: batch) } })
            best3 = min(best3, seconds { for batch in batches { _ = autograd.trainStep(on: batch) } })
        }
        print("step timing, \(task): level 4 \(Int(best4 * 1e4)) µs/step, level 3 \(Int(best3 * 1e4)) µs/step, "
              + "ratio \(best3 / best4)")
    }
}
