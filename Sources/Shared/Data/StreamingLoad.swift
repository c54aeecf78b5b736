// StreamingLoad.swift — the training images, from the .gz file to pixel bytes in one pass.
//
// Teaches: why a loader streams. Read whole, the training images would be in memory twice at
// once: 26 MB compressed and 47 MB inflated. Read in pieces — a megabyte of the file at a time,
// inflated 64 KB at a time, each piece appended to the pixels as it arrives — only the pixels
// themselves are ever large (they stay bytes: the data set scales each batch to `byte / 255` as
// it gathers it, see Dataset.swift). The checks, and their messages, are those of
// `IDX.parseContents` and `MNISTFiles.makeSplit`.
// Leaves out: background (overlapped) loading.

import CZlib
import Foundation

/// Something that fills a buffer and says how many bytes it wrote (0 at the end).
protocol ByteReader: AnyObject {
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteReader {
    /// Reads until `buffer` is full or the input ends; returns the number of bytes read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let count = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if count == 0 { break }
            filled += count
        }
        return filled
    }
}

extension FileBytes {
    /// A file read piece by piece, with the reasons of ``read(path:)`` when it cannot be.
    final class Reader: ByteReader {
        let descriptor: Int32
        /// The file's length in bytes.
        let size: Int
        /// Bytes handed back with ``unread(_:)``, returned before the file's next bytes.
        private var pushedBack: [UInt8] = []

        init(path: String) throws(Problem) {
            (descriptor, size) = try openRegularFile(path: path)
        }

        deinit { close(descriptor) }

        func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
            guard buffer.count > 0 else { return 0 }
            if !pushedBack.isEmpty {
                let count = min(buffer.count, pushedBack.count)
                pushedBack.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: count) }
                pushedBack.removeFirst(count)
                return count
            }
            while true {
                let count = readSystem(descriptor, buffer.baseAddress, buffer.count)
                if count >= 0 { return count }
                if errno == EINTR { continue }
                throw Problem(reason: "cannot read: \(systemErrorMessage())")
            }
        }

        /// Makes `bytes` the next bytes read (used to peek at the gzip magic number).
        func unread(_ bytes: [UInt8]) { pushedBack = bytes + pushedBack }
    }
}

private func readSystem(_ descriptor: Int32, _ pointer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(descriptor, pointer, count)
}

extension Gzip {
    /// A gzip stream inflated on demand from a ``ByteReader``: each ``read(into:)`` returns the
    /// next piece of the output. The same checks and messages as ``decompress(_:file:maximumSize:)``:
    /// concatenated members, a stream cut short, corrupt data, trailing bytes that are not a
    /// member, output beyond `maximumSize`.
    final class Reader: ByteReader {
        let source: any ByteReader
        let file: String
        let limit: Int
        private let stream: UnsafeMutablePointer<z_stream>
        private let input: UnsafeMutableRawBufferPointer
        private var start = 0, end = 0           // unread input is input[start..<end]
        private var sourceEnded = false
        private var finished = false
        private var produced = 0

        init(source: any ByteReader, file: String, maximumSize: Int = 1 << 30, inputSize: Int = 1 << 20) throws {
            self.source = source
            self.file = file
            self.limit = max(maximumSize, 0)
            input = .allocate(byteCount: max(inputSize, 16), alignment: 16)
            stream = .allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard inflateInit2_(stream, gzipWindowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                stream.deallocate()
                input.deallocate()
                throw NeuralLevelsError.failure("zlib: cannot initialise inflate for \(file)")
            }
        }

        deinit {
            inflateEnd(stream)
            stream.deallocate()
            input.deallocate()
        }

        private func bad(_ reason: String) -> NeuralLevelsError { .badData(file: file, reason: reason) }

        /// Moves the unread input to the front and reads more after it.
        private func refill() throws {
            if start > 0 {
                if end > start { input.baseAddress!.copyMemory(from: input.baseAddress! + start, byteCount: end - start) }
                end -= start
                start = 0
            }
            guard !sourceEnded, end < input.count else { return }
            let count = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: input[end...]))
            if count == 0 { sourceEnded = true } else { end += count }
        }

        func read(into out: UnsafeMutableRawBufferPointer) throws -> Int {
            guard !finished, out.count > 0 else { return 0 }
            while true {
                if start == end { try refill() }
                let available = min(end - start, 1 << 30)
                let room = min(out.count, 1 << 30)
                stream.pointee.next_in = (input.baseAddress! + start).assumingMemoryBound(to: UInt8.self)
                stream.pointee.avail_in = uInt(available)
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.pointee.avail_out = uInt(room)
                let status = inflate(stream, Z_NO_FLUSH)
                let used = available - Int(stream.pointee.avail_in)
                let made = room - Int(stream.pointee.avail_out)
                start += used
                produced += made
                if produced > limit { throw bad("decompresses to more than \(limit) bytes") }

                switch status {
                case Z_STREAM_END:
                    // One member done. More input must be another member (`cat a.gz b.gz`).
                    while end - start < 2 && !sourceEnded { try refill() }
                    if end == start {
                        finished = true
                        return made
                    }
                    let bytes = input.bindMemory(to: UInt8.self)
                    guard end - start >= 2, bytes[start] == 0x1f, bytes[start + 1] == 0x8b else {
                        var rest = end - start
                        while !sourceEnded {                     // count them all, for the message
                            start = end
                            try refill()
                            rest += end - start
                        }
                        throw bad("\(rest) bytes after the end of the gzip stream are not a gzip member")
                    }
                    guard inflateReset(stream) == Z_OK else {
                        throw NeuralLevelsError.failure("zlib: cannot reset inflate for \(file)")
                    }
                case Z_OK, Z_BUF_ERROR:
                    let noRoomUsed = stream.pointee.avail_out != 0
                    if noRoomUsed && start == end && sourceEnded { throw bad("gzip stream is truncated") }
                    if status == Z_BUF_ERROR && noRoomUsed && used == 0 && made == 0 {
                        if sourceEnded { throw bad("gzip stream is truncated") }
                        try refill()
                    }
                case Z_DATA_ERROR, Z_NEED_DICT:
                    let message = stream.pointee.msg.map { String(cString: $0) }
                    throw bad("corrupt gzip data: \(message ?? "invalid deflate stream")")
                case Z_MEM_ERROR:
                    throw NeuralLevelsError.failure("zlib: out of memory inflating \(file)")
                default:
                    throw bad("corrupt gzip data: zlib status \(status)")
                }
                if made > 0 { return made }
            }
        }
    }
}

