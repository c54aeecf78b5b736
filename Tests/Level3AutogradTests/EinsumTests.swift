// EinsumTests.swift — einsum against gemm for every spec that is a matrix product (bit for bit),
// against a reference loop for the others, and its errors for malformed specs and shapes.
//
// Teaches: a spec string is a matrix product with its transposes spelled out as letters.
// Leaves out: einsum's gradients (GradientCheckTests checks them against finite differences).

import Testing
@testable import Level3Autograd
@testable import Shared
import TestSupport

/// A spec that is a matrix product, the shapes of its operands, and the gemm call it must be.
struct ProductSpec: Sendable, CustomTestStringConvertible {
    var spec: String
    var a: (rows: Int, columns: Int)
    var b: (rows: Int, columns: Int)
    /// The expected result, by calling Shared's gemm directly.
    var gemmCall: @Sendable (Matrix<Float>, Matrix<Float>) -> Matrix<Float>
    var testDescription: String { "\(spec) \(a)·\(b)" }
}

/// `op(A)·op(B)` by gemm, into a fresh `[rows, columns]` result.
func product(_ a: Matrix<Float>, transposeA: Bool = false, _ b: Matrix<Float>, transposeB: Bool = false,
             rows: Int, columns: Int) -> Matrix<Float> {
    var c = Matrix<Float>(rows: rows, columns: columns)
    gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
    return c
}

func column(_ x: Matrix<Float>) -> Matrix<Float> { Matrix(rows: x.count, columns: 1, storage: x.storage) }
func row(_ x: Matrix<Float>) -> Matrix<Float> { Matrix(rows: 1, columns: x.count, storage: x.storage) }

// m = 9, k = 70, n = 6: long enough sums that a loop and BLAS would round differently.
let productSpecs: [ProductSpec] = [
    ProductSpec(spec: "ij,jk->ik", a: (9, 70), b: (70, 6)) { product($0, $1, rows: 9, columns: 6) },
    ProductSpec(spec: "ij,kj->ik", a: (9, 70), b: (6, 70)) { product($0, $1, transposeB: true, rows: 9, columns: 6) },
    ProductSpec(spec: "ji,jk->ik", a: (70, 9), b: (70, 6)) { product($0, transposeA: true, $1, rows: 9, columns: 6) },
    ProductSpec(spec: "ji,kj->ik", a: (70, 9), b: (6, 70)) {
        product($0, transposeA: true, $1, transposeB: true, rows: 9, columns: 6)
    },
    ProductSpec(spec: "ij,jk->ki", a: (9, 70), b: (70, 6)) {       // (A·B)ᵀ = Bᵀ·Aᵀ
        product($1, transposeA: true, $0, transposeB: true, rows: 6, columns: 9)
    },
    ProductSpec(spec: "bi,oi->bo", a: (9, 70), b: (6, 70)) { product($0, $1, transposeB: true, rows: 9, columns: 6) },
    ProductSpec(spec: "bi,i->b", a: (9, 70), b: (70, 1)) { product($0, $1, rows: 9, columns: 1) },
    ProductSpec(spec: "bi,i->b", a: (9, 70), b: (1, 70)) { product($0, column($1), rows: 9, columns: 1) },
    ProductSpec(spec: "ij,j->i", a: (9, 70), b: (1, 70)) { product($0, column($1), rows: 9, columns: 1) },
    ProductSpec(spec: "j,jk->k", a: (70, 1), b: (70, 6)) { column(product(row($0), $1, rows: 1, columns: 6)) },
    ProductSpec(spec: "i,i->", a: (70, 1), b: (1, 70)) { product(row($0), column($1), rows: 1, columns: 1) },
    ProductSpec(spec: "i,j->ij", a: (9, 1), b: (1, 6)) { product(column($0), row($1), rows: 9, columns: 6) },
    ProductSpec(spec: " ij , jk -> ik ", a: (9, 70), b: (70, 6)) { product($0, $1, rows: 9, columns: 6) },
]

