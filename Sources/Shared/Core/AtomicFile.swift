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
    /// The parent folder must already exist. On any failure the temp file is removed and
    /// ``NeuralLevelsError/failure(_:)`` `"cannot write <path>: <reason>"` is thrown; the
    /// previous contents of `path`, if any, are untouched.
    public static func write<Bytes: Collection<UInt8>>(_ bytes: Bytes, to path: String) throws {
        let written = bytes.withContiguousStorageIfAvailable { buffer in
            Result { try writeContiguous(UnsafeRawBufferPointer(buffer), to: path) }
        }
        if let written {
            try written.get()
        } else {
            let copy = Array(bytes)
            try copy.withUnsafeBytes { try writeContiguous($0, to: path) }
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

    private static func writeContiguous(_ buffer: UnsafeRawBufferPointer, to path: String) throws {
        func failure(_ reason: String) -> NeuralLevelsError {
            .failure("cannot write \(path): \(reason)")
        }
        guard !path.isEmpty, !path.hasSuffix("/") else { throw failure("not a file path") }

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
        guard fsync(descriptor) == 0 else { throw failure(FileBytes.systemErrorMessage()) }
        closed = true
        guard close(descriptor) == 0 else { throw failure(FileBytes.systemErrorMessage()) }
        guard rename(temporary, path) == 0 else { throw failure(FileBytes.systemErrorMessage()) }
        succeeded = true
    }
}

/// Whole-file reads with one clear reason per failure ("no such file", "is a folder, …").
enum FileBytes {
    /// Why a read failed, phrased to follow the file name in an error message.
    struct Problem: Error {
        var reason: String
    }

    /// The contents of `path`.
    static func read(path: String) throws(Problem) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw Problem(reason: errno == ENOENT ? "no such file" : "cannot open: \(systemErrorMessage())")
        }
        defer { close(descriptor) }

        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw Problem(reason: "cannot read: \(systemErrorMessage())")
        }
        if (status.st_mode & S_IFMT) == S_IFDIR { throw Problem(reason: "is a folder, not a file") }

        // Read in chunks, sized from the file's length when it has one (pipes report 0).
        var result: [UInt8] = []
        result.reserveCapacity(max(Int(status.st_size), 0) + 1)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = chunk.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Problem(reason: "cannot read: \(systemErrorMessage())")
            }
            if count == 0 { break }
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
