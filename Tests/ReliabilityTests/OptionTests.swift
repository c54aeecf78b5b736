// OptionTests.swift — every command-line option is checked before any work: exit status 64,
// an `Error:` line naming the option, nothing printed on standard output (no banner: no data
// was loaded), and no report folder created where one could not be.
//
// Teaches: validate first, work second — a typo must not cost a training run.
// Leaves out: the options' meaning (CommandLineTests runs them).

import Foundation
import Shared
import TestSupport
import Testing

@Suite("Reliability: options validated before any work")
struct OptionTests {
    /// Options every executable shares, each wrong in one way, and the option the message names.
    static let sharedCases: [(arguments: [String], names: String)] = [
        (["--epochs", "0"], "--epochs"), (["--epochs", "1000001"], "--epochs"),
        (["--batch-size", "0"], "--batch-size"), (["--batch-size", "9223372036854775807"], "--batch-size"),
        (["--learning-rate", "0"], "--learning-rate"), (["--learning-rate", "-0.1"], "--learning-rate"),
        (["--learning-rate", "inf"], "--learning-rate"), (["--learning-rate", "nan"], "--learning-rate"),
        (["--learning-rate", "1e39"], "--learning-rate"),
        (["--train-limit", "0"], "--train-limit"), (["--test-limit", "0"], "--test-limit"),
        (["--hidden", "0,64"], "--hidden"), (["--hidden", "64"], "--hidden"), (["--hidden", "100000,64"], "--hidden"),
        (["--hidden", "64,x"], "--hidden"), (["--threads", "0"], "--threads"), (["--threads", "100000"], "--threads"),
        (["--task", "segmentation"], "--task"), (["--epochs", "three"], "--epochs"),
    ]

    @Test("level4-manual: each bad shared option is refused with exit 64 before any work")
    func sharedOptions() throws {
        let scratch = try ScratchFolder()
        for (arguments, option) in Self.sharedCases {
            let output = try run("level4-manual", arguments + ["--report-dir", scratch.path("reports")])
            #expect(output.status == 64, "\(arguments): \(output.standardError)")
            #expect(output.standardOutput.isEmpty, "\(arguments) did work: \(output.standardOutput)")
            #expect(output.errorLines.first?.hasPrefix("error: ") == true, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.first?.contains(option) == true, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.count == 1, "\(arguments): one line, not \(output.standardError)")
        }
    }

    @Test("with standard error closed, a bad option still exits 64 (writing the message does not crash)",
          arguments: ["level4-manual", "compare-levels"])
    func closedStandardError(_ executable: String) throws {
        let scratch = try ScratchFolder()
        let output = try runInShell(executable, ["--epochs", "0", "--report-dir", scratch.path("reports")],
                                    redirections: "2>&-")
        #expect(output.status == 64 && !output.endedBySignal, "status \(output.status)")
        #expect(output.standardOutput.isEmpty)
    }

    @Test("with standard output and error closed, a run trains and writes its reports")
    func closedStandardStreams() throws {
        let scratch = try ScratchFolder()
        let output = try runInShell("level4-manual", [
            "--task", "regression", "--epochs", "1", "--train-limit", "300", "--test-limit", "100",
            "--report-dir", scratch.path("reports"),
        ], redirections: ">&- 2>&-")
        #expect(output.status == 0 && !output.endedBySignal, "status \(output.status)")
        let history = try String(contentsOfFile: scratch.path("reports/history-manual.csv"), encoding: .utf8)
        #expect(history.split(separator: "\n").count == 2, "a header and one epoch: \(history)")
    }

    @Test("a negative number is refused for what it is, not as an unknown option")
    func negativeNumbers() throws {
        let cases: [(executable: String, arguments: [String], message: String)] = [
            ("level4-manual", ["--learning-rate", "-1"], "error: --learning-rate must be a finite number above 0, got -1.0"),
            ("level4-manual", ["--epochs", "-3"], "error: --epochs must be between 1 and 1000000, got -3"),
            ("level4-manual", ["--hidden", "-1,5"], "error: --hidden: widths must be between 1 and 4096, got '-1,5'"),
            ("compare-levels", ["--tolerance", "-1"], "error: --tolerance must be a finite number ≥ 0, got -1.0"),
        ]
        for (executable, arguments, message) in cases {
            let output = try run(executable, arguments)
            #expect(output.status == 64, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.first.map(String.init) == message, "\(output.standardError)")
        }
    }

