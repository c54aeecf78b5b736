// DownloadTests.swift — `download-data` against a loopback HTTP server: a good download, the
// no-op second run, a file replaced, a wrong checksum, a truncated and a stalled transfer, an HTTP
// error, a refused connection, and bad options.
// Every failure must be one line naming the file, expected vs received, with docs/design.md's exit
// status, and must leave no partial or temporary file behind.

import Foundation
import Shared
import TestSupport
import Testing

@Suite("download-data against a loopback HTTP server")
struct DownloadTests {
    let fixtures = Fixtures()

    /// A scratch folder holding `served/` (what the server serves), `checksums.sha256`, and
    /// `data/mnist/` (where the download goes, not created beforehand).
    struct Scratch {
        let root: URL
        var served: URL { root.appendingPathComponent("served") }
        var checksums: URL { root.appendingPathComponent("checksums.sha256") }
        var data: URL { root.appendingPathComponent("data/mnist") }

        init(fixtures: Fixtures, overrides: [String: String] = [:]) throws {
            root = try temporaryDirectory()
            try FileManager.default.createDirectory(at: served, withIntermediateDirectories: true)
            try fixtures.write(to: served)
            try fixtures.writeChecksums(to: checksums, overrides: overrides)
        }

        func arguments(_ server: FixtureServer) -> [String] {
            ["--data", data.path, "--base-url", server.baseURL, "--checksums", checksums.path, "--timeout", "20"]
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    /// Runs `body` with the fixtures served on a loopback server and an empty data folder, which
    /// `body` fills with what is "already there" before it runs download-data.
    func withDataFolder(_ body: (Scratch, FixtureServer) throws -> Void) throws {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        defer { server.stop() }
        try FileManager.default.createDirectory(at: scratch.data, withIntermediateDirectories: true)
        try body(scratch, server)
    }

    @Test("a good download writes the four files byte for byte; a second run is a no-op; the folder loads")
    func goodDownload() throws {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        defer { server.stop() }

        let first = try downloadData(scratch.arguments(server))
        #expect(first.status == 0, "\(first.standardError)")
        #expect(first.standardError.isEmpty)
        #expect(contents(of: scratch.data) == Fixtures.names.sorted())    // nothing else, no temp files
        for name in Fixtures.names {
            let written = try Data(contentsOf: scratch.data.appendingPathComponent(name))
            #expect([UInt8](written) == fixtures.files[name], "\(name) differs from what was served")
            #expect(first.standardOutput.contains("\(name): downloaded \(written.count) bytes, SHA-256 ok"))
        }

        // Second run, with the server gone: nothing is fetched, and it says so.
        server.stop()
        let second = try downloadData(scratch.arguments(server))
        #expect(second.status == 0, "\(second.standardError)")
        #expect(second.standardOutput.contains("Nothing to download"), "\(second.standardOutput)")
        #expect(!second.standardOutput.contains("downloaded"))
        #expect(contents(of: scratch.data) == Fixtures.names.sorted())

        // What the levels read: 5 training and 3 test samples of 784 pixels, labels as served.
        let (train, test) = try MNISTFiles.load(directory: scratch.data.path)
        #expect(train.count == 5 && test.count == 3 && train.featureCount == 784)
        #expect(train.labels == Fixtures.trainLabels.map(Int32.init))
        #expect(test.labels == Fixtures.testLabels.map(Int32.init))
        #expect(train.inputs.storage[1] == Float((1 * 7 + 1) % 256) / 255)
    }

    @Test("a file already there with the wrong contents, or too large to be a data file, is fetched again; the right ones are kept")
    func replacesWrongFile() throws {
        try withDataFolder { scratch, server in
            try Data(fixtures.files[Fixtures.names[0]]!).write(to: scratch.data.appendingPathComponent(Fixtures.names[0]))
            try Data("not a gzip file".utf8).write(to: scratch.data.appendingPathComponent(Fixtures.names[1]))
            // A 3 GB sparse file (reading it would exhaust memory) is not read at all.
            let huge = scratch.data.appendingPathComponent(Fixtures.names[3])
            try Data().write(to: huge)
            try #require(truncate(huge.path, 3 << 30) == 0)

            let output = try downloadData(scratch.arguments(server))
            #expect(output.status == 0, "\(output.standardError)")
            #expect(output.standardOutput.contains("\(Fixtures.names[0]): already there, SHA-256 ok"))
            #expect(output.standardOutput.contains("\(Fixtures.names[1]): already there but its SHA-256 is"))
            #expect(output.standardOutput.contains(
                "\(Fixtures.names[3]): already there but is 3.0 GiB, larger than the 256.0 MiB read from one file; downloading it again"))
            #expect(output.standardOutput.contains("Done: 3 downloaded, 1 already there"))
            for name in Fixtures.names {
                #expect([UInt8](try Data(contentsOf: scratch.data.appendingPathComponent(name))) == fixtures.files[name])
            }
        }
    }

