// FastKernelTests.swift — the vectorised Float paths of the Shared kernels (Kernels/Fast/), against plain loops
// and exact values: the branch-free tanh and sigmoid (accuracy in ulp, specials, derivatives by
// finite differences), the pointer-stepping bias kernels, uninitialised gemm outputs, and the
// streaming loader (the same data and the same errors as the whole-file path).

import Foundation
import Testing
@testable import Shared
import TestSupport

/// `|approx − exact|` in units of the last place of the Float binade that holds `exact`.
func ulpError(_ approx: Float, _ exact: Double) -> Double {
    if approx.isNaN || exact.isNaN { return approx.isNaN && exact.isNaN ? 0 : .infinity }
    var binade = Float(exact).magnitude
    if Double(binade) > abs(exact) { binade = binade.nextDown }
    let ulp = binade == 0 ? Float.leastNonzeroMagnitude : binade.ulp
    return abs(Double(approx) - exact) / Double(ulp)
}

/// Every `stride`-th Float bit pattern from 0 up to `limit`, with both signs.
func sampledFloats(upTo limit: Float, stride: UInt32) -> [Float] {
    var values: [Float] = []
    var bits: UInt32 = 0
    while bits <= limit.bitPattern {
        values.append(Float(bitPattern: bits))
        values.append(-Float(bitPattern: bits))
        bits &+= stride
    }
    return values
}

@Suite("Shared kernels: vectorised Float paths", .enabled(if: FastKernels.allowedByEnvironment))
struct FastKernelTests {
    @Test("fastTanh is within 2.5 ulp of tanh over a dense sample of Floats (exhaustive: 2.26, glibc's tanhf 2.19)")
    func tanhAccuracy() {
        var worst = 0.0
        for x in sampledFloats(upTo: 12, stride: 997) {
            worst = max(worst, ulpError(fastTanh(x), Foundation.tanh(Double(x))))
        }
        #expect(worst <= 2.5, "max error \(worst) ulp")
    }

    @Test("fastSigmoid is within 2.5 ulp of 1/(1+e^−z) wherever that is a normal Float")
    func sigmoidAccuracy() {
        var worst = 0.0
        for z in sampledFloats(upTo: 100, stride: 997) {
            let exact = 1 / (1 + Foundation.exp(-Double(z)))
            guard exact >= Double(Float.leastNormalMagnitude) else { continue }
            worst = max(worst, ulpError(fastSigmoid(z), exact))
        }
        #expect(worst <= 2.5, "max error \(worst) ulp")
    }

    @Test("fastExp is within 1 ulp of e^y over a dense sample of Floats from −86.5 to 88.7 (measured: 0.95)")
    func expAccuracy() {
        var worst = 0.0
        for y in sampledFloats(upTo: 88.7, stride: 997) where y >= -86.5 {
            worst = max(worst, ulpError(fastExp(y), Foundation.exp(Double(y))))
        }
        #expect(worst <= 1, "max error \(worst) ulp")
    }

    @Test("special values: signed zeros, saturation, infinities, NaN")
    func specials() {
        #expect(fastTanh(0).bitPattern == Float(0).bitPattern)
        #expect(fastTanh(-0.0).bitPattern == Float(-0.0).bitPattern)
        #expect(fastTanh(10) == 1 && fastTanh(-10) == -1 && fastTanh(1e30) == 1 && fastTanh(-.infinity) == -1)
        #expect(fastTanh(.nan).isNaN)
        #expect(fastTanh(1e-30) == 1e-30)                                  // tanh x = x for tiny x
        #expect(fastSigmoid(0) == 0.5)
        #expect(fastSigmoid(-1000) == 0 && fastSigmoid(-89) == 0 && fastSigmoid(-.infinity) == 0)
        #expect(fastSigmoid(30) == 1 && fastSigmoid(.infinity) == 1)
        #expect(fastSigmoid(.nan).isNaN)
        #expect(fastSigmoid(-88) > 0 && fastSigmoid(-88) < 1e-37)          // subnormal-range values survive
        #expect(fastExp(0) == 1 && fastExp(-0.0) == 1)
        #expect(fastExp(-86.5) > 0 && fastExp(-86.6) == 0 && fastExp(-1000) == 0 && fastExp(-.infinity) == 0)
        #expect(fastExp(88.7) < .infinity && fastExp(88.8) == .infinity && fastExp(.infinity) == .infinity)
        #expect(fastExp(.nan).isNaN)
    }

