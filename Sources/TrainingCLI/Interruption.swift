// Interruption.swift — Ctrl-C and SIGTERM as a request to stop, not a crash.
//
// Teaches: how a long-running training program stops cleanly. The signal handler does the one
// thing a handler may safely do: it records the signal in an atomic flag. The training loop
// asks that flag after every step (the `shouldStop` hook of Shared's `train`), stops between
// two steps, and the executable then writes what is done — histories, the summary — through
// atomic writes, and exits 128 + the signal number (130 for SIGINT, 143 for SIGTERM), as a
// shell expects of a program a signal ended. A second Ctrl-C does not wait: it ends the process
// at once with the signal's default action; files written atomically are still whole (the old
// ones or the new ones), at worst a hidden temp file is left beside them.
// Leaves out: SIGKILL (it cannot be caught; atomic writes are what protect the files then),
// SIGHUP and SIGQUIT (their default actions are kept), and resuming an interrupted run.

import ArgumentParser
import Foundation
import Shared
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The signal that asked the run to stop, or 0. Written only by the signal handler.
private let receivedSignal = Atomic<Int32>(0)

/// True once training has begun: only then does the first signal's notice say anything (before,
/// the run ends at once with its one line, ``Interruption/reportedStop(_:)``).
private let trainingBegun = Atomic<Bool>(false)

/// What the handler prints on the first signal during training: built in advance, because a
/// signal handler may not allocate. (`write(2)`, `sigaction`, `sigemptyset` and `raise` are
/// async-signal-safe.)
private let stoppingNoticeForCtrlC: StaticString = "\nstopping after the current step (press Ctrl-C again to quit at once)\n"
private let stoppingNoticeForSignal: StaticString = "\nstopping after the current step (send the signal again to quit at once)\n"

/// The signal handler: the first signal is recorded; a second one ends the process now.
private func handleStopSignal(_ signal: Int32) {
    let (recorded, _) = receivedSignal.compareExchange(expected: 0, desired: signal, ordering: .sequentiallyConsistent)
    if recorded {
        guard trainingBegun.load(ordering: .sequentiallyConsistent) else { return }
        let notice = signal == SIGINT ? stoppingNoticeForCtrlC : stoppingNoticeForSignal
        _ = write(STDERR_FILENO, notice.utf8Start, notice.utf8CodeUnitCount)
    } else {
        _ = setSignalAction(signal, SIG_DFL)
        _ = raise(signal)
    }
}

/// Installs `handler` for `signal` with `SA_RESTART` (system calls interrupted by the signal
/// resume instead of failing with `EINTR`).
private func setSignalAction(_ signal: Int32, _ handler: (@convention(c) (Int32) -> Void)?) -> Int32 {
    var action = sigaction()
    #if canImport(Darwin)
    action.__sigaction_u.__sa_handler = handler
    #else
    action.__sigaction_handler.sa_handler = handler
    #endif
    action.sa_flags = SA_RESTART
    sigemptyset(&action.sa_mask)
    return sigaction(signal, &action, nil)
}

/// Ctrl-C (SIGINT) and SIGTERM, turned into a flag the training loop checks after every step.
///
/// ```swift
/// Interruption.install()
/// let job = TrainingJob(…, shouldStop: { Interruption.isRequested })
/// … write what is done …
/// if let signal = Interruption.signal { throw Interruption.reportedStop(detail) }
/// ```
public enum Interruption {
    /// The signals that request a clean stop.
    public static let stopSignals: [Int32] = [SIGINT, SIGTERM]

    /// Installs the handler for SIGINT and SIGTERM and makes sure they can arrive. Call it from
    /// the main thread, before training; calling it again changes nothing.
    ///
    /// Two inherited settings are handled as a shell user would expect. A signal the parent set
    /// to be *ignored* stays ignored (`sh` does that for `cmd &`, so that Ctrl-C in the terminal
    /// leaves background jobs alone). A signal the parent *blocked* is unblocked: a process
    /// started from a Dispatch worker thread (Foundation's `Process` in a Swift test or app)
    /// inherits that thread's mask, which blocks SIGINT and SIGTERM, and would otherwise never
    /// see them.
    public static func install() {
        var unblock = sigset_t()
        sigemptyset(&unblock)
        for signal in stopSignals {
            var current = sigaction()
            guard sigaction(signal, nil, &current) == 0 else { continue }
            #if canImport(Darwin)
            let handler = current.__sigaction_u.__sa_handler
            #else
            let handler = current.__sigaction_handler.sa_handler
            #endif
            if unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) { continue }
            _ = setSignalAction(signal, handleStopSignal)
            sigaddset(&unblock, signal)
        }
        pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
    }

    /// Marks the start of training: from now on the first signal prints that the run stops
    /// after the current step. Call it after the run's banner.
    public static func trainingBegins() {
        trainingBegun.store(true, ordering: .sequentiallyConsistent)
    }

    /// The signal received (`SIGINT` or `SIGTERM`), if one was.
    public static var signal: Int32? {
        let value = receivedSignal.load(ordering: .sequentiallyConsistent)
        return value == 0 ? nil : value
    }

    /// True once a stop signal has arrived; the training loop's `shouldStop`.
    public static var isRequested: Bool { signal != nil }

    /// "SIGINT", "SIGTERM", or "signal N".
    public static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// The exit status after stopping for `signal`: 128 + its number (130 SIGINT, 143 SIGTERM).
    public static func exitStatus(for signal: Int32) -> Int32 { 128 + signal }

    /// Prints `interrupted by SIGINT: <detail>` on standard error as one line and returns the
    /// exit status for the signal received (130 when none was, as for Ctrl-C).
    public static func reportedStop(_ detail: String) -> ExitCode {
        let received = signal ?? SIGINT
        printToStandardError("interrupted by \(name(of: received)): \(detail)")
        return ExitCode(exitStatus(for: received))
    }

    /// Where training stopped (`"at epoch 3, step 117"`), read from the stop error the training
    /// loop records when `shouldStop` ends it (`"interrupted at epoch 3, step 117"`).
    public static func position(in stopError: NeuralLevelsError?) -> String? {
        guard case let .failure(message)? = stopError, let range = message.range(of: "interrupted at ") else {
            return nil
        }
        return "at " + message[range.upperBound...]
    }
}
