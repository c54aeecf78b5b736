// Einsum.swift — Einstein summation for two operands, and its gradient, which is another einsum.
//
// Teaches: a spec like "bi,oi->bo" names every axis with a letter; an index that appears in
// both operands but not in the output is summed over. So
//
//     einsum("bi,oi->bo", x, W)   is   yᵦₒ = Σᵢ xᵦᵢ·Wₒᵢ   is   x·Wᵀ   is   x.matmul(W, transposeB: true)
//
// and the spec says at a glance which axes pair up, with no transposes to keep track of.
// When a spec is a matrix product (at most one summed index, at most one free index per operand: an
// outer product "i,j->ij" is a product over k = 1), it is
// lowered to exactly one `gemm` call with transpose flags, the same call a matmul makes; any
// other spec (an elementwise product "ij,ij->ij", a sum inside one operand "ij,jk->k", …) runs
// as a plain loop over every combination of indices.
//
// The gradient rule is the nicest part: for `O = einsum("A,B->O", a, b)`,
//
//     ∂ℓ/∂a = einsum("O,B->A", g, b)      ∂ℓ/∂b = einsum("A,O->B", a, g)
//
// (each input's gradient sums g·(the other input) over every index the input does not have), so
// the backward of a gemm-lowered einsum is two more gemms: for "bi,oi->bo" they are Level 4's
// `dx = G·W` and `dW = Gᵀ·x`, bit for bit.
//
// Vectors: an operand with one index is a vector, given as a column `[n, 1]` or a row `[1, n]`
// (either: a vector's storage is the same). A one-index output is a column `[n, 1]`; an output
// with no index, "->", is a scalar `[1, 1]`.
//
// Leaves out: more than two operands, more than two indices per operand, repeated indices
// (diagonals "ii", traces), implicit outputs ("ij,jk" without "->"), ellipses ("...").
// The file's last section, apart from the lesson, keeps each spec's program for the next step
// and reuses the tape's gradient buffers.

import Shared
import Synchronization

/// What is wrong with an ``einsum(_:_:_:)`` call: one line naming the spec and the problem.
public enum EinsumError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The spec string itself is not a valid two-operand spec.
    case malformedSpec(spec: String, reason: String)
    /// The spec is valid, but the operands' shapes do not fit it.
    case shapeMismatch(spec: String, reason: String)

    public var description: String {
        switch self {
        case let .malformedSpec(spec, reason): return "einsum \"\(spec)\": malformed spec: \(reason)"
        case let .shapeMismatch(spec, reason): return "einsum \"\(spec)\": shapes do not fit: \(reason)"
        }
    }
}

// MARK: - einsum

/// Einstein summation of two tensors, differentiable like any other op.
///
///     try einsum("ij,jk->ik", a, b)    // a·b        [m,k]·[k,n] → [m,n]
///     try einsum("ij,kj->ik", a, b)    // a·bᵀ
///     try einsum("ji,jk->ik", a, b)    // aᵀ·b
///     try einsum("ji,kj->ik", a, b)    // aᵀ·bᵀ
///     try einsum("bi,i->b", x, w)      // x·w, w a vector [I, 1] or [1, I] → [B, 1]
///     try einsum("i,i->", u, v)        // dot product → [1, 1]
///     try einsum("i,j->ij", u, v)      // outer product
///     try einsum("ij,ij->ij", a, b)    // elementwise product (loop)
///
/// `Oₒᵤₜ = Σ over every index not in the output of A·B`. Matrix products become one `gemm`;
/// other specs a loop. Backward: `∂ℓ/∂A = einsum("out,B->A", g, B)`, `∂ℓ/∂B = einsum("A,out->B", A, g)`.
///
/// - Throws: ``EinsumError/malformedSpec(spec:reason:)`` for a spec that is not
///   `"xy,xy->xy"`-shaped (two operands of one or two letters a–z, an output of at most two,
///   no letter repeated within one, every output letter in an operand), and
///   ``EinsumError/shapeMismatch(spec:reason:)`` when an index has two different sizes or a
///   one-index operand is not a vector.
public func einsum<T: NeuralScalar>(_ spec: String, _ a: Tensor<T>, _ b: Tensor<T>) throws -> Tensor<T> {
    let program = try EinsumProgram.cached(spec, a.value, b.value)     // parsed and planned (once: see the end)
    let origin = KernelTrace.enter(program.name); defer { origin.leave() }   // for compare-levels --trace
    let out = program.forward.evaluate(a.value, b.value)

    return Tensor(out, operation: program.name, parents: [a, b]) { g in
        if a.requiresGrad {                         // ∂ℓ/∂A = einsum("out,B->A", g, B)
            a.accumulateGradient(reshaped(program.gradientA.evaluate(g, b.value, reusing: a.gradientBuffer()), like: a.value))
        }
        if b.requiresGrad {                         // ∂ℓ/∂B = einsum("A,out->B", A, g)
            b.accumulateGradient(reshaped(program.gradientB.evaluate(a.value, g, reusing: b.gradientBuffer()), like: b.value))
        }
    }
}