    @Test("Float softmax cross-entropy is the formula computed with fastExp, row by row, bit for bit")
    func softmaxMatchesPlainLoop() {
        for classes in [1, 2, 10, 17] {
            let z = randomMatrix(7, classes, seed: UInt64(classes), in: -30...30, as: Float.self)
            let labels = (0..<7).map { Int32($0 % classes) }
            var p = Matrix<Float>(rows: 7, columns: classes, repeating: .nan)
            let loss = softmaxCrossEntropyForward(logits: z, labels: labels, probabilities: &p)
            var expectedP = [Float](), total: Float = 0
            for i in 0..<7 {
                let row = (0..<classes).map { z[i, $0] }
                let maximum = row.max()!
                let e = row.map { fastExp($0 - maximum) }
                let sum = e.reduce(0, +)
                expectedP += e.map { $0 / sum }
                total += Float.log(sum) - (row[Int(labels[i])] - maximum)
            }
            #expect(p.storage == expectedP)
            #expect(loss == total / 7)
            // and it is the softmax: against Double, to a few Float ulps
            for i in 0..<7 {
                let row = (0..<classes).map { Double(z[i, $0]) }
                let sum = row.map { Foundation.exp($0 - row.max()!) }.reduce(0, +)
                for j in 0..<classes {
                    #expect(abs(Double(p[i, j]) - Foundation.exp(row[j] - row.max()!) / sum) < 4e-7)
                }
            }
        }
    }

    @Test("Float tanhForward/sigmoidForward are the fast functions element by element, at any length")
    func kernelsMatchPlainLoops() {
        for columns in [1, 3, 4, 7, 64, 129] {
            let z = randomMatrix(5, columns, seed: UInt64(columns), in: -12...12, as: Float.self)
            var a = Matrix<Float>(rows: 5, columns: columns)
            tanhForward(z, into: &a)
            #expect(a.storage == z.storage.map(fastTanh))
            sigmoidForward(z, into: &a)
            #expect(a.storage == z.storage.map(fastSigmoid))
        }
    }

    /// A central difference with step h is off by h²/6·|f‴| (tanh‴ ≤ 2: 3.3e-5 at h = 1e-2;
    /// σ‴ ≤ 1/8: 2.1e-6), plus the forward's rounding: an ulp of the outputs (≤ 6e-8 below 1)
    /// over h, 6e-6 per ulp.
    /// Measured: tanh' within 3.3e-5 (the truncation, at z ≈ 0), σ' within 6.5e-6; the
    /// tolerances are 3× those.
    @Test("Float activations: backward from the output matches central finite differences of the forward")
    func activationDerivatives() {
        let z = randomMatrix(4, 33, seed: 12, in: -3...3, as: Float.self)
        let h: Float = 1e-2
        var a = Matrix<Float>(rows: 4, columns: 33), plus = a, minus = a, dz = a
        let ones = Matrix<Float>(rows: 4, columns: 33, repeating: 1)
        var shiftedUp = z, shiftedDown = z
        for i in 0..<z.count { shiftedUp.storage[i] += h; shiftedDown.storage[i] -= h }

        tanhForward(z, into: &a)
        tanhBackward(output: a, outputGradient: ones, into: &dz)
        tanhForward(shiftedUp, into: &plus)
        tanhForward(shiftedDown, into: &minus)
        for i in 0..<z.count {
            let numeric = (Double(plus.storage[i]) - Double(minus.storage[i])) / Double(shiftedUp.storage[i] - shiftedDown.storage[i])
            #expect(abs(numeric - Double(dz.storage[i])) < 1e-4, "tanh' at \(z.storage[i])")
        }

        sigmoidForward(z, into: &a)
        sigmoidBackward(output: a, outputGradient: ones, into: &dz)
        sigmoidForward(shiftedUp, into: &plus)
        sigmoidForward(shiftedDown, into: &minus)
        for i in 0..<z.count {
            let numeric = (Double(plus.storage[i]) - Double(minus.storage[i])) / Double(shiftedUp.storage[i] - shiftedDown.storage[i])
            #expect(abs(numeric - Double(dz.storage[i])) < 2e-5, "σ' at \(z.storage[i])")
        }
    }

    @Test("addBias (in and out of place) and columnSums in Float equal the plain loops bit for bit, at odd widths")
    func biasKernels() {
        for (rows, columns) in [(1, 1), (3, 5), (64, 10), (7, 129), (0, 4)] {
            let y = randomMatrix(rows, columns, seed: 21, as: Float.self)
            let bias = randomMatrix(1, columns, seed: 22, as: Float.self)
            var out = y
            addBias(bias, to: &out)
            var expected = y
            for i in 0..<rows { for j in 0..<columns { expected[i, j] = y[i, j] + bias[0, j] } }
            #expect(out == expected)
            var outOfPlace = Matrix<Float>(rows: rows, columns: columns, repeating: .nan)   // not read
            addBias(bias, to: y, into: &outOfPlace)
            #expect(outOfPlace == expected)

            var sums = Matrix<Float>(rows: 1, columns: columns, repeating: 7)
            columnSums(of: y, into: &sums)
            var expectedSums = Matrix<Float>(rows: 1, columns: columns)
            for j in 0..<columns {
                var total: Float = 0
                for i in 0..<rows { total += y[i, j] }
                expectedSums[0, j] = total
            }
            #expect(sums == expectedSums)
        }
    }

