// Gzip.swift — gzip in and out of memory, through zlib.
//
// Teaches: how a data loader reads `train-images-idx3-ubyte.gz` — a gzip file is a header, a
// raw DEFLATE stream and a CRC-32 + length trailer; zlib's `inflate` with windowBits 15 + 16
// handles all three. It also shows what a careful loader checks: a stream cut short, corrupt
// bytes, and a "zip bomb" that inflates past a size limit each end in one clear error.
// Leaves out: streaming from disk (the files fit in memory), the gzip header's optional fields
// (file name, comment; zlib skips them), and multi-threaded compression.

import CZlib

/// gzip compression and decompression of whole byte arrays (zlib underneath).
public enum Gzip {
    /// windowBits for zlib: 15 (a 32 KiB window, the largest) + 16 (gzip wrapper, not zlib's).
    static let gzipWindowBits: Int32 = 15 + 16

    /// True when `bytes` starts with the gzip magic number `1f 8b`.
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// Inflates a gzip file held in memory.
    ///
    /// Several gzip members one after another (what `cat a.gz b.gz` produces) decompress to
    /// their contents concatenated, as `gunzip` does. The output buffer starts at the size the
    /// trailer announces (bounded by what DEFLATE can reach from this input) and doubles when
    /// full, so a typical file is inflated with no reallocation at all.
    ///
    /// - Parameters:
    ///   - bytes: the whole `.gz` file.
    ///   - file: the file's name, for error messages.
    ///   - maximumSize: refuse output larger than this many bytes (default 1 GiB).
    /// - Throws: ``NeuralLevelsError/badData(file:reason:)`` for a stream that is truncated,
    ///   corrupt (with zlib's message), followed by bytes that are not another gzip member, or
    ///   larger than `maximumSize` once inflated.
    public static func decompress(_ bytes: [UInt8], file: String, maximumSize: Int = 1 << 30) throws -> [UInt8] {
        func bad(_ reason: String) -> NeuralLevelsError { .badData(file: file, reason: reason) }
        guard isCompressed(bytes) else { throw bad("not a gzip file (no 1f 8b magic number)") }
        let limit = max(maximumSize, 0)

        // First guess at the output size: the last member's ISIZE trailer field (length mod 2³²),
        // capped by DEFLATE's best ratio (~1032:1) and by 64 MiB, so that a lying trailer cannot
        // force a huge allocation (a larger output grows as it arrives), and by the limit (+1
        // byte, so that reaching it proves the limit is passed).
        var guess = 64 * 1024
        if bytes.count >= 18 {
            let n = bytes.count
            let isize = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16
                | Int(bytes[n - 1]) << 24
            let (reachable, overflow) = bytes.count.multipliedReportingOverflow(by: 1032)
            guess = max(min(isize + 1, overflow ? Int.max : reachable, 64 << 20), 1024)
        }
        let capacityCap = limit == Int.max ? limit : limit + 1

        // zlib keeps a pointer back to the z_stream, so it lives at one fixed heap address.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        guard inflateInit2_(stream, gzipWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw NeuralLevelsError.failure("zlib: cannot initialise inflate for \(file)")
        }
        defer { inflateEnd(stream) }

        var consumed = 0  // input bytes zlib has used
        var produced = 0  // output bytes zlib has written