// MARK: - A spec, worked out for its operands' shapes

/// The three plans of a spec for given operand shapes: the forward product and the two
/// gradient products, whose specs are the forward's with the output and one operand swapped.
struct EinsumProgram: Sendable {
    let name: String
    let forward: EinsumPlan
    let gradientA: EinsumPlan
    let gradientB: EinsumPlan

    /// The program of `spec` for operands shaped like `a` and `b`: parsed, checked (errors are
    /// thrown here) and planned.
    init<T: NeuralScalar>(_ spec: String, _ a: Matrix<T>, _ b: Matrix<T>) throws {
        let indices = try EinsumIndices(parsing: spec)
        let sizes = try indices.sizes(of: a, and: b, spec: spec)
        name = "einsum \(indices)"
        forward = EinsumPlan(indices, sizes: sizes)                                                 // "A,B->O"
        gradientA = EinsumPlan(EinsumIndices(a: indices.output, b: indices.b, output: indices.a), sizes: sizes)   // "O,B->A"
        gradientB = EinsumPlan(EinsumIndices(a: indices.a, b: indices.output, output: indices.b), sizes: sizes)   // "A,O->B"
    }
}

// MARK: - Parsing

/// The index letters of a two-operand spec, e.g. "bi,oi->bo": `a = [b, i]`, `b = [o, i]`,
/// `output = [b, o]`.
struct EinsumIndices: Equatable, Sendable, CustomStringConvertible {
    var a: [Character]
    var b: [Character]
    var output: [Character]

    init(a: [Character], b: [Character], output: [Character]) {
        self.a = a
        self.b = b
        self.output = output
    }

    /// Parses and checks a spec written by a user (whitespace is ignored).
    init(parsing spec: String) throws {
        func malformed(_ reason: String) -> EinsumError { .malformedSpec(spec: spec, reason: reason) }
        let text = spec.filter { !$0.isWhitespace }
        let sides = text.split(separator: "->", omittingEmptySubsequences: false)
        guard sides.count == 2 else {
            throw malformed(sides.count == 1 ? "no '->' (write the output indices, e.g. \"ij,jk->ik\")"
                                             : "more than one '->'")
        }
        let operands = sides[0].split(separator: ",", omittingEmptySubsequences: false)
        guard operands.count == 2 else {
            throw malformed("expected two operands separated by ',', found \(operands.count)")
        }
        for (name, letters) in [("operand 1", operands[0]), ("operand 2", operands[1]), ("the output", sides[1])] {
            if let bad = letters.first(where: { !("a"..."z").contains($0) }) {
                throw malformed("'\(bad)' in \(name) is not an index (indices are the letters a–z)")
            }
            var seen = Set<Character>()
            if let repeated = letters.first(where: { !seen.insert($0).inserted }) {
                throw malformed("index '\(repeated)' appears twice in \(name) (diagonals and traces are not supported)")
            }
        }
        for (number, letters) in [(1, operands[0]), (2, operands[1])] where !(1...2).contains(letters.count) {
            throw malformed("operand \(number) has \(letters.count) indices; an operand is a vector (1 index) or a matrix (2)")
        }
        guard sides[1].count <= 2 else {
            throw malformed("the output has \(sides[1].count) indices; at most 2")
        }
        if let orphan = sides[1].first(where: { !operands[0].contains($0) && !operands[1].contains($0) }) {
            throw malformed("output index '\(orphan)' is in neither operand")
        }
        self.init(a: Array(operands[0]), b: Array(operands[1]), output: Array(sides[1]))
    }