    @Test("a pipe where a data file goes is neither read (it would wait forever) nor replaced: one line, exit 1, nothing downloaded")
    func pipeInPlace() throws {
        try withDataFolder { scratch, server in
            let pipe = scratch.data.appendingPathComponent(Fixtures.names[1]).path
            try #require(mkfifo(pipe, 0o644) == 0)

            let output = try downloadData(scratch.arguments(server))
            #expect(output.status == 1, "\(output.standardError)")
            #expect(output.errorLines.map(String.init)
                    == ["error: \(pipe): is not a regular file (a device, a pipe or a socket); download-data replaces only files"],
                    "\(output.standardError)")
            var status = stat()
            #expect(lstat(pipe, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO, "the pipe is still a pipe")
            // Found before anything was downloaded: the file before it in the list was not fetched.
            #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.data.path) == [Fixtures.names[1]])
            #expect(output.standardOutput.isEmpty, "\(output.standardOutput)")
        }
    }

    /// The file whose expected digest is wrong: the first (so nothing at all may be written, not
    /// even the folder) or the third (the two verified before it stay, as a resumable download).
    @Test("a wrong checksum: one line naming the file, expected vs received; exit 65; nothing of it left behind",
          arguments: [0, 2])
    func wrongChecksum(index: Int) throws {
        let name = Fixtures.names[index]
        let wrong = String(repeating: "0", count: 64)
        let scratch = try Scratch(fixtures: fixtures, overrides: [name: wrong])
        defer { scratch.remove() }
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        defer { server.stop() }

        let output = try downloadData(scratch.arguments(server))
        #expect(output.status == 65, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        let line = String(output.errorLines.first ?? "")
        #expect(line.contains(name))
        #expect(line.contains("expected \(wrong)"))
        #expect(line.contains("received \(fixtures.sha256(name)) (\(fixtures.files[name]!.count) bytes)"))
        if index == 0 {
            #expect(!FileManager.default.fileExists(atPath: scratch.data.path), "\(contents(of: scratch.data))")
        } else {
            #expect(contents(of: scratch.data) == Fixtures.names[..<index].sorted())
        }
    }

    @Test("without --checksums, MNIST's published digests are the ones checked: the fixtures are refused, exit 65")
    func builtInDigests() throws {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        defer { server.stop() }
        let arguments = scratch.arguments(server)
        let output = try downloadData(Array(arguments.prefix(4)) + ["--timeout", "20"])   // no --checksums
        #expect(!arguments.prefix(4).contains("--checksums"))
        #expect(output.status == 65, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        let line = String(output.errorLines.first ?? "")
        // The SHA-256 of the original train-images-idx3-ubyte.gz, as published with MNIST's mirrors.
        #expect(line.contains("train-images-idx3-ubyte.gz")
                && line.contains("expected 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"), "\(line)")
        #expect(line.contains("received \(fixtures.sha256("train-images-idx3-ubyte.gz"))"), "\(line)")
        #expect(!FileManager.default.fileExists(atPath: scratch.data.path), "\(contents(of: scratch.data))")
    }

    /// download-data against a server that breaks `name` as `fault` says (with `extra`
    /// arguments after the usual ones): it must exit 1 with one error line, which is returned,
    /// with what it left in the data folder (nil: the folder was not even created).
    func faultyDownload(_ name: String, _ fault: FixtureServer.Fault, _ extra: [String] = []) throws
        -> (line: String, left: [String]?)
    {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        let server = try FixtureServer(serving: scratch.served, fault: (name, fault), scratch: scratch.root)
        defer { server.stop() }

        let output = try downloadData(scratch.arguments(server) + extra)
        #expect(output.status == 1, "\(output.standardError)")
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        let left = FileManager.default.fileExists(atPath: scratch.data.path) ? contents(of: scratch.data) : nil
        return (String(output.errorLines.first ?? ""), left)
    }

    @Test("a transfer cut short: one line naming the file, expected vs received bytes; exit 1; nothing left behind")
    func truncatedTransfer() throws {
        let name = Fixtures.names[0]
        let (line, left) = try faultyDownload(name, .truncate)
        let size = fixtures.files[name]!.count
        #expect(line.contains(name))
        #expect(line.contains("truncated: expected \(size) bytes, received \(size / 2)"), "\(line)")
        #expect(left == nil, "\(left ?? [])")
    }

    @Test("a server announcing 100 GB: refused at once, one line; exit 1; nothing kept in memory or on disk")
    func hugeTransfer() throws {
        let name = Fixtures.names[0]
        let (line, left) = try faultyDownload(name, .huge)
        #expect(line.contains(name) && line.contains("larger than 268435456 bytes (Content-Length 100000000000)"), "\(line)")
        #expect(left == nil, "\(left ?? [])")
    }

    @Test("a transfer that stalls: fails after --timeout seconds, one line naming the file; exit 1; nothing left behind")
    func stalledTransfer() throws {
        let name = Fixtures.names[1]
        let started = Date()
        let (line, left) = try faultyDownload(name, .stall, ["--timeout", "1"])   // the last --timeout wins
        #expect(Date().timeIntervalSince(started) < 15)
        let size = fixtures.files[name]!.count
        #expect(line.contains(name) && line.contains("nothing received for 1 s (--timeout), after \(size / 2) of \(size) bytes"),
                "\(line)")
        #expect(left == [Fixtures.names[0]])                             // the file before it, verified
    }

    @Test("a file the mirror does not have: one line with the HTTP status; exit 1; nothing left behind")
    func missingOnServer() throws {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        try FileManager.default.removeItem(at: scratch.served.appendingPathComponent(Fixtures.names[0]))
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        defer { server.stop() }

        let output = try downloadData(scratch.arguments(server))
        #expect(output.status == 1)
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.standardError.contains(Fixtures.names[0]) && output.standardError.contains("HTTP status 404"))
        #expect(!FileManager.default.fileExists(atPath: scratch.data.path))
    }

    @Test("no server listening: one line naming the URL; exit 1")
    func connectionRefused() throws {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        server.stop()                                              // its port is now closed

        let output = try downloadData(scratch.arguments(server))
        #expect(output.status == 1)
        #expect(output.errorLines.count == 1, "\(output.standardError)")
        #expect(output.standardError.contains(server.baseURL + Fixtures.names[0]))
        #expect(!FileManager.default.fileExists(atPath: scratch.data.path))
    }

    @Test("bad options: exit 64 before any transfer", arguments: [
        ["--base-url", "ftp://example.com/mnist/"], ["--base-url", "not a url"], ["--timeout", "0"],
        ["--timeout", "86401"], ["--timeout", "1e300"], ["--checksums", "/no/such/checksums.sha256"],
        ["--data", ""],                                          // the last --data counts
    ])
    func badOptions(arguments: [String]) throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = try downloadData(["--data", scratch.appendingPathComponent("mnist").path] + arguments)
        #expect(output.status == 64, "\(arguments): \(output.standardError)")
        // One line, as every executable here (docs/design.md): "error: <the problem, naming the option>".
        #expect(output.errorLines.count == 1 && output.errorLines.first?.hasPrefix("error: \(arguments[0])") == true,
                "\(output.standardError)")
        #expect(output.standardOutput.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("mnist").path))
    }

    @Test("a malformed checksums file: exit 64 naming the line")
    func malformedChecksums() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("sums")
        try "1234  train-images-idx3-ubyte.gz\n".write(to: file, atomically: true, encoding: .utf8)
        let output = try downloadData(["--data", scratch.appendingPathComponent("mnist").path, "--checksums", file.path])
        #expect(output.status == 64)
        #expect(output.standardError.contains("line 1"), "\(output.standardError)")
    }

    @Test("a checksums file larger than 1 MiB (a 3 GB sparse one here) is refused before it is read: exit 64")
    func hugeChecksums() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("sums")
        try Data().write(to: file)
        try #require(truncate(file.path, 3 << 30) == 0)
        let output = try downloadData(["--data", scratch.appendingPathComponent("mnist").path, "--checksums", file.path])
        #expect(output.status == 64, "\(output.standardError)")
        #expect(output.errorLines.map(String.init)
                == ["error: --checksums: \(file.path): is 3.0 GiB, larger than the 1.0 MiB read from one file"],
                "\(output.standardError)")
    }
}