@Suite("Level 3: einsum")
struct EinsumTests {
    @Test("matrix-product specs are one gemm: results equal gemm's bit for bit", arguments: productSpecs)
    func matrixProducts(_ p: ProductSpec) throws {
        let a = randomMatrix(p.a.rows, p.a.columns, seed: 1, as: Float.self)
        let b = randomMatrix(p.b.rows, p.b.columns, seed: 2, as: Float.self)
        let result = try einsum(p.spec, Tensor(a), Tensor(b)).value
        let expected = p.gemmCall(a, b)
        #expect(result.shape == expected.shape)
        #expect(bits(result) == bits(expected))
        let indices = try EinsumIndices(parsing: p.spec)
        let sizes = try indices.sizes(of: a, and: b, spec: p.spec)
        #expect(EinsumPlan(indices, sizes: sizes).product != nil, "\(p.spec) should lower to gemm")
    }

    @Test("other specs run as a loop and match the definition",
          arguments: ["ij,ij->ij", "ij,ij->i", "ij,ij->", "ij,jk->k", "ij,ik->j", "ij,kl->il"])
    func loops(spec: String) throws {
        let indices = try EinsumIndices(parsing: spec)
        let letters = Set(indices.a + indices.b)
        let size: [Character: Int] = Dictionary(uniqueKeysWithValues: letters.sorted().enumerated().map { ($1, 2 + $0) })
        let a = randomMatrix(size[indices.a[0]] ?? 0, size[indices.a[1]] ?? 0, seed: 3, as: Double.self)
        let b = randomMatrix(size[indices.b[0]] ?? 0, size[indices.b[1]] ?? 0, seed: 4, as: Double.self)
        let result = try einsum(spec, Tensor(a), Tensor(b)).value
        #expect(EinsumPlan(indices, sizes: size).product == nil, "\(spec) is not a matrix product")

        // The definition, written out: out[output] = Σ over all other indices of a[..]·b[..].
        let all = letters.sorted()
        var expected = [Double](repeating: 0, count: result.count)
        func visit(_ depth: Int, _ value: inout [Character: Int]) {
            guard depth < all.count else {
                func offset(_ labels: [Character]) -> Int {
                    labels.reduce(0) { $0 * (size[$1] ?? 0) + (value[$1] ?? 0) }
                }
                expected[offset(indices.output)] += a.storage[offset(indices.a)] * b.storage[offset(indices.b)]
                return
            }
            for v in 0..<(size[all[depth]] ?? 0) {
                value[all[depth]] = v
                visit(depth + 1, &value)
            }
        }
        var value: [Character: Int] = [:]
        visit(0, &value)
        let outputShape = indices.output.map { size[$0] ?? 0 }
        #expect(result.shape == (outputShape.count == 2 ? outputShape : [outputShape.first ?? 1, 1]))
        #expect(zip(result.storage, expected).allSatisfy { abs($0 - $1) <= 1e-12 })
    }

