// BuildNotice.swift — a debug build says so, once, before it trains.
//
// Teaches: `swift run` builds in debug mode by default: no optimisation, every generic kernel
// unspecialised, every array access checked. Training then runs about ten times slower than
// `swift run -c release`, which is easy to mistake for the speed of the code.
// Leaves out: detecting other slow configurations (sanitizers, `NEURAL_LEVELS_READABLE_KERNELS`).

import Foundation

/// How this executable was built.
public enum BuildConfiguration {
    /// Whether this is a debug build (`swift build` / `swift run` without `-c release`).
    public static var isDebug: Bool {
        #if DEBUG
        return true
        #else
        return false
        #endif
    }

    /// The one line a debug build prints before it trains, naming the release command; nil in a
    /// release build.
    public static var debugNotice: String? {
        guard isDebug else { return nil }
        let executable = CommandLine.arguments.first.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "compare-levels"
        return "note: this is a debug build, roughly 10× slower than a release build; "
            + "for real runs use: swift run -c release \(executable) …"
    }

    /// Prints ``debugNotice`` to standard error, once per process (a debug build only).
    public static func announceIfDebug() {
        _ = announced
    }

    private static let announced: Void = {
        if let notice = debugNotice { printToStandardError(notice) }
    }()
}
