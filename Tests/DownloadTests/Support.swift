// Support.swift — for the download tests: running `download-data` as a user would, a loopback
// HTTP server (python3) serving fixture files, and tiny valid MNIST-format fixtures.
//
// Teaches: how to test a network client without the network. A real HTTP server on 127.0.0.1,
// started on a port the operating system picks (port 0, read back from the server's first
// line), serves files the test wrote; a twenty-line Python handler misbehaves on purpose (announces
// more bytes than it sends, then hangs up or goes silent) for a truncated or a stalled transfer.
// Leaves out: TLS (the client code is the same for https; only the scheme differs). The process
// helpers are in TestSupport.

import Foundation
import Shared
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The environment for child processes: this one without proxy settings (a proxy would be
/// asked for 127.0.0.1), and with `NEURAL_LEVELS_DATA` unset (every test passes `--data`).
let childEnvironment: [String: String] = {
    var environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().contains("proxy") }
    environment["NEURAL_LEVELS_DATA"] = nil
    environment["no_proxy"] = "127.0.0.1,localhost"
    environment["NO_PROXY"] = "127.0.0.1,localhost"
    return environment
}()

/// Runs `download-data` to completion.
func downloadData(_ arguments: [String]) throws -> ProcessOutput {
    try run("download-data", arguments, environment: childEnvironment)
}

/// A new empty folder, removed by the caller.
func temporaryDirectory() throws -> URL {
    try TestSupport.temporaryDirectory(prefix: "NeuralLevelsDownload")
}

/// Every name in `folder`, hidden ones (a leftover `.name.tmp-…`) included; empty if it is missing.
func contents(of folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}

// MARK: - Fixtures

/// Four tiny MNIST-format files, gzipped as the mirror serves them: 5 training and 3 test images
/// of 28×28 (so they load into the 784-input network) and their labels.
struct Fixtures {
    static let names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    static let trainLabels: [UInt8] = [5, 0, 4, 1, 9]
    static let testLabels: [UInt8] = [7, 2, 1]

    /// The `.gz` bytes of each file, by name.
    let files: [String: [UInt8]]

    init() {
        func bigEndian(_ value: Int) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
        func images(_ count: Int, seed: Int) -> [UInt8] {
            [0, 0, 8, 3] + bigEndian(count) + bigEndian(28) + bigEndian(28)
                + (0..<(count * 784)).map { UInt8(truncatingIfNeeded: ($0 * 7 + seed) % 256) }
        }
        func labels(_ values: [UInt8]) -> [UInt8] { [0, 0, 8, 1] + bigEndian(values.count) + values }
        files = [
            Self.names[0]: Gzip.compress(images(Self.trainLabels.count, seed: 1)),
            Self.names[1]: Gzip.compress(labels(Self.trainLabels)),
            Self.names[2]: Gzip.compress(images(Self.testLabels.count, seed: 2)),
            Self.names[3]: Gzip.compress(labels(Self.testLabels)),
        ]
    }

    func sha256(_ name: String) -> String { SHA256.hexDigest(files[name]!) }

    /// Writes the four files into `folder` (the served folder).
    func write(to folder: URL) throws {
        for (name, bytes) in files { try Data(bytes).write(to: folder.appendingPathComponent(name)) }
    }

    /// Writes a `sha256sum`-style checksums file for `--checksums`, with `overrides` replacing
    /// the digests of the files named.
    func writeChecksums(to file: URL, overrides: [String: String] = [:]) throws {
        let lines = Self.names.map { "\(overrides[$0] ?? sha256($0))  \($0)" }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
    }
}

// MARK: - A loopback HTTP server

/// A python3 HTTP server on 127.0.0.1 serving one folder, on a port the system picked; stopped
/// (SIGKILL, then waited for) by ``stop()``, which every test calls in a `defer`.
final class FixtureServer {
    private let process = Process()
    /// `http://127.0.0.1:<port>/`.
    private(set) var baseURL = ""

    /// How the server misbehaves for one file.
    enum Fault: String {
        /// Announces the file's full length, sends half of it, and closes the connection.
        case truncate
        /// Announces the file's full length, sends half of it, and then sends nothing more.
        case stall
        /// Announces 100 GB and sends zeros until the client hangs up.
        case huge
    }

    /// Serves `folder` with `python3 -m http.server`, or, when `fault` names a file, with a
    /// small handler that serves that file with the fault.
    init(serving folder: URL, fault: (file: String, kind: Fault)? = nil, scratch: URL) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        if let fault {
            let script = scratch.appendingPathComponent("faulty_server.py")
            try Self.faultyHandler.write(to: script, atomically: true, encoding: .utf8)
            process.arguments = ["python3", "-u", script.path, folder.path, fault.file, fault.kind.rawValue]
        } else {
            process.arguments = ["python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "0",
                                 "--directory", folder.path]
        }
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice             // request logs
        try process.run()

        // The first line names the port: "Serving HTTP on 127.0.0.1 port 41234 (…) ..." or "port 41234".
        var firstLine = ""
        while !firstLine.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }                             // the server exited
            firstLine += String(decoding: chunk, as: UTF8.self)
        }
        let words = firstLine.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let index = words.firstIndex(of: "port"), index + 1 < words.count, let port = Int(words[index + 1]) else {
            stop()
            throw ServerError(message: "python3 HTTP server did not start: \(firstLine)")
        }
        baseURL = "http://127.0.0.1:\(port)/"
    }

    struct ServerError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Kills the server with SIGKILL and waits for it. (Not SIGTERM: a child process inherits
    /// the signal mask of the thread that started it, and the test runner's threads block
    /// SIGTERM, so python would never see it.)
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Serves argv[1]; for the file named argv[2], sends `Content-Length` of the whole file, then
    /// only its first half, and then closes the connection (argv[3] `truncate`) or waits (`stall`);
    /// or announces 100 GB and streams zeros (`huge`).
    static let faultyHandler = """
        import http.server, os, sys, time

        directory, truncated, fault = sys.argv[1], sys.argv[2], sys.argv[3]

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=directory, **kwargs)

            def do_GET(self):
                if self.path.rsplit("/", 1)[-1] != truncated:
                    return super().do_GET()
                with open(os.path.join(directory, truncated), "rb") as f:
                    body = f.read()
                self.send_response(200)
                self.send_header("Content-Type", "application/gzip")
                if fault == "huge":
                    self.send_header("Content-Length", str(10**11))
                    self.end_headers()
                    try:
                        while True:
                            self.wfile.write(bytes(1 << 20))
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if fault == "stall":
                    time.sleep(60)
                self.close_connection = True

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print("port", server.server_address[1], flush=True)
        server.serve_forever()
        """
}
