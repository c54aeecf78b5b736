// BadInputTests.swift — bad data files and bad checkpoints, through the executables: one line
// on standard error naming the file (and the tensor), exit status 65, nothing trained, and a
// report folder that already holds a good report left byte for byte as it was.
//
// Teaches: what a user sees for each kind of broken input, and that a failed run costs nothing
// that was already there.
// Leaves out: the parsers' own unit tests (SharedTests: IDXTests, GzipTests, SafetensorsTests).

import Foundation
import Shared
import TestSupport
import Testing

/// One broken data file: which file, its bytes, and the reason the message must give.
struct BrokenData: CustomTestStringConvertible, Sendable {
    var label: String
    var file: String
    var bytes: @Sendable () -> [UInt8]
    var reason: String

    var testDescription: String { label }

    static let cases: [BrokenData] = [
        BrokenData(label: "truncated gzip", file: MNISTFiles.trainImages + ".gz",
                   bytes: { Array(Gzip.compress(TinyMNIST.images(TinyMNIST.trainCount, seed: 1)).prefix(5000)) },
                   reason: "gzip stream is truncated"),
        BrokenData(label: "corrupt gzip", file: MNISTFiles.testLabels + ".gz",
                   bytes: {
                       var bytes = Gzip.compress(TinyMNIST.labels(TinyMNIST.testCount))
                       for i in 12..<(bytes.count - 8) { bytes[i] ^= 0x5A }    // the DEFLATE body, not the trailer
                       return bytes
                   },
                   reason: "corrupt gzip data"),
        BrokenData(label: "2³² × 2³² header", file: MNISTFiles.trainImages,
                   bytes: { makeIDX([UInt32.max, UInt32.max, 28], [1, 2, 3]) },
                   reason: "header claims 4294967295 × 4294967295 × 28 values, more than can be addressed; file has 3 bytes of data"),
        BrokenData(label: "image and label counts differ", file: MNISTFiles.trainLabels,
                   bytes: { TinyMNIST.labels(TinyMNIST.trainCount - 1) },
                   reason: "has 299 labels but "),
        BrokenData(label: "label out of range", file: MNISTFiles.testLabels,
                   bytes: { makeIDX([UInt32(TinyMNIST.testCount)], (0..<TinyMNIST.testCount).map { $0 == 17 ? 10 : 3 }) },
                   reason: "label 10 at index 17 is not a class 0…9"),
        BrokenData(label: "32×32 images", file: MNISTFiles.trainImages,
                   bytes: { TinyMNIST.images(TinyMNIST.trainCount, seed: 1, side: 32) },
                   reason: "images are 32×32 = 1024 features, the network expects 784"),
        BrokenData(label: "no training images", file: MNISTFiles.trainImages,
                   bytes: { makeIDX([0, 28, 28], []) },
                   reason: "holds no images (its header says 0)"),
        BrokenData(label: "no test images", file: MNISTFiles.testImages,
                   bytes: { makeIDX([0, 28, 28], []) },
                   reason: "holds no images (its header says 0)"),
        BrokenData(label: "payload shorter than the header says", file: MNISTFiles.testImages,
                   bytes: { Array(TinyMNIST.images(TinyMNIST.testCount, seed: 2).dropLast(1)) },
                   reason: "header claims 47040 bytes of data (60 × 28 × 28), file has 47039"),
    ]
}

/// One broken regression checkpoint for `--init`, and what the message must say.
struct BrokenCheckpoint: CustomTestStringConvertible, Sendable {
    var label: String
    var bytes: @Sendable () -> [UInt8]
    var reason: String

    var testDescription: String { label }

