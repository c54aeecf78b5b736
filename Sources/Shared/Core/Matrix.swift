// Matrix.swift — the one buffer type of NeuralLevels: a row-major matrix of scalars.
//
// Teaches: what a "tensor" is underneath every framework for this network: a flat array and a
// shape. A batch of 64 images is `Matrix(rows: 64, columns: 784)`; a bias is `[1, out]`.
// Leaves out: strides, views and more than two dimensions (this network never needs them).

/// A row-major `[rows, columns]` matrix: element `(i, j)` lives at `storage[i * columns + j]`.
public struct Matrix<Scalar: NeuralScalar>: Equatable, Sendable {
    /// Number of rows (for data, the batch dimension `B`).
    @inlinable public var rows: Int { _rows }
    @usableFromInline var _rows: Int
    /// Number of columns (features).
    public let columns: Int
    /// The elements, row after row; always `rows * columns` of them.
    public var storage: [Scalar]

    /// A matrix filled with `value` (zero by default).
    @inlinable
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) {
        precondition(rows >= 0 && columns >= 0, "Matrix shape must be non-negative")
        self._rows = rows
        self.columns = columns
        self.storage = Array(repeating: value, count: rows * columns)
    }

    /// A matrix whose elements are not set: for a result that a kernel overwrites whole before
    /// anything reads it (a `gemm` output with β = 0, an activation's output, a gradient). It
    /// saves a pass of zeros over memory that is about to be written anyway (for a `[128, 784]`
    /// weight gradient, 400 KB per step). Reading an element before writing it gives garbage.
    @inlinable
    public static func uninitialized(rows: Int, columns: Int) -> Matrix {
        precondition(rows >= 0 && columns >= 0, "Matrix shape must be non-negative")
        let count = rows * columns
        return Matrix(rows: rows, columns: columns,
                      storage: [Scalar](unsafeUninitializedCapacity: count) { _, initialized in initialized = count })
    }

    /// A matrix over existing row-major elements; `storage.count` must be `rows * columns`.
    @inlinable
    public init(rows: Int, columns: Int, storage: [Scalar]) {
        precondition(rows >= 0 && columns >= 0 && storage.count == rows * columns,
                     "Matrix storage has \(storage.count) elements, shape [\(rows), \(columns)] needs \(rows * columns)")
        self._rows = rows
        self.columns = columns
        self.storage = storage
    }

    /// A matrix built from nested rows (handy in tests and examples).
    public init(_ nestedRows: [[Scalar]]) {
        let columns = nestedRows.first?.count ?? 0
        precondition(nestedRows.allSatisfy { $0.count == columns }, "Rows differ in length")
        self.init(rows: nestedRows.count, columns: columns, storage: nestedRows.flatMap { $0 })
    }

    /// `[rows, columns]`.
    @inlinable public var shape: [Int] { [rows, columns] }

    /// Number of elements.
    @inlinable public var count: Int { storage.count }

    /// Element `(row, column)`.
    @inlinable
    public subscript(row: Int, column: Int) -> Scalar {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }

    /// Gives this matrix a copy of its elements of its own if it shares them with another
    /// matrix, now, rather than at its first write (when copy-on-write would make the copy).
    @inlinable
    public mutating func makeStorageUnique() {
        storage.withUnsafeMutableBufferPointer { _ in }     // a mutable access copies shared storage
    }

    /// Changes the number of rows in place, keeping the buffer's capacity: the last, partial
    /// batch of an epoch shrinks the batch buffers without freeing them, and the next epoch's
    /// first batch grows them again without allocating. New rows are zero.
    @inlinable
    public mutating func resize(rows newRows: Int) {
        precondition(newRows >= 0)
        if newRows < rows {
            storage.removeLast((rows - newRows) * columns)
        } else if newRows > rows {
            storage.append(contentsOf: repeatElement(0, count: (newRows - rows) * columns))
        }
        _rows = newRows
    }

    /// The same elements in another scalar type (Float ⇄ Double).
    public func converted<Other: NeuralScalar>(to _: Other.Type = Other.self) -> Matrix<Other> {
        Matrix<Other>(rows: rows, columns: columns, storage: storage.map { Other($0) })
    }

    /// The transpose, `[columns, rows]` (a copy; the kernels transpose inside `gemm` instead).
    public func transposed() -> Matrix {
        var result = Matrix(rows: columns, columns: rows)
        for i in 0..<rows {
            for j in 0..<columns { result[j, i] = self[i, j] }
        }
        return result
    }
}

extension Matrix: CustomStringConvertible {
    public var description: String {
        let shown = (0..<min(rows, 6)).map { i in
            (0..<min(columns, 8)).map { j in "\(self[i, j])" }.joined(separator: ", ")
                + (columns > 8 ? ", …" : "")
        }
        return "Matrix[\(rows), \(columns)](\n  " + shown.joined(separator: "\n  ")
            + (rows > 6 ? "\n  …" : "") + "\n)"
    }
}
