// AtomicFileTests.swift — atomic writes: the bytes arrive whole, the temp file never lingers.
//
// Also holds the helpers the data and checkpoint tests share: a scratch folder that removes
// itself, and catching the one error case a test expects.

import Foundation
import Testing
@testable import Shared

@Suite("AtomicFile")
struct AtomicFileTests {
    @Test("writes the exact bytes, then replaces them, leaving no temp file")
    func writeAndReplace() throws {
        let folder = try ScratchFolder()
        let path = folder.path("weights.bin")
        let first: [UInt8] = Array(0...255)
        try AtomicFile.write(first, to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(first))

        let second: [UInt8] = [9, 8, 7]
        try AtomicFile.write(second, to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(second))
        #expect(try folder.entries() == ["weights.bin"])
    }

    @Test("writes strings as UTF-8, and non-contiguous collections")
    func stringsAndCollections() throws {
        let folder = try ScratchFolder()
        let path = folder.path("summary.md")
        try AtomicFile.write(string: "| level | loss |\n| 1 | 0.5 — ok |\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "| level | loss |\n| 1 | 0.5 — ok |\n")

        let repeated = repeatElement(UInt8(7), count: 5)  // no contiguous storage
        try AtomicFile.write(repeated, to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([7, 7, 7, 7, 7]))

        try AtomicFile.write(Data([1, 2]), to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2]))

