// GradcheckTests.swift — gradcheck as a user runs it: every style passes on both tasks (exit 0),
// a backward pass broken on purpose fails and names its tensors (exit 1), bad options give one
// line and exit 64.

import Foundation
import TestSupport
import Testing

@Suite("gradcheck as a user runs it")
struct GradcheckTests {
    @Test("--style all passes on both tasks: a table per style, exit 0", arguments: ["classification", "regression"])
    func allStylesPass(task: String) throws {
        let output = try run("gradcheck", ["--style", "all", "--task", task])
        #expect(output.status == 0, "\(output.standardOutput)\(output.standardError)")
        #expect(output.standardError.isEmpty)
        let lines = output.standardOutput.split(separator: "\n")
        #expect(lines.first?.hasPrefix("gradcheck: each gradient against central differences") == true)
        for style in allStyles {
            #expect(lines.contains { $0.hasPrefix("Level ") && $0.contains("· \(style): \(task)") }, "\(style)")
        }
        #expect(lines.filter { $0.hasPrefix("  fc1.weight ") }.count == 8)
        #expect(lines.filter { $0.hasPrefix("  pass: every error ≤ 1e-6") }.count == 8)
        #expect(lines.last == "All 8 styles pass.")
    }

    @Test("each style alone, on a network of its own size (--hidden 4,3, 5 samples): exit 0")
    func eachStyle() throws {
        for style in allStyles {
            let output = try run("gradcheck", ["--style", style, "--hidden", "4,3", "--samples", "5", "--seed", "3"])
            #expect(output.status == 0, "\(style): \(output.standardOutput)")
            #expect(output.standardOutput.contains("4 → 4 → 3 → 2, batch of 5"), "\(style)")
        }
    }

    @Test("regression, --hidden 32,32, 256 samples, seed 123456 (a loss of 4, gradients under 1e-4): exit 0")
    func largeRegression() throws {
        let output = try run("gradcheck", ["--task", "regression", "--hidden", "32,32", "--samples", "256",
                                           "--seed", "123456"])
        #expect(output.status == 0, "\(output.standardOutput)\(output.standardError)")
        #expect(output.standardOutput.contains("3 → 32 → 32 → 1, batch of 256"))
        #expect(output.standardOutput.contains("  pass: every error ≤ 1e-6"), "\(output.standardOutput)")
        #expect(!output.standardOutput.contains("✗"), "\(output.standardOutput)")
    }

    @Test("a broken backward (the tanh derivative from z): the table fails in fc1, exit 1")
    func brokenBackward() throws {
        let output = try run("gradcheck", ["--mistake", "tanh-derivative-of-z"])
        #expect(output.status == 1, "\(output.standardOutput)\(output.standardError)")
        #expect(output.standardError.isEmpty)
        let lines = output.standardOutput.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("  fc1.weight ") && $0.contains("✗") })
        #expect(lines.contains { $0.hasPrefix("  fc3.weight ") && !$0.contains("✗") })
        #expect(lines.contains("  FAIL: gradients off in fc1.weight, fc1.bias (errors above 1e-6)"))
    }

    @Test("--mistake list lists the broken backward passes, exit 0")
    func mistakeList() throws {
        let output = try run("gradcheck", ["--mistake", "list"])
        #expect(output.status == 0)
        #expect(output.standardOutput.split(separator: "\n").map { $0.prefix { $0 != ":" } }
                == ["tanh-derivative-of-z", "sigmoid-derivative-of-z"])
    }

    @Test("bad options: one line naming the value, exit 64")
    func badOptions() throws {
        let cases: [([String], String)] = [
            (["--style", "kera"], "error: --style: no style 'kera'"),
            (["--hidden", "3"], "error: --hidden: expected two widths like 128,64, got '3'"),
            (["--hidden", "64,2"], "error: --hidden: widths must be between 1 and 32, got '64,2'"),
            (["--samples", "0"], "error: --samples must be between 1 and 256, got 0"),
            (["--mistake", "nope"], "error: --mistake: no mistake 'nope'"),
            (["--style", "keras", "--mistake", "tanh-derivative-of-z"],
             "error: --mistake breaks manual's backward pass; not with --style keras"),
            (["--task", "ranking"], "error: The value 'ranking' is invalid for '--task <task>'"),
        ]
        for (arguments, start) in cases {
            let output = try run("gradcheck", arguments)
            #expect(output.status == 64, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.count == 1 && output.errorLines.first?.hasPrefix(start) == true,
                    "\(arguments): \(output.standardError)")
            #expect(output.standardOutput.isEmpty, "\(arguments)")
        }
    }
}