    var description: String { "\(String(a)),\(String(b))->\(String(output))" }

    /// The size of every index, read from the operands' shapes.
    ///
    /// - Throws: ``EinsumError/shapeMismatch(spec:reason:)`` when an index has two sizes, or a
    ///   one-index operand is neither `[n, 1]` nor `[1, n]`.
    func sizes<T: NeuralScalar>(of first: Matrix<T>, and second: Matrix<T>, spec: String) throws -> [Character: Int] {
        var sizes: [Character: Int] = [:]
        var sizeFrom: [Character: Int] = [:]               // which operand set each size
        for (number, letters, matrix) in [(1, a, first), (2, b, second)] {
            let extents: [Int]
            switch letters.count {
            case 2:
                extents = [matrix.rows, matrix.columns]
            default:
                guard matrix.rows == 1 || matrix.columns == 1 else {
                    throw EinsumError.shapeMismatch(
                        spec: spec,
                        reason: "operand \(number) has one index ('\(String(letters))'), so it must be a vector "
                            + "[n, 1] or [1, n], but its shape is [\(matrix.rows), \(matrix.columns)]")
                }
                extents = [matrix.count]
            }
            for (letter, extent) in zip(letters, extents) {
                if let known = sizes[letter], known != extent {
                    throw EinsumError.shapeMismatch(
                        spec: spec,
                        reason: "index '\(letter)' is \(known) in operand \(sizeFrom[letter] ?? 1) "
                            + "but \(extent) in operand \(number)")
                }
                sizes[letter] = extent
                sizeFrom[letter] = sizeFrom[letter] ?? number
            }
        }
        return sizes
    }
}

// MARK: - Planning: one gemm, or a loop

/// How a spec is computed, for index sizes already known.
struct EinsumPlan: Sendable {
    var indices: EinsumIndices
    var sizes: [Character: Int]

    /// The operands as gemm sees them, when the spec is a matrix product
    /// `C[m, n] = Σₖ op(A)[m, k]·op(B)[k, n]`; nil when it is computed by the loop.
    var product: MatrixProduct?

    struct MatrixProduct: Equatable, Sendable {
        /// `op(A): [m, k]`, `op(B): [k, n]`; a missing index has size 1.
        var m, n, k: Int
        /// The shape in which each operand's storage is read (a vector as a row or a column),
        /// and whether gemm transposes it.
        var aRows, aColumns: Int
        var transposeA: Bool
        var bRows, bColumns: Int
        var transposeB: Bool
        /// The output lists n before m: compute `Cᵀ = op(B)ᵀ·op(A)ᵀ` instead (still one gemm).
        var outputTransposed: Bool

        /// The shape gemm writes: `[m, n]`, or `[n, m]` when the output is transposed.
        var cRows: Int { outputTransposed ? n : m }
        var cColumns: Int { outputTransposed ? m : n }
    }

    init(_ indices: EinsumIndices, sizes: [Character: Int]) {
        self.indices = indices
        self.sizes = sizes
        self.product = Self.matrixProduct(indices, sizes: sizes)
    }

    /// The output's shape: two indices `[size₁, size₂]`, one a column `[size, 1]`, none `[1, 1]`.
    var outputShape: (rows: Int, columns: Int) {
        let extents = indices.output.map { size($0) }
        switch extents.count {
        case 2: return (extents[0], extents[1])
        case 1: return (extents[0], 1)
        default: return (1, 1)
        }
    }