        try AtomicFile.write([UInt8](), to: path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).isEmpty)
        #expect(try folder.entries() == ["summary.md"])
    }

    @Test("chunks are written in order; an error from the producer keeps the old file and leaves no temp file")
    func chunks() throws {
        let folder = try ScratchFolder()
        let path = folder.path("order.bin")
        try AtomicFile.write(to: path) { append in
            for chunk: [UInt8] in [[1, 2], [], [3], Array(repeating: 4, count: 100_000)] { try chunk.withUnsafeBytes(append) }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data([1, 2, 3] + Array(repeating: 4, count: 100_000)))

        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try AtomicFile.write(to: path) { append in
                try [UInt8](repeating: 9, count: 10).withUnsafeBytes(append)
                throw Stop()
            }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == 100_003)
        #expect(try folder.entries() == ["order.bin"])
    }

    @Test("a folder or a pipe is never replaced: one reason each, and it stays what it was")
    func notAFile() throws {
        let folder = try ScratchFolder()
        let pipe = folder.path("pipe")
        try #require(mkfifo(pipe, 0o644) == 0)
        try FileManager.default.createDirectory(atPath: folder.path("sub"), withIntermediateDirectories: false)
        #expect(throws: NeuralLevelsError.failure("cannot write \(pipe): is not a regular file (a device, a pipe or a socket)")) {
            try AtomicFile.write([1, 2, 3], to: pipe)
        }
        #expect(throws: NeuralLevelsError.failure("cannot write \(folder.path("sub")): is a folder, not a file")) {
            try AtomicFile.write([1, 2, 3], to: folder.path("sub"))
        }
        var status = stat()
        #expect(lstat(pipe, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO)
        #expect(try folder.entries().sorted() == ["pipe", "sub"])
        // A link is replaced by the file, as a rename does; its target is left alone.
        let target = try folder.write([9], to: "target")
        try FileManager.default.createSymbolicLink(atPath: folder.path("link"), withDestinationPath: target)
        try AtomicFile.write([4], to: folder.path("link"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder.path("link"))) == Data([4]))
        #expect(try Data(contentsOf: URL(fileURLWithPath: target)) == Data([9]))
    }

    @Test("the reason of a failed write, without the path; any other error as it reads")
    func reason() throws {
        let folder = try ScratchFolder()
        let path = folder.path("missing/chart.png")
        do {
            try AtomicFile.write([1], to: path)
            Issue.record("wrote into a missing folder")
        } catch {
            #expect(AtomicFile.reason(of: error, writing: path) == "No such file or directory")
        }
        #expect(AtomicFile.reason(of: NeuralLevelsError.failure("disk on fire"), writing: path) == "disk on fire")
    }

    @Test("a missing parent folder is an error naming the path, and is not created")
    func missingFolder() throws {
        let folder = try ScratchFolder()
        let path = folder.path("no-such-folder/summary.json")
        let error = try #require(caughtError { try AtomicFile.write([1, 2, 3], to: path) })
        guard case let .failure(message) = error else {
            Issue.record("expected .failure, got \(error)")
            return
        }
        #expect(message.hasPrefix("cannot write \(path): "))
        #expect(message.contains("No such file"))
        #expect(try folder.entries().isEmpty)
    }

    @Test("a failed rename removes the temp file and keeps the target")
    func failedRenameCleansUp() throws {
        let folder = try ScratchFolder()
        let target = folder.path("Reports")
        try FileManager.default.createDirectory(atPath: target + "/inner", withIntermediateDirectories: true)
        // Renaming a file over a non-empty folder fails after the bytes were written and fsynced.
        let error = try #require(caughtError { try AtomicFile.write([1, 2, 3], to: target) })
        #expect(error.description.contains("cannot write \(target)"))
        #expect(try folder.entries() == ["Reports"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["inner"])
    }

    @Test("temp files live beside the target, hidden, with unique names")
    func temporaryNames() {
        let a = AtomicFile.temporaryPath(for: "/tmp/x/summary.json")
        let b = AtomicFile.temporaryPath(for: "/tmp/x/summary.json")
        #expect(a.hasPrefix("/tmp/x/.summary.json.tmp-\(ProcessInfo.processInfo.processIdentifier)-"))
        #expect(a != b)
        #expect(AtomicFile.temporaryPath(for: "plain.txt").hasPrefix(".plain.txt.tmp-"))
    }

    @Test("ExistingFile: absent, too large (with the reason), the contents, or badData for a folder or a pipe")
    func existingFiles() throws {
        let folder = try ScratchFolder()
        let path = folder.path("f")
        #expect(try ExistingFile.at(path, maximumSize: 10) == .absent)
        try AtomicFile.write([1, 2, 3], to: path)
        #expect(try ExistingFile.at(path, maximumSize: 10) == .contents([1, 2, 3]))
        #expect(try ExistingFile.at(path, maximumSize: 2) == .tooLarge(reason: "is 3 bytes, larger than the 2 bytes read from one file"))
        let sub = folder.path("sub")
        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: false)
        #expect(throws: NeuralLevelsError.badData(file: sub, reason: "is a folder, not a file")) {
            try ExistingFile.at(sub, maximumSize: 10)
        }
        let pipe = folder.path("pipe")
        try #require(mkfifo(pipe, 0o644) == 0)
        #expect(throws: NeuralLevelsError.badData(file: pipe, reason: "is not a regular file (a device, a pipe or a socket)")) {
            try ExistingFile.at(pipe, maximumSize: 10)
        }
    }

    @Test("parentFolder agrees with NSString's deletingLastPathComponent, and takes one-character paths")
    func parentFolders() {
        for path in ["ab", "x/y", "x/y/", "/x/yz", "/ab", "a//b//", "./r", "../r", "x/./y", "abc/def/ghi.png"] {
            #expect(parentFolder(of: path) == (path as NSString).deletingLastPathComponent, "\(path)")
        }
        // Foundation traps on these (swift-corelibs-foundation, Swift 6.3): the expected values by hand.
        #expect(parentFolder(of: "a") == "")
        #expect(parentFolder(of: "/") == "/")
        #expect(parentFolder(of: "//") == "/")                  // NSString says "" here: the root's parent is the root
        #expect(parentFolder(of: "") == "")
        #expect(parentFolder(of: "a/") == "")
    }

    @Test("FileBytes reads whole files and names each failure")
    func readingFiles() throws {
        let folder = try ScratchFolder()
        let path = folder.path("data.bin")
        let bytes = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try AtomicFile.write(bytes, to: path)
        #expect(try FileBytes.read(path: path) == bytes)

        #expect(throws: FileBytes.Problem.self) { try FileBytes.read(path: folder.path("missing")) }
        do {
            _ = try FileBytes.read(path: folder.path("missing"))
        } catch {
            #expect(error.reason == "no such file")
        }
        do {
            _ = try FileBytes.read(path: folder.path(""))
            Issue.record("reading a folder succeeded")
        } catch {
            #expect(error.reason == "is a folder, not a file")
        }
    }

    @Test("readRegularFile: the bytes, or badData naming the file; a cap below the file's size is named in its unit")
    func readingWithACap() throws {
        let folder = try ScratchFolder()
        let path = try folder.write((0..<3_000_000).map { UInt8(truncatingIfNeeded: $0) }, to: "result.json")
        #expect(try readRegularFile(atPath: path, maximumSize: 3_000_000).count == 3_000_000)
        #expect(throws: NeuralLevelsError.badData(file: path, reason: "is 2.9 MiB, larger than the 1000 bytes read from one file")) {
            try readRegularFile(atPath: path, maximumSize: 1000)
        }
        #expect(throws: NeuralLevelsError.badData(file: path, reason: "is 2.9 MiB, larger than the 1.0 MiB read from one file")) {
            try readRegularFile(atPath: path, maximumSize: 1 << 20)
        }
        // Just over the cap, where both sizes would round to "1.0 MiB": the exact counts.
        let over = try folder.write([UInt8](repeating: 7, count: (1 << 20) + 24), to: "over.json")
        #expect(throws: NeuralLevelsError.badData(file: over, reason: "is 1048600 bytes, larger than the 1048576 bytes read from one file")) {
            try readRegularFile(atPath: over, maximumSize: 1 << 20)
        }
        #expect(throws: NeuralLevelsError.badData(file: folder.path("run.json"), reason: "no such file")) {
            try readRegularFile(atPath: folder.path("run.json"))
        }
    }
}

