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
    /// What a run holds besides its data: the rows of its largest batch, and the copies of the
    /// weights it keeps.
    public struct Need: Equatable, Sendable {
        /// Rows of the largest batch: a training batch, or an evaluation chunk (1,000 test rows).
        public var rows: Int
        /// Copies of the network's weights alive at once: about 4 for one style (parameters,
        /// gradients, initial weights, the result), more for `compare-levels` (each style's
        /// result) and for a mistake that keeps the weights of every step.
        public var weightCopies: Int
        /// Bytes beyond both, such as a mistake's rescaled copy of the data.
        public var extraBytes: Double

        public init(rows: Int, weightCopies: Int = 4, extraBytes: Double = 0) {
            (self.rows, self.weightCopies, self.extraBytes) = (rows, weightCopies, extraBytes)
        }

        /// Rows of the largest batch a run of `batchSize` over these splits makes: training
        /// batches of at most `batchSize` training rows, evaluation chunks of at most 1,000 test
        /// rows (Keras's `fit` validates in chunks of 1,000 too).
        public static func rows(batchSize: Int, trainCount: Int, testCount: Int) -> Int {
            max(min(batchSize, trainCount), min(1000, testCount))
        }
    }

    /// About how many bytes a run needs beyond its data:
    /// `4 · (rows · (2·I + 6·(H1 + H2) + 4·O) + copies · P) + extra`, `P` the parameter count.
    ///
    /// Per row: the batch and the next one being gathered (`2·I`); per hidden unit up to six
    /// values (Level 4 keeps four, `z`, `a`, `∂ℓ/∂a`, `∂ℓ/∂z`; the tape measured about five);
    /// per output four. Measured peak RSS per row is below this (level4-manual about 23 KB and
    /// compare-levels about 28 KB per row at `--hidden 512,512`, against 31 KB here).
    public static func estimatedBytes(shape: NetworkShape, need: Need) -> Double {
        let s = shape.sizes
        let perRow = 2 * s[0] + 6 * (s[1] + s[2]) + 4 * s[3]
        return 4 * (Double(need.rows) * Double(perRow) + Double(need.weightCopies) * Double(shape.parameterCount))
            + need.extraBytes
    }

    /// What limits the process's memory, and how many more bytes it allows.
    public struct Limit: Equatable, Sendable {
        public var bytes: Double
        /// Where the figure comes from, for the message: "available memory", "ulimit -v", …
        public var source: String
        /// For an address-space limit: the limit itself, and what the program maps before any
        /// training (what it already maps, and the allowance for what it will map untouched).
        public var addressSpace: AddressSpace?

        public struct AddressSpace: Equatable, Sendable {
            public var limit: Double
            public var programMaps: Double
            public init(limit: Double, programMaps: Double) { (self.limit, self.programMaps) = (limit, programMaps) }
        }

        public init(bytes: Double, source: String, addressSpace: AddressSpace? = nil) {
            (self.bytes, self.source, self.addressSpace) = (bytes, source, addressSpace)
        }
    }

    /// Address space a run maps beyond what it touches (thread stacks, malloc's per-thread
    /// arenas, library buffers): measured about 570 MB above peak RSS for compare-levels, which
    /// `ulimit -v` counts and RSS does not.
    static let addressSpaceAllowance = 640e6

    /// The tightest of: the memory the system reports available (`MemAvailable`); the memory
    /// cgroup's limit (v2 `memory.max`, v1 `memory.limit_in_bytes`, of the process's own cgroup
    /// and its ancestors) less its use without the page cache it can reclaim (`inactive_file`);
    /// and the address-space and data-size limits (`ulimit -v`, `ulimit -d`) less what the
    /// process already maps (and, for `-v`, an allowance for what it will map without touching).
    /// Nil when none is readable.
    public static func currentLimit() -> Limit? {
        var limits: [Limit] = []
        if let available = meminfoKilobytes("MemAvailable") {
            limits.append(Limit(bytes: available * 1024, source: "available memory"))
        }
        if let cgroup = cgroupLimit() { limits.append(cgroup) }
        let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
        let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?
            .split(separator: " ").compactMap { Double($0) } ?? []
        for (resource, name, statmField, allowance) in [(RLIMIT_AS, "ulimit -v", 0, addressSpaceAllowance),
                                                        (RLIMIT_DATA, "ulimit -d", 5, 0)] {
            var limit = rlimit()
            guard getrlimit(__rlimit_resource_t(resource.rawValue), &limit) == 0,
                  limit.rlim_cur != rlim_t.max, statm.count > statmField else { continue }
            let programMaps = statm[statmField] * pageSize + allowance
            limits.append(Limit(bytes: Double(limit.rlim_cur) - programMaps, source: name,
                                addressSpace: resource == RLIMIT_AS
                                    ? Limit.AddressSpace(limit: Double(limit.rlim_cur), programMaps: programMaps) : nil))
        }
        return limits.min { $0.bytes < $1.bytes }
    }

    /// The memory cgroup's room: for each cgroup from the process's own up to the root, its
    /// limit less its use (less the inactive page cache it can reclaim); the smallest.
    static func cgroupLimit() -> Limit? {
        guard let membership = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8) else { return nil }
        var rooms: [Double] = []
        for line in membership.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let (controllers, path) = (fields[1], String(fields[2]))
            let (root, files): (String, (max: String, current: String, inactive: String))
            if controllers.isEmpty, fields[0] == "0" {                                  // v2
                (root, files) = ("/sys/fs/cgroup", ("memory.max", "memory.current", "inactive_file"))
            } else if controllers.split(separator: ",").contains("memory") {            // v1
                (root, files) = ("/sys/fs/cgroup/memory", ("memory.limit_in_bytes", "memory.usage_in_bytes",
                                                           "total_inactive_file"))
            } else { continue }
            var folder = path
            while true {
                let base = root + (folder == "/" ? "" : folder)
                if let max = number(inFile: base + "/" + files.max), max < 1e18,       // v1 "no limit" is ~9.2e18
                   let current = number(inFile: base + "/" + files.current) {
                    let reclaimable = statValue(files.inactive, inFile: base + "/memory.stat") ?? 0
                    rooms.append(max - (current - reclaimable))
                }
                guard folder != "/", !folder.isEmpty else { break }
                folder = parentFolder(of: folder)
            }
        }
        return rooms.min().map { Limit(bytes: $0, source: "the memory cgroup's limit") }
    }

    /// Throws `badOption` when a run needing `need` would not fit in `limit`.
    public static func check(shape: NetworkShape, need: Need, batchSize: Int, limit: Limit?) throws {
        let needed = estimatedBytes(shape: shape, need: need)
        guard let limit, needed > limit.bytes else { return }
        let widths = shape.hidden.map(String.init).joined(separator: ",")
        let withoutRows = estimatedBytes(shape: shape, need: Need(rows: 0, weightCopies: need.weightCopies,
                                                                   extraBytes: need.extraBytes))
        let advice = withoutRows >= limit.bytes ? "use a smaller --hidden" : "use a smaller --batch-size or --hidden"
        if limit.bytes <= 0, let space = limit.addressSpace {
            // No network fits: the program itself maps more than the limit allows.
            throw NeuralLevelsError.badOption(
                option: "--batch-size \(batchSize) with --hidden \(widths)",
                reason: "training needs about \(gigabytes(needed)), but \(limit.source) (\(gigabytes(space.limit))) is less "
                    + "than the about \(gigabytes(space.programMaps)) of address space the program maps before training "
                    + "(thread stacks, malloc's arenas, OpenBLAS's buffers); raise \(limit.source) to at least "
                    + gigabytes(((space.programMaps + needed) / 1e8).rounded(.up) * 1e8))
        }
        throw NeuralLevelsError.badOption(
            option: "--batch-size \(batchSize) with --hidden \(widths)",
            reason: "training needs about \(gigabytes(needed)) (batches of up to \(need.rows) rows, "
                + "\(need.weightCopies) copies of the weights), more than the \(gigabytes(max(0, limit.bytes))) left "
                + "(\(limit.source)); \(advice)")
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

    /// The value of `key` in a `key value` file such as `memory.stat`.
    static func statValue(_ key: String, inFile path: String) -> Double? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == key { return Double(parts[1]) }
        }
        return nil
    }

    /// The number a one-line file holds ("max" and unreadable files give nil).
    static func number(inFile path: String) -> Double? {
        (try? String(contentsOfFile: path, encoding: .utf8))
            .flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }
}