        /// Inflates into `out[produced...]` until the last member ends (true) or `out` is full (false).
        func pump(_ out: UnsafeMutableBufferPointer<UInt8>) throws -> Bool {
            try bytes.withUnsafeBufferPointer { input in
                guard let inputBase = input.baseAddress, let outputBase = out.baseAddress else { return false }
                while produced < out.count {
                    // zlib counts in 32-bit `uInt`: feed and drain at most 1 GiB per call.
                    let inChunk = min(input.count - consumed, 1 << 30)
                    let outChunk = min(out.count - produced, 1 << 30)
                    stream.pointee.next_in = UnsafeMutablePointer(mutating: inputBase + consumed)
                    stream.pointee.avail_in = uInt(inChunk)
                    stream.pointee.next_out = outputBase + produced
                    stream.pointee.avail_out = uInt(outChunk)
                    let status = inflate(stream, Z_NO_FLUSH)
                    let used = inChunk - Int(stream.pointee.avail_in)
                    let made = outChunk - Int(stream.pointee.avail_out)
                    consumed += used
                    produced += made

                    switch status {
                    case Z_STREAM_END:
                        // One member done. More input must be another member (`cat a.gz b.gz`).
                        let rest = input.count - consumed
                        if rest == 0 { return true }
                        guard rest >= 2, input[consumed] == 0x1f, input[consumed + 1] == 0x8b else {
                            throw bad("\(rest) bytes after the end of the gzip stream are not a gzip member")
                        }
                        guard inflateReset(stream) == Z_OK else {
                            throw NeuralLevelsError.failure("zlib: cannot reset inflate for \(file)")
                        }
                    case Z_OK, Z_BUF_ERROR:
                        // Progress, or none possible. A full output buffer is grown by the caller;
                        // all input used with room left and no end reached means it was cut short.
                        if stream.pointee.avail_out != 0 && consumed == input.count {
                            throw bad("gzip stream is truncated")
                        }
                        if status == Z_BUF_ERROR && stream.pointee.avail_out != 0 && used == 0 && made == 0 {
                            throw bad("gzip stream is truncated")
                        }
                    case Z_DATA_ERROR, Z_NEED_DICT:
                        throw bad("corrupt gzip data: \(zlibMessage(stream.pointee) ?? "invalid deflate stream")")
                    case Z_MEM_ERROR:
                        throw NeuralLevelsError.failure("zlib: out of memory inflating \(file)")
                    default:
                        throw bad("corrupt gzip data: zlib status \(status)")
                    }
                }
                return false
            }
        }

        // Usually the guess is right and zlib writes straight into a fresh, uninitialised array;
        // otherwise the array doubles (up to the limit) until the stream ends.
        var done = false
        var output = try [UInt8](unsafeUninitializedCapacity: min(guess, capacityCap)) { buffer, initialized in
            defer { initialized = produced }
            done = try pump(buffer)
        }
        while !done {
            guard output.count < capacityCap else { throw bad("decompresses to more than \(limit) bytes") }
            let grown = output.count > capacityCap / 2 ? capacityCap : min(max(output.count * 2, 1024), capacityCap)
            output.append(contentsOf: repeatElement(0, count: grown - output.count))
            done = try output.withUnsafeMutableBufferPointer { try pump($0) }
        }
        if produced > limit { throw bad("decompresses to more than \(limit) bytes") }
        output.removeLast(output.count - produced)
        return output
    }

    /// Compresses `bytes` into one gzip member (`deflate`, windowBits 15 + 16).
    ///
    /// Used by the tests to write `.gz` fixtures.
    ///
    /// - Parameters:
    ///   - bytes: the data to compress.
    ///   - level: zlib's level, 0 (store) … 9 (smallest); 6 is gzip's default.
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        let level = min(max(level, 0), 9)
        let initStatus = deflateInit2_(stream, level, Z_DEFLATED, gzipWindowBits, 8, Z_DEFAULT_STRATEGY,
                                       zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(initStatus == Z_OK, "zlib: deflateInit2 failed (\(initStatus))")
        defer { deflateEnd(stream) }

        var output = [UInt8](repeating: 0, count: max(Int(deflateBound(stream, uLong(bytes.count))), 64))
        var produced = 0
        bytes.withUnsafeBufferPointer { input in
            var consumed = 0
            while true {
                let inChunk = min(input.count - consumed, 1 << 30)
                let finishing = consumed + inChunk == input.count
                if produced == output.count {
                    output.append(contentsOf: repeatElement(0, count: output.count))
                }
                let outChunk = min(output.count - produced, 1 << 30)
                stream.pointee.next_in = input.baseAddress.map { UnsafeMutablePointer(mutating: $0 + consumed) }
                stream.pointee.avail_in = uInt(inChunk)
                let status = output.withUnsafeMutableBufferPointer { out -> Int32 in
                    stream.pointee.next_out = out.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = uInt(outChunk)
                    return deflate(stream, finishing ? Z_FINISH : Z_NO_FLUSH)
                }
                consumed += inChunk - Int(stream.pointee.avail_in)
                produced += outChunk - Int(stream.pointee.avail_out)
                if status == Z_STREAM_END { return }
                precondition(status == Z_OK || status == Z_BUF_ERROR, "zlib: deflate failed (\(status))")
            }
        }
        output.removeLast(output.count - produced)
        return output
    }

    /// zlib's own description of the last error, if it gave one.
    private static func zlibMessage(_ stream: z_stream) -> String? {
        stream.msg.map { String(cString: $0) }
    }
}
