// MemoryBudget.swift — will one batch of this network fit in memory? Asked before training.
//
// Teaches: what training holds in memory besides the data. Every layer keeps its activations
// for the backward pass, and the backward pass has a gradient of the same shape for each, so
// memory grows with batch rows × layer widths; the weights come in several copies (the
// parameters, their gradients, the initial weights every style starts from, each style's result).
// Leaves out: the data itself, which is already loaded when this is asked.
//
// Why ask at all: Swift stops the process ("Fatal error: failed to allocate") when an allocation
// fails, and Linux kills it when memory runs out. A wide network with a batch as large as the
// training set (`--hidden 4096,4096 --batch-size 60000`: about 12 GB) should get one line naming
// the options instead.

import Foundation
import Shared

/// A rough upper bound on the memory a run needs, and the memory the process may still use.
public enum MemoryBudget {
    /// About how many bytes training needs beyond its data, for batches of `rows` rows:
    /// `4 · (rows · (2·I + 6·(H1 + H2) + 4·O) + 12 · P)` with `P` the parameter count.
    ///
    /// Per row: the batch and the next one being gathered (`2·I`); per hidden unit up to six
    /// values (Level 4 keeps four, `z`, `a`, `∂ℓ/∂a`, `∂ℓ/∂z`; the tape measured about five);
    /// per output four. Twelve copies of the weights cover parameters, gradients, initial
    /// weights and the results `compare-levels` keeps. Measured peak RSS per row is below this
    /// (level4-manual about 23 KB and compare-levels about 28 KB per row at `--hidden 512,512`,
    /// against 31 KB here).
    public static func estimatedBytes(shape: NetworkShape, rows: Int) -> Double {
        let s = shape.sizes
        let perRow = 2 * s[0] + 6 * (s[1] + s[2]) + 4 * s[3]
        let parameters = zip(s.dropFirst(), s).reduce(0) { $0 + $1.0 * ($1.1 + 1) }
        return 4 * (Double(rows) * Double(perRow) + 12 * Double(parameters))
    }

    /// What limits the process's memory, and how many more bytes it allows.
    public struct Limit: Equatable, Sendable {
        public var bytes: Double
        /// Where the figure comes from, for the message: "available memory", "ulimit -v", …
        public var source: String

        public init(bytes: Double, source: String) { (self.bytes, self.source) = (bytes, source) }
    }

    /// The tightest of: the memory the system reports available (`MemAvailable`), the cgroup's
    /// `memory.max` less its `memory.current`, and the address-space and data-size limits
    /// (`ulimit -v`, `ulimit -d`) less what the process already maps. Nil when none is readable.
    public static func currentLimit() -> Limit? {
        var limits: [Limit] = []
        if let available = meminfoKilobytes("MemAvailable") {
            limits.append(Limit(bytes: available * 1024, source: "available memory"))
        }
        if let max = number(inFile: "/sys/fs/cgroup/memory.max"),
           let current = number(inFile: "/sys/fs/cgroup/memory.current") {
            limits.append(Limit(bytes: max - current, source: "the cgroup's memory.max"))
        }
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?
            .split(separator: " ").compactMap { Double($0) } ?? []
        for (resource, name, statmField) in [(RLIMIT_AS, "ulimit -v", 0), (RLIMIT_DATA, "ulimit -d", 5)] {
            var limit = rlimit()
            guard getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0,
                  limit.rlim_cur != rlim_t.max, statm.count > statmField else { continue }
            limits.append(Limit(bytes: Double(limit.rlim_cur) - statm[statmField] * pageSize, source: name))
        }
        return limits.min { $0.bytes < $1.bytes }
    }

    /// Throws `badOption` when training batches of `rows` rows would need more than `limit`.
    public static func check(shape: NetworkShape, rows: Int, batchSize: Int, limit: Limit?) throws {
        let needed = estimatedBytes(shape: shape, rows: rows)
        guard let limit, needed > limit.bytes else { return }
        let widths = shape.hidden.map(String.init).joined(separator: ",")
        throw NeuralLevelsError.badOption(
            option: "--batch-size \(batchSize) with --hidden \(widths)",
            reason: "training needs about \(gigabytes(needed)) for batches of \(rows) rows, more than the "
                + "\(gigabytes(max(0, limit.bytes))) left (\(limit.source)); use a smaller --batch-size or --hidden")
    }

    static func gigabytes(_ bytes: Double) -> String {
        bytes >= 1e9 ? String(format: "%.1f GB", bytes / 1e9) : String(format: "%.0f MB", bytes / 1e6)
    }

    /// The value in kB of `key` in /proc/meminfo.
    static func meminfoKilobytes(_ key: String) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }
        }
        return nil
    }

    /// The number a one-line file holds ("max" and unreadable files give nil).
    static func number(inFile path: String) -> Double? {
        (try? String(contentsOfFile: path, encoding: .utf8))
            .flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
