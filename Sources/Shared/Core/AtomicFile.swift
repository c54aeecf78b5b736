// AtomicFile.swift — writing a file so that readers see the old contents or the new, never half.
//
// Teaches: the temp-file-and-rename idiom every checkpointing framework uses. The bytes go to a
// uniquely named file in the target's own folder, are flushed to disk (`fsync`), and the temp
// file is then renamed over the target; `rename` within one file system is atomic, so a crash or
// a full disk leaves either the previous file or the complete new one. Also the matching reader,
// with one clear reason for each way a read fails.
// Leaves out: creating parent folders (a missing folder is an error the user should see),
// fsyncing the folder on every platform's terms, and file locking between writers.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Atomic whole-file writes: temp file in the same folder, `fsync`, `rename` over the target.
public enum AtomicFile {
    /// Writes `bytes` to `path`, replacing any existing file atomically.
    ///
    /// The bytes are first written to `.<name>.tmp-<pid>-<random>` beside `path` (created
    /// exclusively, mode 0644 before the umask), flushed with `fsync`, then renamed onto `path`.
    /// The parent folder must already exist, and `path`, if it exists, must be a file (or a
    /// link): a folder, a device or a pipe is never replaced. On any failure the temp file is removed and
    /// ``NeuralLevelsError/failure(_:)`` `"cannot write <path>: <reason>"` is thrown; the
    /// previous contents of `path`, if any, are untouched.
    public static func write<Bytes: Collection<UInt8>>(_ bytes: Bytes, to path: String) throws {
        let written = bytes.withContiguousStorageIfAvailable { buffer in
            Result { try write(to: path) { append in try append(UnsafeRawBufferPointer(buffer)) } }
        }
        if let written {
            try written.get()
        } else {
            let copy = Array(bytes)
            try copy.withUnsafeBytes { buffer in try write(to: path) { append in try append(buffer) } }
        }
    }

    /// Writes `string` as UTF-8 to `path`, atomically (see ``write(_:to:)``).
    public static func write(string: String, to path: String) throws {
        try write(Array(string.utf8), to: path)
    }

    /// The temp-file path used for one write to `path`: same folder, hidden, unique name.
    static func temporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return "\(folder).\(name).tmp-\(getpid())-\(random)"
    }

    /// The reason in an error ``write(_:to:)`` threw for `path`, without its "cannot write
    /// <path>: ", for a caller that names the file its own way ("cannot write chart <path>: …");
    /// another failure's message, or any other error's description.
    public static func reason(of error: any Error, writing path: String) -> String {
        let prefix = failurePrefix(path)
        guard case .failure(let message)? = error as? NeuralLevelsError else { return "\(error)" }
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }

    private static func failurePrefix(_ path: String) -> String { "cannot write \(path): " }

    /// Why ``write(_:to:)`` will not replace what is at `path` ("is a folder, not a file", "is not
    /// a regular file (…)"), or nil when it will: nothing, a file, or a link (the rename replaces
    /// the link itself). A device or a pipe is never replaced: `--save /dev/null` as root would
    /// swap the device for a file.
    public static func refusalToReplace(_ path: String) -> String? {
        var existing = stat()
        guard lstat(path, &existing) == 0 else { return nil }
        switch existing.st_mode & S_IFMT {
        case S_IFREG, S_IFLNK: return nil
        case S_IFDIR: return "is a folder, not a file"
        default: return "is not a regular file (a device, a pipe or a socket)"
        }
    }

    /// Writes to `path`, atomically as ``write(_:to:)`` does, the bytes `produce` passes to its
    /// `append`, chunk after chunk: for a file too large to build in memory first. An error
    /// `produce` throws leaves `path` as it was and is rethrown.
    public static func write(to path: String,
                             chunks produce: (_ append: (UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        func failure(_ reason: String) -> NeuralLevelsError {
            .failure(failurePrefix(path) + reason)
        }
        guard !path.isEmpty, !path.hasSuffix("/") else { throw failure("not a file path") }
        if let refusal = refusalToReplace(path) { throw failure(refusal) }

        let temporary = temporaryPath(for: path)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw failure(FileBytes.systemErrorMessage()) }
        var closed = false
        var succeeded = false
        defer {
            if !closed { close(descriptor) }
            if !succeeded { unlink(temporary) }
        }

        // write(2) may write less than asked, or be interrupted: loop until everything is out.
        try produce { buffer in
            var offset = 0
            while offset < buffer.count {
                let base = buffer.baseAddress.map { $0 + offset }
                let result = systemWrite(descriptor, base, buffer.count - offset)
                if result < 0 {
                    if errno == EINTR { continue }
                    throw failure(FileBytes.systemErrorMessage())
                }
                offset += result
            }
        }
        guard fsync(descriptor) == 0 else { throw failure(FileBytes.systemErrorMessage()) }
        closed = true
        guard close(descriptor) == 0 else { throw failure(FileBytes.systemErrorMessage()) }
        guard rename(temporary, path) == 0 else { throw failure(FileBytes.systemErrorMessage()) }
        succeeded = true
    }
}

/// What a file that a command may replace holds: nothing yet, more than it would read, or its
/// bytes (download-data fetches a missing or too large data file, and checks one that is there).
public enum ExistingFile: Equatable {
    case absent
    /// Larger than the most read; `reason` says so ("is 3.0 GiB, larger than …").
    case tooLarge(reason: String)
    case contents([UInt8])