extension DownloadTests {
    @Test("a checksums file that is missing, a folder, a device or not text: one line saying which, exit 64")
    func unreadableChecksums() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let binary = scratch.appendingPathComponent("binary")
        try Data([0x66, 0xff, 0xfe, 0x0a]).write(to: binary)
        let missing = scratch.appendingPathComponent("missing").path
        for (path, reason) in [(missing, "no such file"), (scratch.path, "is a folder, not a file"),
                               ("/dev/zero", "is not a regular file (a device, a pipe or a socket)"),
                               (binary.path, "is not UTF-8 text")] {
            let output = try downloadData(["--data", scratch.appendingPathComponent("mnist").path, "--checksums", path])
            #expect(output.status == 64, "\(path): \(output.standardError)")
            #expect(output.errorLines.map(String.init) == ["error: --checksums: \(path): \(reason)"], "\(output.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("mnist").path))
    }

    @Test("--data naming a file, or a checksums file missing one of the four names: exit 64, nothing written")
    func badFolderOrIncompleteChecksums() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let onFile = try downloadData(["--data", file.path])
        #expect(onFile.status == 64)
        #expect(onFile.errorLines.first?.contains("--data: \(file.path) is a file, not a folder") == true)

        let sums = scratch.appendingPathComponent("sums")
        try (String(repeating: "ab", count: 32) + "  train-images-idx3-ubyte.gz\n").write(to: sums, atomically: true, encoding: .utf8)
        let incomplete = try downloadData(["--data", scratch.appendingPathComponent("mnist").path, "--checksums", sums.path])
        #expect(incomplete.status == 64)
        #expect(incomplete.errorLines.first?.contains("has no line for train-labels-idx1-ubyte.gz") == true,
                "\(incomplete.standardError)")
        #expect(contents(of: scratch) == ["a-file", "sums"])
    }
}