    func size(_ index: Character?) -> Int {
        guard let index else { return 1 }
        return sizes[index] ?? 1
    }

    /// Recognises a matrix product: at most one summed index `k` (in both operands, not in the
    /// output), every other index of A (`m`) and of B (`n`) in the output, at most one of each,
    /// and no index in both operands *and* the output (that would be a batch of products).
    static func matrixProduct(_ indices: EinsumIndices, sizes: [Character: Int]) -> MatrixProduct? {
        let inA = Set(indices.a), inB = Set(indices.b), inOutput = Set(indices.output)
        let summed = inA.intersection(inB).subtracting(inOutput)
        guard summed.count <= 1,
              inA.intersection(inB).intersection(inOutput).isEmpty,
              inA.isSubset(of: summed.union(inOutput)),
              inB.isSubset(of: summed.union(inOutput)),
              inOutput.isSubset(of: inA.union(inB))
        else { return nil }
        let k = summed.first
        let freeA = indices.a.filter { $0 != k }, freeB = indices.b.filter { $0 != k }
        guard freeA.count <= 1, freeB.count <= 1 else { return nil }
        let m = freeA.first, n = freeB.first
        func size(_ index: Character?) -> Int { index.flatMap { sizes[$0] } ?? 1 }

        // A as stored: [m, k] (no transpose) or [k, m] (transposed); a vector is read as the
        // row or column that makes op(A) = [m, k].
        let (aRows, aColumns) = indices.a.count == 2 ? (size(indices.a[0]), size(indices.a[1])) : (size(m), size(k))
        let transposeA = indices.a.count == 2 && indices.a[0] == k
        // B as stored: [k, n] or [n, k].
        let (bRows, bColumns) = indices.b.count == 2 ? (size(indices.b[0]), size(indices.b[1])) : (size(k), size(n))
        let transposeB = indices.b.count == 2 && indices.b[0] == n
        let outputTransposed = indices.output.count == 2 && indices.output[0] == n
        return MatrixProduct(m: size(m), n: size(n), k: size(k),
                             aRows: aRows, aColumns: aColumns, transposeA: transposeA,
                             bRows: bRows, bColumns: bColumns, transposeB: transposeB,
                             outputTransposed: outputTransposed)
    }

    /// Computes the spec for operands `a` and `b` (whose shapes the sizes came from): one gemm
    /// for a matrix product, else the loop.
    func evaluate<T: NeuralScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> Matrix<T> {
        guard let p = product else { return loop(a, b) }
        var c = Matrix<T>.uninitialized(rows: p.cRows, columns: p.cColumns)   // gemm (β = 0) writes all of it
        return multiply(a, b, p, into: &c)
    }

    /// The matrix product `p` of `a` and `b`, written into `c` (`[p.cRows, p.cColumns]`), in the
    /// output's shape.
    func multiply<T: NeuralScalar>(_ a: Matrix<T>, _ b: Matrix<T>, _ p: MatrixProduct, into c: inout Matrix<T>) -> Matrix<T> {
        let aView = reshaped(a, rows: p.aRows, columns: p.aColumns)
        let bView = reshaped(b, rows: p.bRows, columns: p.bColumns)
        if p.outputTransposed {                                  // Cᵀ = op(B)ᵀ·op(A)ᵀ   [n, m]
            gemm(bView, transposeA: !p.transposeB, aView, transposeB: !p.transposeA, into: &c)
            return c
        }
        gemm(aView, transposeA: p.transposeA, bView, transposeB: p.transposeB, into: &c)   // C = op(A)·op(B)  [m, n]
        return reshaped(c, rows: outputShape.rows, columns: outputShape.columns)
    }