    @Test("gemm fills an uninitialised output completely (β = 0), including an empty product")
    func uninitialisedOutputs() {
        let a = randomMatrix(6, 5, seed: 31, as: Float.self), b = randomMatrix(4, 5, seed: 32, as: Float.self)
        var c = Matrix<Float>.uninitialized(rows: 6, columns: 4)
        #expect(c.shape == [6, 4] && c.count == 24)
        gemm(a, b, transposeB: true, into: &c)
        var reference = Matrix<Float>(rows: 6, columns: 4, repeating: .nan)
        gemm(a, b, transposeB: true, into: &reference)
        #expect(c == reference)

        var empty = Matrix<Float>(rows: 3, columns: 2, repeating: .nan)     // garbage, as if uninitialised
        gemm(Matrix<Float>(rows: 3, columns: 0), Matrix<Float>(rows: 0, columns: 2), into: &empty)
        #expect(empty.storage == [0, 0, 0, 0, 0, 0])
    }
}

@Suite("Streaming IDX loading")
struct StreamingLoadTests {
    func write(_ bytes: [UInt8], _ name: String, in folder: URL) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("stream-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test("streamed images (plain, gzip, two gzip members) equal the whole-file conversion, with and without a limit")
    func sameAsWholeFile() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let count = 300                                    // 300 × 784 bytes: several 64 KiB pieces
        let payload = (0..<(count * 784)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 / 784) }
        let idx = makeIDX([UInt32(count), 28, 28], payload)
        let labels = try IDX.parseContents(makeIDX([UInt32(count)], (0..<count).map { UInt8($0 % 10) }), file: "labels")
        let middle = idx.count / 3
        let variants = [idx, Gzip.compress(idx), Gzip.compress(Array(idx[..<middle])) + Gzip.compress(Array(idx[middle...]))]
        for (index, bytes) in variants.enumerated() {
            let path = try write(bytes, "images\(index)", in: dir)
            for limit in [nil, 0, 1, 150, 1000] as [Int?] {
                let streamed = try MNISTFiles.streamImages(path: path, limit: limit)
                let whole = try MNISTFiles.makeSplit(images: IDX.parseContents(idx, file: "images"), imagesFile: "images",
                                                     labels: labels, labelsFile: "labels", limit: limit, expectedFeatures: 784)
                #expect(streamed.dimensions == [count, 28, 28])
                let used = min(count, max(limit ?? count, 0))
                #expect(streamed.pixels == Array(payload.prefix(used * 784)), "variant \(index), limit \(String(describing: limit))")
                #expect(whole.dataset.inputs.storage == streamed.pixels.map { Float($0) / 255 })
            }
        }
    }

    @Test("the streaming gzip reader gives decompress's output and its errors")
    func gzipReaderMatchesDecompress() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
        let gz = Gzip.compress(data)
        let cases: [[UInt8]] = [gz, gz + gz, Array(gz.dropLast(9)), gz + [1, 2, 3], Array(gz.prefix(40))]
        for (index, bytes) in cases.enumerated() {
            let path = try write(bytes, "case\(index).gz", in: dir)
            let expected = Result { try Gzip.decompress(bytes, file: path) }
            let streamed = Result { () throws -> [UInt8] in
                let (reader, _) = try MNISTFiles.openStream(path: path)
                var out: [UInt8] = []
                var piece = [UInt8](repeating: 0, count: 4096)
                while true {
                    let n = try piece.withUnsafeMutableBytes { try reader.read(into: $0) }
                    if n == 0 { break }
                    out += piece[..<n]
                }
                return out
            }
            switch (expected, streamed) {
            case let (.success(a), .success(b)): #expect(a == b, "case \(index)")
            case let (.failure(a), .failure(b)): #expect("\(a)" == "\(b)", "case \(index)")
            default: Issue.record("case \(index): \(expected) vs \(streamed)")
            }
        }
    }

    @Test("streamed header and payload errors are parseContents' messages")
    func sameErrors() throws {
        let dir = try folder()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [[UInt8]] = [
            [0, 0], [1, 0, 8, 3], [0, 0, 9, 3], [0, 0, 8, 7], [0, 0, 8, 3, 0, 0],
            makeIDX([2, 28, 28], [UInt8](repeating: 1, count: 100)),
            makeIDX([2, 28, 28], [UInt8](repeating: 1, count: 2 * 784 + 5)),
            makeIDX([UInt32.max, UInt32.max, UInt32.max], [1, 2, 3]),
        ]
        for (index, bytes) in cases.enumerated() {
            for compressed in [false, true] {
                let path = try write(compressed ? Gzip.compress(bytes) : bytes, "bad\(index)", in: dir)
                let whole = Result { try IDX.parseContents(bytes, file: path) }
                let streamed = Result { try MNISTFiles.streamImages(path: path, limit: nil) }
                guard case let .failure(expected) = whole, case let .failure(error) = streamed else {
                    Issue.record("case \(index): expected both to fail")
                    continue
                }
                #expect("\(error)" == "\(expected)", "case \(index), gzip \(compressed)")
            }
        }
    }
}