    /// What is at `path`: read as ``readRegularFile(atPath:maximumSize:)`` reads it.
    ///
    /// - Throws: ``NeuralLevelsError/badData(file:reason:)`` for what is there but is no file to
    ///   read or replace: a folder, a device, a pipe, or a file that cannot be read.
    public static func at(_ path: String, maximumSize: Int) throws -> ExistingFile {
        do {
            return .contents(try FileBytes.read(path: path, maximumSize: maximumSize))
        } catch {
            switch error.kind {
            case .missing: return .absent
            case .tooLarge: return .tooLarge(reason: error.reason)
            case .other: throw NeuralLevelsError.badData(file: path, reason: error.reason)
            }
        }
    }
}

/// `path` without the slashes that end it (`"Reports/"` is `"Reports"`), but `"/"` itself.
public func withoutTrailingSlashes(_ path: String) -> String {
    var path = Substring(path)
    while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
    return String(path)
}

/// The folder part of `path`, as `NSString.deletingLastPathComponent` gives it: `"x"` for
/// `"x/y"` and `"x/y/"`, `"/"` for `"/a"`, and `""` for a bare name such as `"a"` (the current
/// folder). Written out because Foundation's own traps on a path of one character.
public func parentFolder(of path: String) -> String {
    let path = withoutTrailingSlashes(path)
    guard let slash = path.lastIndex(of: "/") else { return "" }
    var folder = path[..<slash]
    while folder.hasSuffix("/") { folder = folder.dropLast() }
    return folder.isEmpty ? "/" : String(folder)
}

/// The bytes of the regular file at `path`, read whole: at most `maximumSize` bytes (1 GiB).
///
/// - Throws: ``NeuralLevelsError/badData(file:reason:)`` naming `path` and why: "no such file",
///   "is a folder, not a file", "is not a regular file …", "is 2.0 GiB, larger than …".
public func readRegularFile(atPath path: String, maximumSize: Int = 1 << 30) throws -> [UInt8] {
    do {
        return try FileBytes.read(path: path, maximumSize: maximumSize)
    } catch {
        throw NeuralLevelsError.badData(file: path, reason: error.reason)
    }
}

/// Whole-file reads with one clear reason per failure ("no such file", "is a folder, …", "is not
/// a regular file", "is … bytes, more than …").
enum FileBytes {
    /// Why a read failed, phrased to follow the file name in an error message.
    struct Problem: Error {
        /// Nothing at the path, a file larger than the most the read allows, or anything else
        /// (not a regular file, unreadable).
        enum Kind { case missing, tooLarge, other }

        var reason: String
        var kind = Kind.other
    }

    /// The largest file ``read(path:maximumSize:)`` reads by default: 1 GiB, far above any
    /// labels file or checkpoint of this network (the training labels are 60 KB, a checkpoint
    /// with 4,096-wide hidden layers in Double 160 MB).
    static let defaultMaximumSize = 1 << 30

    /// Opens `path` for reading if it is a regular file; returns the descriptor and the file's
    /// length. A folder, a device (`/dev/zero` never ends), a pipe or a socket is refused
    /// before anything is read; the open itself does not wait for a pipe's writer.
    static func openRegularFile(path: String) throws(Problem) -> (descriptor: Int32, size: Int) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else {
            throw errno == ENOENT ? Problem(reason: "no such file", kind: .missing)
                : Problem(reason: "cannot open: \(systemErrorMessage())")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let problem = Problem(reason: "cannot read: \(systemErrorMessage())")
            close(descriptor)
            throw problem
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
            return (descriptor, max(Int(status.st_size), 0))
        case S_IFDIR:
            close(descriptor)
            throw Problem(reason: "is a folder, not a file")
        default:
            close(descriptor)
            throw Problem(reason: "is not a regular file (a device, a pipe or a socket)")
        }
    }

    /// The contents of `path`, a regular file of at most `maximumSize` bytes (`limitName` ends the
    /// message for a larger one: "is 2.0 GiB, larger than the 1.0 GiB read from one file").
    static func read(path: String, maximumSize: Int = defaultMaximumSize,
                     limitName: String = "read from one file") throws(Problem) -> [UInt8] {
        let (descriptor, size) = try openRegularFile(path: path)
        defer { close(descriptor) }
        func tooLarge(_ bytes: Int) -> Problem {
            func size(_ count: Int) -> String {                   // GiB or MiB to one decimal, rounded
                guard count >= 1 << 20 else { return "\(count) bytes" }
                let (unit, name) = count >= 1 << 30 ? (Double(1 << 30), "GiB") : (Double(1 << 20), "MiB")
                let tenths = Int((Double(count) / unit * 10).rounded())
                return "\(tenths / 10).\(tenths % 10) \(name)"
            }
            let (actual, limit) = (size(bytes), size(maximumSize))
            return actual == limit                                 // just over: the exact counts say it
                ? Problem(reason: "is \(bytes) bytes, larger than the \(maximumSize) bytes \(limitName)", kind: .tooLarge)
                : Problem(reason: "is \(actual), larger than the \(limit) \(limitName)", kind: .tooLarge)
        }
        guard size <= maximumSize else { throw tooLarge(size) }

        // Read in chunks, sized from the file's length (it may still grow or shrink meanwhile).
        var result: [UInt8] = []
        result.reserveCapacity(size + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Problem(reason: "cannot read: \(systemErrorMessage())")
            }
            if count == 0 { break }
            guard result.count + count <= maximumSize else { throw tooLarge(result.count + count) }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// `strerror(errno)` as a Swift string.
    static func systemErrorMessage() -> String {
        let code = errno
        guard let message = strerror(code) else { return "error \(code)" }
        return String(cString: message)
    }
}


private func systemWrite(_ descriptor: Int32, _ pointer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(descriptor, pointer, count)
}

private func systemRead(_ descriptor: Int32, _ pointer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, pointer, count)
}
