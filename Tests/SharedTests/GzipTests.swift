// GzipTests.swift — gzip through zlib: round trips, several members, and every way a stream
// can be bad ending in one clear error.

import Foundation
import Testing
@testable import Shared

@Suite("Gzip")
struct GzipTests {
    /// Bytes that compress (a repeating ramp) followed by bytes that do not (pseudo-random).
    static func sample(count: Int, seed: UInt64 = 1) -> [UInt8] {
        var generator = SplitMix64(state: seed)
        return (0..<count).map { i in
            i < count / 2 ? UInt8(truncatingIfNeeded: i / 7) : UInt8(truncatingIfNeeded: generator.next())
        }
    }

    @Test("recognises the magic number 1f 8b")
    func magic() {
        #expect(Gzip.isCompressed([0x1f, 0x8b, 0x08]))
        #expect(Gzip.isCompressed(Gzip.compress([1, 2, 3])))
        #expect(!Gzip.isCompressed([0x1f]))
        #expect(!Gzip.isCompressed([0x00, 0x00, 0x08, 0x03]))
        #expect(!Gzip.isCompressed([]))
    }

    @Test("compress then decompress returns the bytes", arguments: [0, 1, 1000, 300_000])
    func roundTrip(count: Int) throws {
        let original = Self.sample(count: count)
        for level: Int32 in [0, 1, 6, 9] {
            let compressed = Gzip.compress(original, level: level)
            #expect(compressed[0] == 0x1f && compressed[1] == 0x8b && compressed[2] == 8)
            #expect(try Gzip.decompress(compressed, file: "x.gz") == original)
        }
        if count == 300_000 {
            // The ramp half compresses well at level 9; stored (level 0) does not shrink at all.
            #expect(Gzip.compress(original, level: 9).count < count * 6 / 10)
            #expect(Gzip.compress(original, level: 0).count > count)
        }
    }

    @Test("concatenated members decompress to their contents concatenated")
    func concatenatedMembers() throws {
        let a = Self.sample(count: 2_000_000, seed: 2)
        let b: [UInt8] = Array("second member".utf8)
        let c = Self.sample(count: 5, seed: 3)
        // The trailer's size is the last member's (5 bytes): the output buffer must grow.
        let joined = Gzip.compress(a) + Gzip.compress(b, level: 1) + Gzip.compress([]) + Gzip.compress(c)
        #expect(try Gzip.decompress(joined, file: "joined.gz") == a + b + c)
    }

    @Test("a truncated stream is an error saying so", arguments: [0.0, 0.25, 0.5, 0.99])
    func truncated(fraction: Double) throws {
        let compressed = Gzip.compress(Self.sample(count: 50_000))
        // Keep at least the 10-byte header, at most all but the last byte of the trailer.
        let keep = max(10, min(compressed.count - 1, Int(Double(compressed.count) * fraction)))
        let error = try #require(badData { try Gzip.decompress(Array(compressed.prefix(keep)), file: "cut.gz") })
        #expect(error.file == "cut.gz")
        #expect(error.reason == "gzip stream is truncated")
    }

    @Test("a stream cut inside its header, or after one complete member, is truncated")
    func truncatedEdges() throws {
        let compressed = Gzip.compress(Array("hello".utf8))
        #expect(badData { try Gzip.decompress(Array(compressed.prefix(4)), file: "h.gz") }?.reason
                == "gzip stream is truncated")
        let twoMembers = compressed + compressed
        #expect(badData { try Gzip.decompress(Array(twoMembers.dropLast(3)), file: "h.gz") }?.reason
                == "gzip stream is truncated")
    }

    @Test("flipped bytes in the data, checksum or length are corrupt data")
    func corrupt() throws {
        let original = Self.sample(count: 50_000)
        let compressed = Gzip.compress(original)
        let n = compressed.count
        // Positions: inside the deflate data, the CRC-32 (n-8…n-5), the length (n-4…n-1).
        for (position, zlibMessage) in [(n - 6, "incorrect data check"), (n - 2, "incorrect length check")] {
            var damaged = compressed
            damaged[position] ^= 0x55
            let error = try #require(badData { try Gzip.decompress(damaged, file: "bad.gz") })
            #expect(error.file == "bad.gz")
            #expect(error.reason == "corrupt gzip data: \(zlibMessage)")
        }
        var damaged = compressed
        damaged[n / 2] ^= 0xFF
        let error = try #require(badData { try Gzip.decompress(damaged, file: "bad.gz") })
        #expect(error.reason.hasPrefix("corrupt gzip data: "))

        var badMethod = compressed
        badMethod[2] = 7  // compression method must be 8 (deflate)
        #expect(badData { try Gzip.decompress(badMethod, file: "bad.gz") }?.reason
                == "corrupt gzip data: unknown compression method")
    }

    @Test("bytes after the last member that are not a member are refused")
    func trailingGarbage() throws {
        let compressed = Gzip.compress([1, 2, 3])
        let error = try #require(badData { try Gzip.decompress(compressed + [0x42, 0x42, 0x42], file: "t.gz") })
        #expect(error.reason == "3 bytes after the end of the gzip stream are not a gzip member")
    }

    @Test("output over maximumSize is refused; exactly maximumSize is fine")
    func sizeLimit() throws {
        let zeros = [UInt8](repeating: 0, count: 100_000)
        let compressed = Gzip.compress(zeros)
        #expect(compressed.count < 1_000)
        #expect(try Gzip.decompress(compressed, file: "z.gz", maximumSize: 100_000) == zeros)
        let error = try #require(badData { try Gzip.decompress(compressed, file: "z.gz", maximumSize: 99_999) })
        #expect(error.reason == "decompresses to more than 99999 bytes")
        #expect(badData { try Gzip.decompress(compressed, file: "z.gz", maximumSize: 0) }?.reason
                == "decompresses to more than 0 bytes")
    }

    @Test("input without the magic number is refused")
    func notGzip() throws {
        let error = try #require(badData { try Gzip.decompress([0, 0, 8, 1, 0, 0, 0, 0], file: "plain") })
        #expect(error.reason == "not a gzip file (no 1f 8b magic number)")
    }
}