    @Test("compare-levels: --levels only 1–4 without duplicates, --tolerance ≥ 0, and the shared options",
          arguments: [
              ["--levels", "0"], ["--levels", "5"], ["--levels", "2,2"], ["--levels", "1,,2"], ["--levels", ""],
              ["--levels", "four"], ["--tolerance", "-1e-9"], ["--tolerance", "nan"], ["--tolerance", "inf"],
              ["--epochs", "0"], ["--learning-rate", "0"], ["--batch-size", "0"],
              ["--reference-timeout", "0"], ["--reference-timeout", "nan"], ["--reference-timeout", "-5"],
              ["--reference-tolerance", "-1"], ["--reference-tolerance", "nan"], ["--repeats", "0"], ["--repeats", "1001"],
          ])
    func compareLevelsOptions(_ arguments: [String]) throws {
        let scratch = try ScratchFolder()
        let output = try run("compare-levels", arguments + ["--report-dir", scratch.path("reports")])
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        #expect(output.standardOutput.isEmpty)
        #expect(output.errorLines.first?.contains(arguments[0]) == true, "\(arguments): \(output.standardError)")
    }

    @Test("--report-dir that is a file, or that cannot be created, is refused before training")
    func reportDirectory() throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write([1, 2, 3], to: "a-file")
        // Tests run as root, which permission bits do not stop: a path under a regular file can
        // never be created, by anyone.
        let cases: [(path: String, message: String)] = [
            (file, "error: --report-dir: \(file) is a file, not a folder"),
            (file + "/sub", "error: --report-dir: cannot create \(file)/sub: \(file) is a file, not a folder"),
            (file + "/sub/deeper", "error: --report-dir: cannot create \(file)/sub/deeper: \(file) is a file, not a folder"),
            (file + "/", "error: --report-dir: \(file)/ is a file, not a folder"),
        ]
        for executable in ["level4-manual", "compare-levels"] {
            for (path, message) in cases {
                let output = try run(executable, ["--task", "regression", "--epochs", "1", "--report-dir", path])
                #expect(output.status == 64, "\(executable) \(path): \(output.standardError)")
                #expect(output.errorLines.first.map(String.init) == message, "\(output.standardError)")
                #expect(output.standardOutput.isEmpty)
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == Data([1, 2, 3]))
    }

    @Test("modes that write no reports do not check (or probe) the report folder: --explain, --trace, --mistake list")
    func noReportsNoCheck() throws {
        let scratch = try ScratchFolder()
        _ = try scratch.write([1], to: "Reports")                 // the default report folder is a file here
        for arguments in [["--explain"], ["--mistake", "list"], ["--trace", "--task", "regression", "--levels", "manual"]] {
            let output = try runInShell("compare-levels", arguments, setup: "cd '\(scratch.path)' &&")
            #expect(output.status == 0, "\(arguments): \(output.standardError)")
        }
        let training = try runInShell("level4-manual", ["--task", "regression", "--epochs", "1"], setup: "cd '\(scratch.path)' &&")
        #expect(training.status == 64 && training.errorLines == ["error: --report-dir: Reports is a file, not a folder"],
                "\(training.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["Reports"], "a probe was left")
    }

    @Test("a folder or a pipe under a report's name in --report-dir is refused before training, not after it")
    func blockedReportFile() throws {
        let scratch = try ScratchFolder()
        let reports = scratch.path("reports")
        try FileManager.default.createDirectory(atPath: reports + "/manual-loss.png", withIntermediateDirectories: true)
        for name in ["run", "csv", "old.json"] {                 // folders under names no report has
            try FileManager.default.createDirectory(atPath: reports + "/" + name, withIntermediateDirectories: true)
        }
        let history = try scratch.write(Array("earlier\n".utf8), to: "reports/history-manual.csv")
        let output = try run("level4-manual", ["--task", "regression", "--epochs", "1", "--report-dir", reports])
        #expect(output.status == 64, "\(output.standardError)")
        #expect(output.errorLines.map(String.init)
                == ["error: --report-dir: \(reports)/manual-loss.png is a folder, not a file, where a report of that name goes"])
        #expect(output.standardOutput.isEmpty)
        #expect(try String(contentsOfFile: history, encoding: .utf8) == "earlier\n")