extension DownloadTests {
    @Test("--timeout: a day is the most; 1e300 is one line naming the value, exit 64, not a crash")
    func timeoutBound() throws {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        server.stop()                                              // a refused connection fails at once

        let huge = try downloadData(scratch.arguments(server) + ["--timeout", "1e300"])
        #expect(huge.status == 64, "\(huge.standardError)")
        #expect(huge.errorLines.map(String.init)
                == ["error: --timeout must be a number of seconds above 0 and at most 86400 (a day), got 1e+300"],
                "\(huge.standardError)")

        let day = try downloadData(scratch.arguments(server) + ["--timeout", "86400"])
        #expect(day.status == 1, "accepted, then the refused connection: \(day.standardError)")
        #expect(day.errorLines.count == 1 && day.standardError.contains(server.baseURL + Fixtures.names[0]),
                "\(day.standardError)")
        #expect(!FileManager.default.fileExists(atPath: scratch.data.path))
    }

    /// The checksums file as Windows writes it: every line ends in `\r\n`, with a comment and a
    /// blank line; or its last line ends in a bare `\r` and no `\n`; or it starts with the UTF-8
    /// byte-order mark Notepad writes.
    @Test("a checksums file with CRLF line endings or a byte-order mark is read as sha256sum reads it: the download passes",
          arguments: [("", "\r\n"), ("", "\r"), ("\u{FEFF}", "\r\n")])
    func crlfChecksums(start: String, lastLineEnd: String) throws {
        let scratch = try Scratch(fixtures: fixtures)
        defer { scratch.remove() }
        let lines = ["# Windows line endings", ""] + Fixtures.names.map { "\(fixtures.sha256($0))  \($0)" }
        try Data((start + lines.joined(separator: "\r\n") + lastLineEnd).utf8).write(to: scratch.checksums)
        let server = try FixtureServer(serving: scratch.served, scratch: scratch.root)
        defer { server.stop() }

        let output = try downloadData(scratch.arguments(server))
        #expect(output.status == 0, "\(output.standardError)")
        #expect(output.standardError.isEmpty)
        #expect(contents(of: scratch.data) == Fixtures.names.sorted())
        for name in Fixtures.names {
            #expect(output.standardOutput.contains("\(name): downloaded \(fixtures.files[name]!.count) bytes, SHA-256 ok"))
        }
    }

    @Test("a malformed line in a CRLF checksums file is named by its number, without the \\r")
    func crlfChecksumsMalformed() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("sums")
        try Data("# digests\r\n1234  train-images-idx3-ubyte.gz\r\n".utf8).write(to: file)
        let output = try downloadData(["--data", scratch.appendingPathComponent("mnist").path, "--checksums", file.path])
        #expect(output.status == 64)
        #expect(output.errorLines.map(String.init)
                == ["error: --checksums: \(file.path) line 2 is not '<64 hex digits>  <file name>': 1234  train-images-idx3-ubyte.gz"],
                "\(output.standardError)")
    }

    @Test("--data under a file (a-file.txt/mnist, a-file.txt/x/y): one line saying its parent is a file, exit 64, nothing written",
          arguments: ["mnist", "x/y"])
    func dataUnderAFile(below: String) throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let file = scratch.appendingPathComponent("a-file.txt")
        try Data("x".utf8).write(to: file)
        let data = file.path + "/" + below
        let output = try downloadData(["--data", data])
        #expect(output.status == 64, "\(output.standardError)")
        #expect(output.errorLines.map(String.init)
                == ["error: --data: cannot create \(data): its parent \(file.path) is a file, not a folder"],
                "\(output.standardError)")
        #expect(output.standardOutput.isEmpty)
        #expect(contents(of: scratch) == ["a-file.txt"])
    }
}