// MARK: - Helpers shared by the data and checkpoint tests

/// A fresh folder under the system temp folder, removed when the value goes away.
final class ScratchFolder {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("NeuralLevelsTests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    /// The path of `name` inside the folder.
    func path(_ name: String) -> String { url.path + "/" + name }

    /// Writes `bytes` to `name` inside the folder and returns its path.
    @discardableResult
    func write(_ bytes: [UInt8], to name: String) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The names in the folder, sorted (hidden temp files included).
    func entries() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }
}

/// The ``NeuralLevelsError`` `body` throws, or nil if it returns (or throws something else,
/// which is recorded as an issue).
func caughtError<T>(_ body: () throws -> T) -> NeuralLevelsError? {
    do {
        _ = try body()
        return nil
    } catch let error as NeuralLevelsError {
        return error
    } catch {
        Issue.record("expected a NeuralLevelsError, got \(error)")
        return nil
    }
}

/// The `(file, reason)` of the `.badData` error `body` throws; nil (and an issue) otherwise.
func badData<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation)
    -> (file: String, reason: String)?
{
    switch caughtError(body) {
    case let .badData(file, reason)?: return (file, reason)
    case let other?:
        Issue.record("expected .badData, got \(other)", sourceLocation: sourceLocation)
        return nil
    case nil:
        Issue.record("expected .badData, nothing was thrown", sourceLocation: sourceLocation)
        return nil
    }
}

/// The `(file, reason)` of the `.badCheckpoint` error `body` throws; nil (and an issue) otherwise.
func badCheckpoint<T>(_ body: () throws -> T, sourceLocation: SourceLocation = #_sourceLocation)
    -> (file: String, reason: String)?
{
    switch caughtError(body) {
    case let .badCheckpoint(file, reason)?: return (file, reason)
    case let other?:
        Issue.record("expected .badCheckpoint, got \(other)", sourceLocation: sourceLocation)
        return nil
    case nil:
        Issue.record("expected .badCheckpoint, nothing was thrown", sourceLocation: sourceLocation)
        return nil
    }
}