        try FileManager.default.removeItem(atPath: reports + "/manual-loss.png")
        try #require(mkfifo(reports + "/summary.json", 0o644) == 0)
        let compare = try run("compare-levels", ["--task", "regression", "--epochs", "1", "--report-dir", reports])
        #expect(compare.status == 64, "\(compare.standardError)")
        #expect(compare.errorLines.map(String.init) == ["error: --report-dir: \(reports)/summary.json is not a regular file "
                                                        + "(a device, a pipe or a socket), where a report of that name goes"])
        try FileManager.default.removeItem(atPath: reports + "/summary.json")
        let good = try run("level4-manual", ["--task", "regression", "--epochs", "1", "--train-limit", "100", "--report-dir", reports])
        #expect(good.status == 0, "\(good.standardError)")
    }

    @Test("a missing --report-dir is created (with its parents) and left without probe files")
    func reportDirectoryCreated() throws {
        let scratch = try ScratchFolder()
        let reports = scratch.path("a/b/reports")
        let output = try run("level4-manual", ["--task", "regression", "--epochs", "1", "--train-limit", "100",
                                               "--report-dir", reports])
        #expect(output.status == 0, "\(output.standardError)")
        let entries = try FileManager.default.contentsOfDirectory(atPath: reports)
        #expect(entries.contains("history-manual.csv"))
        #expect(!entries.contains { $0.hasPrefix(".") }, "\(entries)")
    }

    @Test("one-letter relative paths are ordinary paths: --report-dir r, --report-dir x/y, --save a")
    func oneLetterPaths() throws {
        let scratch = try ScratchFolder()
        for arguments in [["--report-dir", "r"], ["--report-dir", "x/y", "--save", "a"]] {
            let output = try runInShell("level4-manual", ["--task", "regression", "--epochs", "1", "--train-limit", "100"]
                                        + arguments, setup: "cd '\(scratch.path)' &&")
            #expect(output.status == 0, "\(arguments): \(output.standardError)")
        }
        #expect(FileManager.default.fileExists(atPath: scratch.path("r/history-manual.csv")))
        #expect(FileManager.default.fileExists(atPath: scratch.path("x/y/history-manual.csv")))
        #expect(try NetworkParameters<Float>.load(from: scratch.path("a"), shape: .standard(for: .regression))
                    .shape == .standard(for: .regression))
    }

    @Test("--save and --save-init must be writable files in existing folders, checked before training")
    func saveDestinations() throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write([7], to: "a-file")
        let pipe = scratch.path("pipe.safetensors")               // a device would do, but not in a test run as root
        try #require(mkfifo(pipe, 0o644) == 0)
        let cases: [(arguments: [String], message: String)] = [
            (["--save", pipe], "error: --save: \(pipe) is not a regular file (a device, a pipe or a socket), which it would replace"),
            (["--save", scratch.path("missing/w.safetensors")],
             "error: --save: the folder \(scratch.path("missing")) does not exist"),
            (["--save", scratch.path + "/"], "error: --save: '\(scratch.path)/' is not a file path"),
            (["--save", scratch.path], "error: --save: \(scratch.path) is a folder, not a file"),
            (["--save-init", file + "/w.safetensors"], "error: --save-init: \(file) is a file, not a folder"),
        ]
        for (arguments, message) in cases {
            let output = try run("level4-manual", ["--task", "regression", "--epochs", "1",
                                                   "--report-dir", scratch.path("reports")] + arguments)
            #expect(output.status == 64, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.first.map(String.init) == message, "\(output.standardError)")
            #expect(output.standardOutput.isEmpty)
        }
        var status = stat()
        #expect(lstat(pipe, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO, "the pipe is still a pipe")
    }

    @Test("--help, a bad option, or a run that fails before training creates no report folder")
    func nothingCreatedBeforeWork() throws {
        let scratch = try ScratchFolder()
        let reports = scratch.path("new/reports")
        let cases: [(executable: String, arguments: [String], status: Int32)] = [
            ("level4-manual", ["--help"], 0), ("compare-levels", ["--help"], 0),
            ("level4-manual", ["--bogus"], 64), ("level1-high-level", ["--epochs", "0"], 64),
            ("level4-manual", ["--data", scratch.path("no-such-data")], 65),
            ("compare-levels", ["--data", scratch.path("no-such-data")], 65),
        ]
        for (executable, arguments, status) in cases {
            let output = try run(executable, arguments + ["--report-dir", reports])
            #expect(output.status == status, "\(executable) \(arguments): \(output.standardError)")
            #expect(!FileManager.default.fileExists(atPath: scratch.path("new")), "\(executable) \(arguments) created it")
        }
    }

    @Test("an empty path is refused for what it is", arguments: ["--data", "--init", "--report-dir"])
    func emptyPaths(_ option: String) throws {
        let output = try run("level4-manual", [option, ""])
        #expect(output.status == 64, "\(output.standardError)")
        #expect(output.errorLines.map(String.init) == ["error: \(option): the path is empty"], "\(output.standardError)")
    }

    @Test("compare-levels: options that the chosen mode would ignore are refused, not ignored")
    func compareLevelsCombinations() throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write([1], to: "a-file")
        let save = scratch.path("w.safetensors")
        let cases: [(arguments: [String], message: String)] = [
            (["--trace", "--save", save], "error: --save: not with --trace, which shows one training step and writes no reports"),
            (["--explain", "--benchmark"], "error: --benchmark: not with --explain, which shows one training step and writes no reports"),
            (["--trace", "--mistake", "forgot-zero-grad"],
             "error: --mistake: not with --trace, which shows one training step and writes no reports"),
            (["--trace", "--explain"], "error: --trace and --explain: one at a time"),
            (["--mistake", "forgot-zero-grad", "--levels", "manual"],
             "error: --mistake forgot-zero-grad: not with --levels; a mistake runs beside the one style it breaks"),
            (["--references", "--reference-frameworks", ""],
             "error: --reference-frameworks: the list is empty (known: numpy, torch-autograd, tf-gradient-tape, jax, "
                + "torch-modules, keras, lightning, or all)"),
            (["--export-run", file + "/run"], "error: --export-run: cannot create \(file)/run: \(file) is a file, not a folder"),
            // Options the mode would ignore, given on the command line (--report-dir is added below).
            (["--explain", "--epochs", "5"], "error: --epochs: not with --explain, which uses only --task, --seed, "
                + "--learning-rate and --levels (its network and batch are built in)"),
            (["--trace", "--tolerance=0.1"], "error: --tolerance: not with --trace, which shows one training step and writes no reports"),
            (["--trace", "--epochs", "3"], "error: --epochs: not with --trace, which shows one training step and writes no reports"),
            (["--mistake", "list", "--epochs", "3"], "error: --epochs: not with --mistake list, which only lists the mistakes"),
            (["--repeats", "3"], "error: --repeats: only with --benchmark"),
            (["--explain", "--threads", "2"], "error: --threads: not with --explain, which uses only --task, --seed, "
                + "--learning-rate and --levels (its network and batch are built in)"),
            (["--mistake", "summed-loss", "--tolerance", "0.1"],
             "error: --tolerance: not with --mistake, which runs one style beside its clean run and compares no styles"),
            (["--python", "/bin/false"], "error: --python: only with --references"),
            (["--reference-frameworks", "numpy", "--epochs", "1"], "error: --reference-frameworks: only with --references"),
        ]
        for (arguments, message) in cases {
            let output = try run("compare-levels", arguments + ["--report-dir", scratch.path("reports")])
            #expect(output.status == 64, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.map(String.init) == [message], "\(arguments): \(output.standardError)")
            #expect(output.standardOutput.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: save))
        // An unknown mistake is named as such, --levels or not.
        let unknown = try run("compare-levels", ["--mistake", "bogus", "--levels", "manual"])
        #expect(unknown.status == 64 && unknown.errorLines.first?.hasPrefix("error: --mistake: no mistake 'bogus'") == true,
                "\(unknown.standardError)")
    }
}