    static let cases: [BrokenCheckpoint] = [
        BrokenCheckpoint(label: "header length beyond the file", bytes: {
            var bytes = regressionCheckpoint()
            withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            return bytes
        }, reason: "header length 1099511627776 runs past the end of the file"),
        BrokenCheckpoint(label: "invalid JSON", bytes: { rawSafetensors(#"{"fc1.weight": {"dtype": "#, [0, 0, 0, 0]) },
                         reason: "header is not valid JSON"),
        BrokenCheckpoint(label: "unknown dtype", bytes: { handWrittenCheckpoint { $0[2].dtype = "F17" } },
                         reason: #"tensor fc2.weight: unknown dtype "F17" (only F32 and F64 are)"#),
        BrokenCheckpoint(label: "offsets out of bounds", bytes: {
            handWrittenCheckpoint { $0[5].begin += 1_000; $0[5].end += 1_000 }
        }, reason: "tensor fc3.bias: data_offsets [10472, 10476] are outside the data buffer of 9476 bytes"),
        BrokenCheckpoint(label: "overlapping tensors", bytes: {
            handWrittenCheckpoint { $0[1].begin = 0; $0[1].end = 256 }
        }, reason: "tensors fc1.bias [0, 256) and fc1.weight [0, 768) overlap"),
        BrokenCheckpoint(label: "wrong shape", bytes: {
            NetworkParameters<Float>.glorotNormal(shape: .standard(for: .regression, hidden: [32, 32]), seed: 1)
                .safetensorsBytes()
        }, reason: "fc1.weight has shape [32, 3], the network expects [64, 3]"),
        BrokenCheckpoint(label: "wrong name", bytes: {
            handWrittenCheckpoint { $0[3].name = "fc2.b" }
        }, reason: "missing tensor fc2.bias"),
        BrokenCheckpoint(label: "checkpoint of the other task", bytes: {
            NetworkParameters<Float>.glorotNormal(shape: .standard(for: .classification), seed: 1).safetensorsBytes()
        }, reason: #"checkpoint is for task "classification", the network is for regression"#),
    ]
}

@Suite("Reliability: bad data and checkpoints through the executables")
struct BadInputTests {
    @Test("a broken data file: one line naming the file and the problem, exit 65, nothing trained",
          arguments: BrokenData.cases)
    func brokenData(_ broken: BrokenData) throws {
        let scratch = try ScratchFolder()
        let data = try TinyMNIST.write(in: scratch, replacing: [broken.file: broken.bytes()])
        let output = try run("level4-manual", ["--data", data, "--epochs", "1", "--report-dir", scratch.path("reports")])
        #expect(output.status == 65 && !output.endedBySignal, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.standardError.hasPrefix("error: \(data)/\(broken.file): "), "\(output.standardError)")
        #expect(output.standardError.contains(broken.reason), "\(output.standardError)")
        #expect(output.standardOutput.isEmpty)     // refused before the banner: nothing trained
    }

    @Test("the tiny data set itself is valid (so each broken case breaks exactly one thing)")
    func tinyDataIsValid() throws {
        let scratch = try ScratchFolder()
        let data = try TinyMNIST.write(in: scratch)
        let output = try run("level4-manual", ["--data", data, "--epochs", "1", "--report-dir", scratch.path("reports")])
        #expect(output.status == 0, "\(output.standardError)")
    }

    @Test("compare-levels reports a broken data file the same way")
    func brokenDataCompareLevels() throws {
        let scratch = try ScratchFolder()
        let data = try TinyMNIST.write(in: scratch, replacing: [MNISTFiles.trainImages: TinyMNIST.images(TinyMNIST.trainCount, seed: 1, side: 32)])
        let output = try run("compare-levels", ["--levels", "autograd,manual", "--data", data, "--report-dir", scratch.path("reports")])
        #expect(output.status == 65 && output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.standardError.contains("images are 32×32 = 1024 features, the network expects 784"))
    }

    @Test("a broken --init checkpoint: one line naming the file and the tensor, exit 65",
          arguments: BrokenCheckpoint.cases)
    func brokenCheckpoint(_ broken: BrokenCheckpoint) throws {
        let scratch = try ScratchFolder()
        let file = try scratch.write(broken.bytes(), to: "init.safetensors")
        let output = try run("level4-manual", ["--task", "regression", "--init", file, "--epochs", "1",
                                               "--report-dir", scratch.path("reports")])
        #expect(output.status == 65 && !output.endedBySignal, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.standardError.hasPrefix("error: checkpoint \(file): "), "\(output.standardError)")
        #expect(output.standardError.contains(broken.reason), "\(output.standardError)")
        #expect(output.standardOutput.isEmpty)
    }

    @Test("a valid --init checkpoint is accepted (so each broken case breaks exactly one thing)")
    func validCheckpoint() throws {
        let scratch = try ScratchFolder()
        let hand = try scratch.write(handWrittenCheckpoint { _ in }, to: "zeros.safetensors")
        let seeded = try scratch.write(regressionCheckpoint(), to: "seeded.safetensors")
        for file in [hand, seeded] {
            let output = try run("level4-manual", ["--task", "regression", "--init", file, "--epochs", "1",
                                                   "--train-limit", "200", "--report-dir", scratch.path("reports")])
            #expect(output.status == 0, "\(output.standardError)")
        }
    }

    @Test("--init is what training starts from: its weights, not the seed's, are saved and trained")
    func initIsUsed() throws {
        let scratch = try ScratchFolder()
        // Classification: the data comes from files, so only the weights depend on the seed
        // (the synthetic regression set is drawn from the seed too); no shuffling for the same reason.
        let common = ["--epochs", "1", "--train-limit", "300", "--test-limit", "100", "--no-shuffle",
                      "--report-dir", scratch.path("reports")]
        // Seed 1's weights, and a run trained from them.
        let fromSeed = try run("level4-manual", common + ["--seed", "1", "--save-init", scratch.path("seed1.safetensors"),
                                                          "--save", scratch.path("trained-seed1.safetensors")])
        #expect(fromSeed.status == 0, "\(fromSeed.standardError)")
        // Seed 2 with --init of seed 1's weights: the same initial and trained weights, byte for byte.
        let fromFile = try run("level4-manual", common + ["--seed", "2", "--init", scratch.path("seed1.safetensors"),
                                                          "--save-init", scratch.path("init-copy.safetensors"),
                                                          "--save", scratch.path("trained-init.safetensors")])
        #expect(fromFile.status == 0, "\(fromFile.standardError)")
        func bytes(_ name: String) -> Data? { FileManager.default.contents(atPath: scratch.path(name)) }
        #expect(bytes("init-copy.safetensors") != nil && bytes("init-copy.safetensors") == bytes("seed1.safetensors"))
        #expect(bytes("trained-init.safetensors") != nil && bytes("trained-init.safetensors") == bytes("trained-seed1.safetensors"))
        // And seed 2 alone trains other weights (so the equality above is --init's doing).
        let seed2 = try run("level4-manual", common + ["--seed", "2", "--save", scratch.path("trained-seed2.safetensors")])
        #expect(seed2.status == 0 && bytes("trained-seed2.safetensors") != bytes("trained-seed1.safetensors"))
    }

    @Test("a pipe, a device or a huge file as data or checkpoint: refused before any read, exit 65")
    func notRegularOrTooLarge() throws {
        let scratch = try ScratchFolder()
        // A pipe no one writes to (opening it would wait forever) as the training labels.
        let data = try TinyMNIST.write(in: scratch)
        let labels = data + "/" + MNISTFiles.trainLabels
        try FileManager.default.removeItem(atPath: labels)
        try #require(mkfifo(labels, 0o644) == 0)
        // /dev/zero (it never ends) and a 2 GiB sparse file as checkpoints.
        let device = scratch.path("zero.safetensors")
        try FileManager.default.createSymbolicLink(atPath: device, withDestinationPath: "/dev/zero")
        let huge = try scratch.write([], to: "huge.safetensors")
        try #require(truncate(huge, 2 << 30) == 0)

        let cases: [(arguments: [String], message: String)] = [
            (["--data", data], "error: \(labels): is not a regular file (a device, a pipe or a socket)"),
            (["--task", "regression", "--init", device],
             "error: checkpoint \(device): is not a regular file (a device, a pipe or a socket)"),
            (["--task", "regression", "--init", huge],
             "error: checkpoint \(huge): is 2.0 GiB, larger than the 1.0 MiB a checkpoint of this network can take"),
        ]
        for (arguments, message) in cases {
            let output = try run("level4-manual", arguments + ["--epochs", "1", "--report-dir", scratch.path("reports")])
            #expect(output.status == 65 && !output.endedBySignal, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.map(String.init) == [message], "\(output.standardError)")
            #expect(output.standardOutput.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.path("reports")), "a failed run created its report folder")
    }

    @Test("under ulimit -v 1 GB, a file that claims far more than it holds is refused in one line, exit 65, not by a failed allocation")
    func claimsBeyondTheFile() throws {
        let scratch = try ScratchFolder()
        var state: UInt64 = 1
        let noise = (0..<(1 << 20)).map { _ -> UInt8 in                  // 1 MB that does not compress
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        // Images whose header claims 2,000,000 of them (1.6 GB), in a 1 MB gzip: the pixels were
        // allocated at the 1 GB that 1 MB of DEFLATE could at most produce.
        let claimed = makeIDX([2_000_000, 28, 28], []) + noise
        let images = try TinyMNIST.write(in: scratch, name: "images", replacing: [MNISTFiles.trainImages + ".gz": Gzip.compress(claimed, level: 1)])
        // Labels whose gzip trailer says 4 GiB, after 1 MB of trailing bytes: the output was
        // first allocated at the 1 GiB limit.
        let labels = try TinyMNIST.write(in: scratch, name: "labels", replacing: [
            MNISTFiles.trainLabels + ".gz": Gzip.compress(TinyMNIST.labels(TinyMNIST.trainCount)) + noise + [0xff, 0xff, 0xff, 0xff],
        ])
        // A 900 MB sparse checkpoint: it was read whole, 900 MB reserved first.
        let checkpoint = try scratch.write([], to: "sparse.safetensors")
        try #require(truncate(checkpoint, 900 << 20) == 0)

        let cases: [(arguments: [String], message: String)] = [
            (["--data", images], "error: \(images)/\(MNISTFiles.trainImages).gz: header claims 1568000000 bytes of data"),
            (["--data", labels], "error: \(labels)/\(MNISTFiles.trainLabels).gz: "),
            (["--task", "regression", "--init", checkpoint],
             "error: checkpoint \(checkpoint): is 900.0 MiB, larger than the 1.0 MiB a checkpoint of this network can take"),
        ]
        for (arguments, message) in cases {
            let output = try runInShell("level4-manual", arguments + ["--epochs", "1", "--threads", "1", "--report-dir", scratch.path("reports")],
                                        setup: "ulimit -v 1000000 &&")
            #expect(output.status == 65 && !output.endedBySignal, "\(arguments): \(output.standardError)")
            #expect(output.errorLines.count == 1 && output.standardError.hasPrefix(message), "\(output.standardError)")
        }
    }

    @Test("a corrupt data file or checkpoint leaves a good report byte-identical")
    func goodReportUntouched() throws {
        let scratch = try goodReports()
        let reports = scratch.path("reports")
        let single = try run("level4-manual", ["--task", "regression", "--epochs", "1", "--train-limit", "500",
                                               "--test-limit", "100", "--report-dir", reports])
        try #require(single.status == 0, "\(single.standardError)")
        let before = try snapshot(reports)
        #expect(before["summary.json"] != nil && before["history-manual.csv"] != nil)

        let data = try TinyMNIST.write(in: scratch, replacing: [MNISTFiles.trainLabels: TinyMNIST.labels(5)])
        let checkpoint = try scratch.write(handWrittenCheckpoint { $0[0].dtype = "BF16" }, to: "bad.safetensors")
        let runs: [(String, [String])] = [
            ("compare-levels", ["--levels", "autograd,manual", "--data", data]),
            ("compare-levels", ["--task", "regression", "--levels", "autograd,manual", "--init", checkpoint]),
            ("level4-manual", ["--data", data]),
            ("level4-manual", ["--task", "regression", "--init", checkpoint]),
        ]
        for (executable, arguments) in runs {
            let output = try run(executable, arguments + ["--epochs", "1", "--report-dir", reports])
            #expect(output.status == 65, "\(executable) \(arguments): \(output.standardError)")
            #expect(try snapshot(reports) == before, "\(executable) \(arguments) changed the report folder")
        }
    }
}
