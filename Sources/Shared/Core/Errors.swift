// Errors.swift — every way a run can fail, each with the exit status docs/design.md gives it.
//
// Teaches: errors are values with a clear one-line message naming the file or value at fault.
// Leaves out: recovery; a command-line run prints the message and exits.

/// An error a user can cause (bad data, a bad checkpoint, a bad option) or meet (divergence).
///
/// `description` is one line naming the file, value or step and what is wrong; `exitCode` is the
/// process exit status of docs/design.md: 64 bad command line, 65 bad data or checkpoint, 1 otherwise.
public enum NeuralLevelsError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A data file (IDX, gzip) is missing or malformed.
    case badData(file: String, reason: String)
    /// A checkpoint (safetensors) is missing, malformed, or does not fit the network.
    case badCheckpoint(file: String, reason: String)
    /// A command-line value is out of range.
    case badOption(option: String, reason: String)
    /// Training produced a non-finite loss.
    case diverged(style: String, epoch: Int, step: Int, loss: String)
    /// Two levels stopped agreeing (compare-levels).
    case disagreement(String)
    /// Anything else (a report that could not be written, …).
    case failure(String)

    public var description: String {
        switch self {
        case let .badData(file, reason): return "error: \(file): \(reason)"
        case let .badCheckpoint(file, reason): return "error: checkpoint \(file): \(reason)"
        case let .badOption(option, reason): return "error: \(option): \(reason)"
        case let .diverged(style, epoch, step, loss):
            return "error: \(style) diverged at epoch \(epoch), step \(step): loss is \(loss); "
                + "try a lower --learning-rate"
        case let .disagreement(message): return "error: levels disagree: \(message)"
        case let .failure(message): return "error: \(message)"
        }
    }

    /// The same error with `note` after its message, and the same exit status:
    /// `"error: manual diverged at epoch 1, step 13: loss is inf; try a lower --learning-rate;
    /// no epoch completed, so Reports/history-manual.csv was left as it was"`.
    public func noting(_ note: String) -> NeuralLevelsError {
        switch self {
        case let .badData(file, reason): return .badData(file: file, reason: reason + "; " + note)
        case let .badCheckpoint(file, reason): return .badCheckpoint(file: file, reason: reason + "; " + note)
        case let .badOption(option, reason): return .badOption(option: option, reason: reason + "; " + note)
        case .diverged: return .failure(String(description.dropFirst("error: ".count)) + "; " + note)
        case let .disagreement(message): return .disagreement(message + "; " + note)
        case let .failure(message): return .failure(message + "; " + note)
        }
    }

    /// Process exit status (docs/design.md): 64 usage, 65 data/checkpoint, 1 anything else.
    public var exitCode: Int32 {
        switch self {
        case .badOption: return 64
        case .badData, .badCheckpoint: return 65
        case .diverged, .disagreement, .failure: return 1
        }
    }
}