extension MNISTFiles {
    /// The most pixel bytes one split keeps in memory: 8 GiB, 170 times Fashion-MNIST's
    /// training images (a larger file, or a header that claims one, is refused before anything
    /// is allocated for it).
    static let maximumPixelBytes = 8 << 30

    /// An images file read in one pass: its dimensions and the first `limit` images as pixels.
    struct StreamedImages {
        var dimensions: [Int]
        /// The bytes of the first `min(N, limit)` images.
        var pixels: [UInt8]
    }

    /// Opens `path`, gunzipping it on the fly if it starts with the gzip magic number.
    /// Returns the reader and a bound on the bytes it can produce.
    static func openStream(path: String) throws -> (reader: any ByteReader, maximumBytes: Int) {
        let file: FileBytes.Reader
        do { file = try FileBytes.Reader(path: path) } catch {
            throw NeuralLevelsError.badData(file: path, reason: error.reason)
        }
        var magic = [UInt8](repeating: 0, count: 2)
        let count = try magic.withUnsafeMutableBytes { try file.readFully(into: $0) }
        file.unread(Array(magic.prefix(count)))
        guard count == 2, magic == [0x1f, 0x8b] else { return (file, file.size) }
        let (bound, overflow) = file.size.multipliedReportingOverflow(by: 1032)   // DEFLATE's best ratio
        return (try Gzip.Reader(source: file, file: path), overflow ? Int.max : bound + 1024)
    }

    /// Streams an images file: checks its header as `IDX.parseContents` does, and that it has three
    /// dimensions, keeps the bytes of the first `limit` images as they are inflated, and checks
    /// the payload's length.
    static func streamImages(path: String, limit: Int?) throws -> StreamedImages {
        let (reader, maximumBytes) = try openStream(path: path)
        // The header: 4 bytes, then 4 per dimension (checked with parseHeader's messages).
        var header = [UInt8](repeating: 0, count: 4)
        let first = try header.withUnsafeMutableBytes { try reader.readFully(into: $0) }
        header.removeLast(4 - first)
        if first == 4, (1...4).contains(header[3]) {
            var sizes = [UInt8](repeating: 0, count: 4 * Int(header[3]))
            let more = try sizes.withUnsafeMutableBytes { try reader.readFully(into: $0) }
            header += sizes.prefix(more)
        }
        let parsed = try IDX.parseHeader(header, file: path)
        let dimensions = parsed.dimensions
        // A file of another rank (labels where the images go) is named for that, not for a
        // payload of the wrong length.
        guard dimensions.count == 3 else {
            throw NeuralLevelsError.badData(file: path, reason: MNISTFiles.imagesRankReason(dimensions))
        }

        // The pixels of the images used, kept as they arrive.
        var valueCount = 0
        if let _ = parsed.payloadSize, dimensions.count == 3 {
            let used = min(dimensions[0], max(limit ?? dimensions[0], 0))
            let (features, overflow) = dimensions[1].multipliedReportingOverflow(by: dimensions[2])
            if !overflow { valueCount = min(used * features, maximumBytes) }   // ≤ the payload: no overflow
        }
        guard valueCount <= maximumPixelBytes else {
            throw NeuralLevelsError.badData(
                file: path, reason: "its images would take \(valueCount) bytes, more than the \(maximumPixelBytes) "
                    + "kept in memory (--train-limit or --test-limit uses fewer)")
        }
        // Memory grows with the bytes that arrive, from at most 64 MiB reserved: a header that
        // claims more images than the file holds costs no more than the file.
        var received = 0
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
        defer { chunk.deallocate() }
        var pixels: [UInt8] = []
        pixels.reserveCapacity(min(valueCount, 64 << 20))
        while true {
            let count = try reader.read(into: chunk)
            if count == 0 { break }
            let wanted = min(count, max(valueCount - received, 0))
            if wanted > 0 { pixels.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<wanted])) }
            received += count
        }
        try IDX.checkPayload(parsed, received: received, file: path)
        return StreamedImages(dimensions: dimensions, pixels: pixels)
    }
}