    @Test("malformed specs throw a clear error", arguments: [
        ("ij,jk", "einsum \"ij,jk\": malformed spec: no '->' (write the output indices, e.g. \"ij,jk->ik\")"),
        ("ij,jk->ik->i", "einsum \"ij,jk->ik->i\": malformed spec: more than one '->'"),
        ("ij->ij", "einsum \"ij->ij\": malformed spec: expected two operands separated by ',', found 1"),
        ("ij,jk,kl->il", "einsum \"ij,jk,kl->il\": malformed spec: expected two operands separated by ',', found 3"),
        ("iJ,jk->ik", "einsum \"iJ,jk->ik\": malformed spec: 'J' in operand 1 is not an index (indices are the letters a–z)"),
        ("i1,jk->ik", "einsum \"i1,jk->ik\": malformed spec: '1' in operand 1 is not an index (indices are the letters a–z)"),
        ("ii,ij->j", "einsum \"ii,ij->j\": malformed spec: index 'i' appears twice in operand 1 (diagonals and traces are not supported)"),
        ("ij,jk->ii", "einsum \"ij,jk->ii\": malformed spec: index 'i' appears twice in the output (diagonals and traces are not supported)"),
        ("ijk,jk->i", "einsum \"ijk,jk->i\": malformed spec: operand 1 has 3 indices; an operand is a vector (1 index) or a matrix (2)"),
        (",jk->k", "einsum \",jk->k\": malformed spec: operand 1 has 0 indices; an operand is a vector (1 index) or a matrix (2)"),
        ("ij,jk->ikl", "einsum \"ij,jk->ikl\": malformed spec: the output has 3 indices; at most 2"),
        ("ij,jk->iz", "einsum \"ij,jk->iz\": malformed spec: output index 'z' is in neither operand"),
        ("", "einsum \"\": malformed spec: no '->' (write the output indices, e.g. \"ij,jk->ik\")"),
    ])
    func malformed(spec: String, message: String) {
        let a = Tensor(Matrix<Float>(rows: 2, columns: 2)), b = Tensor(Matrix<Float>(rows: 2, columns: 2))
        #expect {
            _ = try einsum(spec, a, b)
        } throws: { error in
            guard let error = error as? EinsumError, case .malformedSpec = error else { return false }
            return error.description == message
        }
    }

    @Test("shapes that do not fit the spec throw a clear error", arguments: [
        ("ij,jk->ik", [2, 3], [4, 5], "einsum \"ij,jk->ik\": shapes do not fit: index 'j' is 3 in operand 1 but 4 in operand 2"),
        ("ij,ij->ij", [2, 3], [2, 4], "einsum \"ij,ij->ij\": shapes do not fit: index 'j' is 3 in operand 1 but 4 in operand 2"),
        ("ij,kj->ik", [2, 3], [3, 2], "einsum \"ij,kj->ik\": shapes do not fit: index 'j' is 3 in operand 1 but 2 in operand 2"),
        ("bi,i->b", [2, 3], [2, 2], "einsum \"bi,i->b\": shapes do not fit: operand 2 has one index ('i'), so it must be a vector [n, 1] or [1, n], but its shape is [2, 2]"),
        ("bi,i->b", [2, 3], [4, 1], "einsum \"bi,i->b\": shapes do not fit: index 'i' is 3 in operand 1 but 4 in operand 2"),
    ])
    func shapeMismatch(spec: String, a: [Int], b: [Int], message: String) {
        let x = Tensor(Matrix<Float>(rows: a[0], columns: a[1])), y = Tensor(Matrix<Float>(rows: b[0], columns: b[1]))
        #expect {
            _ = try einsum(spec, x, y)
        } throws: { error in
            guard let error = error as? EinsumError, case .shapeMismatch = error else { return false }
            return error.description == message
        }
    }

    @Test("the backward of a gemm-lowered einsum is Level 4's two products, bit for bit")
    func denseLayerBackward() throws {
        let x = randomMatrix(16, 30, seed: 5, as: Float.self), w = randomMatrix(8, 30, seed: 6, as: Float.self)
        let g = randomMatrix(16, 8, seed: 7, as: Float.self)
        let input = Tensor(x, requiresGrad: true), weight = Tensor(w, requiresGrad: true)
        (try einsum("bi,oi->bo", input, weight) * Tensor(g)).sum().backward()
        #expect(bits(try #require(weight.grad)) == bits(product(g, transposeA: true, x, rows: 8, columns: 30)))
        #expect(bits(try #require(input.grad)) == bits(product(g, w, rows: 16, columns: 30)))
    }

    @Test("a vector operand given as a row gets its gradient as a row")
    func rowVectorGradient() throws {
        let v = Tensor(randomMatrix(1, 4, seed: 8, as: Double.self), requiresGrad: true)
        let x = Tensor(randomMatrix(3, 4, seed: 9, as: Double.self))
        try einsum("bi,i->b", x, v).sum().backward()
        let gradient = try #require(v.grad)
        #expect(gradient.shape == [1, 4])
        for j in 0..<4 { #expect(abs(gradient[0, j] - (0..<3).reduce(0) { $0 + x.value[$1, j] }) <= 1e-12) }
    }

    @Test("after zeroGrad an einsum's backward writes the weight's gradient into the memory it released, with the same values")
    func gradientMemoryIsReused() throws {
        let x = Tensor(Matrix<Double>([[1, 2, 3], [4, 5, 6]]))                        // [B, I] = [2, 3]
        let w = Tensor(Matrix<Double>([[0.5, -1, 2], [1, 0, -0.5]]), requiresGrad: true)   // [O, I] = [2, 3]
        func address(_ m: Matrix<Double>) -> UnsafeRawPointer? { m.storage.withUnsafeBytes { $0.baseAddress } }

        try einsum("bi,oi->bo", x, w).sum().backward()                                // ∂/∂W = 1ᵀ·x
        let firstAddress = address(try #require(w.grad))
        w.zeroGrad()
        try einsum("bi,oi->bo", x * 2, w).sum().backward()                            // twice the gradient
        #expect(w.grad == Matrix([[10, 14, 18], [10, 14, 18]]))
        #expect(address(try #require(w.grad)) == firstAddress)                       // the same memory, reused
    }
}
