// Processes.swift — running the package's executables from tests as a user would: to
// completion, or in the background with output read as it arrives so that a test can wait for
// a line and send a signal. Shared by the test targets that drive executables
// (CommandLineTests, ReliabilityTests, DownloadTests).
//
// Teaches: how to test a program from outside: by exit status, standard output and error, and
// the files it leaves behind.
// Leaves out: anything specific to one suite (fixtures live with their tests).

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where SwiftPM put the executables (next to the test bundle).
public let productsDirectory: URL = {
    #if os(macOS)
    for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
        return bundle.bundleURL.deletingLastPathComponent()
    }
    #endif
    return Bundle.main.bundleURL
}()

/// How a finished process ended and what it printed.
public struct ProcessOutput: Sendable {
    /// The exit status, or the signal number when a signal ended it (`endedBySignal`).
    public var status: Int32
    public var endedBySignal: Bool
    public var standardOutput: String
    public var standardError: String

    /// Standard error's non-empty lines.
    public var errorLines: [Substring] { standardError.split(separator: "\n") }
}

/// One of the package's executables, started in the background; its output is collected as it
/// arrives, so a test can wait for a line and then send a signal.
public final class RunningProcess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()
    private let readers = DispatchGroup()

    /// Starts `executable` (a product of this package) with `arguments`, in `environment`
    /// (this process's own when nil).
    public convenience init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        try self.init(url: productsDirectory.appendingPathComponent(executable), arguments, environment: environment)
    }

    /// Starts the program at `url` with `arguments`, in `environment` (this process's own when nil).
    public init(url: URL, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = url
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        collect(out.fileHandleForReading) { $0.output.append($1) }
        collect(err.fileHandleForReading) { $0.errors.append($1) }
    }

    /// Reads `handle` on its own thread until end of file, appending each chunk under the lock.
    private func collect(_ handle: FileHandle, into append: @escaping @Sendable (RunningProcess, Data) -> Void) {
        readers.enter()
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { append(self, chunk) }
            }
            readers.leave()
        }
    }

    public var processIdentifier: Int32 { process.processIdentifier }

    /// Standard output so far.
    public var standardOutputSoFar: String { lock.withLock { String(decoding: output, as: UTF8.self) } }

    /// Standard error so far.
    public var standardErrorSoFar: String { lock.withLock { String(decoding: errors, as: UTF8.self) } }

    /// Waits until standard error contains `text` (true), or the process ends or `timeout`
    /// seconds pass first (false).
    public func waitForError(containing text: String, timeout: Double = 60) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if standardErrorSoFar.contains(text) { return true }
            if !process.isRunning { return standardErrorSoFar.contains(text) }
            usleep(1_000)
        }
        return false
    }

    /// Waits until standard output contains lines starting with each of `prefixes`, in that
    /// order (true), or the process ends or `timeout` seconds pass first (false).
    public func waitForLines(startingWith prefixes: [String], timeout: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            var remaining = prefixes[...]
            for line in standardOutputSoFar.split(separator: "\n") where remaining.first.map(line.hasPrefix) == true {
                remaining = remaining.dropFirst()
            }
            if remaining.isEmpty { return true }
            if !process.isRunning { return false }
            usleep(10_000)
        }
        return false
    }

    /// Waits for a line starting with `prefix` (see ``waitForLines(startingWith:timeout:)``).
    public func waitForLine(startingWith prefix: String, timeout: Double = 120) -> Bool {
        waitForLines(startingWith: [prefix], timeout: timeout)
    }

    /// Sends `signal` to the process.
    public func send(_ signal: Int32) {
        kill(process.processIdentifier, signal)
    }

    /// Kills the process (SIGKILL) and waits for it, if it is still running: for a `defer`, so
    /// that a test that stops early (a failed `#require`) leaves no run behind it.
    public func stopIfRunning() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        _ = finish()
    }

    /// Waits for the process to end and for its output to be read.
    public func finish() -> ProcessOutput {
        process.waitUntilExit()
        readers.wait()
        return lock.withLock {
            ProcessOutput(status: process.terminationStatus, endedBySignal: process.terminationReason == .uncaughtSignal,
                          standardOutput: String(decoding: output, as: UTF8.self),
                          standardError: String(decoding: errors, as: UTF8.self))
        }
    }
}

/// Runs one of the package's executables to completion.
public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> ProcessOutput {
    try RunningProcess(executable, arguments, environment: environment).finish()
}

/// Runs one of the package's executables to completion through bash: `setup` first (such as
/// `ulimit -v 2000000;`), then the executable with `redirections` (such as `2>&-`, which closes
/// its standard error).
public func runInShell(_ executable: String, _ arguments: [String], setup: String = "",
                       redirections: String = "") throws -> ProcessOutput {
    let path = productsDirectory.appendingPathComponent(executable).path
    return try RunningProcess(url: URL(fileURLWithPath: "/bin/bash"),
                              ["-c", "\(setup) exec \"$0\" \"$@\" \(redirections)", path] + arguments).finish()
}

/// A new empty folder under the system temp folder (the caller removes it).
public func temporaryDirectory(prefix: String = "NeuralLevelsTests") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}