    /// The definition, as a loop over every combination of index values:
    /// `out[output indices] += a[a's indices] · b[b's indices]`.
    func loop<T: NeuralScalar>(_ a: Matrix<T>, _ b: Matrix<T>) -> Matrix<T> {
        let shape = outputShape
        var out = Matrix<T>(rows: shape.rows, columns: shape.columns)
        var all: [Character] = []
        for index in indices.output + indices.a + indices.b where !all.contains(index) { all.append(index) }
        let extents = all.map { size($0) }
        guard extents.allSatisfy({ $0 > 0 }) else { return out }

        // Storage offset of an operand's element: row-major over its own indices (a vector's
        // storage is the same whether it is a row or a column).
        func strides(_ letters: [Character]) -> [(position: Int, stride: Int)] {
            letters.enumerated().map { offset, letter in
                (all.firstIndex(of: letter) ?? 0, letters.dropFirst(offset + 1).reduce(1) { $0 * size($1) })
            }
        }
        let (sa, sb, so) = (strides(indices.a), strides(indices.b), strides(indices.output))
        func offset(_ strides: [(position: Int, stride: Int)], _ values: [Int]) -> Int {
            strides.reduce(0) { $0 + values[$1.position] * $1.stride }
        }
        var values = [Int](repeating: 0, count: all.count)
        while true {
            out.storage[offset(so, values)] += a.storage[offset(sa, values)] * b.storage[offset(sb, values)]
            var position = all.count - 1                          // odometer: last index fastest
            while position >= 0 {
                values[position] += 1
                if values[position] < extents[position] { break }
                values[position] = 0
                position -= 1
            }
            if position < 0 { return out }
        }
    }
}

/// The same storage read as `[rows, columns]` (no copy: the array buffer is shared).
func reshaped<T: NeuralScalar>(_ x: Matrix<T>, rows: Int, columns: Int) -> Matrix<T> {
    x.rows == rows && x.columns == columns ? x : Matrix(rows: rows, columns: columns, storage: x.storage)
}

/// `x` read in the shape of `model` (a vector gradient computed as a column, for a row vector).
func reshaped<T: NeuralScalar>(_ x: Matrix<T>, like model: Matrix<T>) -> Matrix<T> {
    reshaped(x, rows: model.rows, columns: model.columns)
}

// MARK: - Memory: programs kept, gradient buffers reused (not needed for the lesson)

extension EinsumProgram {
    /// Parsing a spec and recognising a matrix product costs more than a small product itself,
    /// and a training loop calls the same spec on the same shapes every step, so programs are
    /// kept, by spec and shapes (as a framework caches a traced op).
    struct Key: Hashable, Sendable {
        var spec: String
        var aRows, aColumns, bRows, bColumns: Int
    }

    /// The programs made so far (at most `capacity`; the cache starts over when full).
    static let cache = Mutex<[Key: EinsumProgram]>([:])
    static let capacity = 256

    /// `EinsumProgram(spec, a, b)`, from the cache when this spec met these shapes before
    /// (errors are thrown by the initialiser, and never cached).
    static func cached<T: NeuralScalar>(_ spec: String, _ a: Matrix<T>, _ b: Matrix<T>) throws -> EinsumProgram {
        let key = Key(spec: spec, aRows: a.rows, aColumns: a.columns, bRows: b.rows, bColumns: b.columns)
        if let program = cache.withLock({ $0[key] }) { return program }
        let program = try EinsumProgram(spec, a, b)
        cache.withLock { programs in
            if programs.count >= capacity { programs.removeAll() }
            programs[key] = program
        }
        return program
    }
}

extension EinsumPlan {
    /// ``evaluate(_:_:)``, writing a matrix product into `buffer` when it has the product's
    /// shape (the gradient buffer the tape kept for the operand, as `matmul` reuses it), so that
    /// a training step does not allocate a weight's gradient again.
    func evaluate<T: NeuralScalar>(_ a: Matrix<T>, _ b: Matrix<T>, reusing buffer: consuming Matrix<T>?) -> Matrix<T> {
        guard let p = product, var c = buffer.take(), c.rows == p.cRows, c.columns == p.cColumns else {
            return evaluate(a, b)
        }
        return multiply(a, b, p, into: &c)                       // the only reference: written in place
    }
}
