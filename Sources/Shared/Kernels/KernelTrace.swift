// KernelTrace.swift — an optional record of which kernels ran, with which shapes, and where from.
//
// Teaches: `compare-levels --trace` shows that `fit`, `loss.backward()` and the hand-written
// backward pass all come down to the same kernel calls, and beside each call, the construct of
// the style that made it: `model.fit → optimizer.step()`, `loss.backward(): matmul's backward`,
// `ManualNetwork.swift:55 linearBackward`. Frameworks say where they are with a small stack of
// names (``enter(_:)``, ``Frame/leave()``); code with no framework around it, Level 4's, is
// named by the line that calls the kernel (every kernel takes `file`, `line` and `function`
// defaults, as `precondition` does). When tracing is off (always, except for that one step),
// a kernel pays one load and one branch, and so does a framework entering a name.
// Leaves out: timing (the runner measures time per epoch instead).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A record of kernel calls, kept for each thread inside ``recording(_:)``.
public enum KernelTrace {
    /// One recorded call: kernel name, a shape description, e.g. `gemm`, `A[64,784]·Bᵀ[128,784]`,
    /// and where it came from, e.g. `model.fit → optimizer.step()`.
    public struct Call: Equatable, Sendable, CustomStringConvertible {
        public var kernel: String
        public var shapes: String
        /// The names the code around the call entered, outermost first, joined by ` → `; with no
        /// name entered, the line that called the kernel: `ManualNetwork.swift:30 linearForward`.
        public var origin: String
        /// Kernel and shapes: the arithmetic, without where it came from (what styles share).
        public var description: String { "\(kernel) \(shapes)" }
        @inlinable public init(kernel: String, shapes: String, origin: String = "") {
            self.kernel = kernel
            self.shapes = shapes
            self.origin = origin
        }
    }

    /// How many threads are recording (``recording(_:)``); kernels check it first.
    @usableFromInline static let recorders = Atomic<Int>(0)
    /// The calls recorded so far, per recording thread: tests trace in parallel, each on its own
    /// thread, and one style's calls must not end up in another's list. A kernel runs its parts
    /// on helper threads, but is called, and recorded, on the thread that calls it.
    static let calls = Guarded<[UInt: [Call]]>([:])
    /// The names entered and not yet left, per thread (for the same reason).
    static let frames = Guarded<[UInt: [String]]>([:])

    /// Whether some thread is recording calls.
    @inlinable public static var isEnabled: Bool { recorders.load(ordering: .relaxed) > 0 }

    /// Records the calls `body` makes on this thread and returns them.
    public static func recording<R>(_ body: () throws -> R) rethrows -> (result: R, calls: [Call]) {
        let thread = currentThread
        calls.withLock { $0[thread] = [] }
        recorders.add(1, ordering: .relaxed)
        defer {
            recorders.subtract(1, ordering: .relaxed)
            _ = calls.withLock { $0.removeValue(forKey: thread) }
        }
        let result = try body()
        return (result, calls.withLock { $0[thread] ?? [] })
    }

    // MARK: Recording a call

    /// Called by every kernel; costs a relaxed load when tracing is off. `file`, `line` and
    /// `function` are the kernel's caller, passed on from the kernel's own defaults.
    @inlinable
    public static func record(_ kernel: String, _ shapes: @autoclosure () -> String,
                              file: StaticString, line: UInt, function: StaticString) {
        if isEnabled { append(kernel, shapes(), file: file, line: line, function: function) }
    }

    @usableFromInline
    static func append(_ kernel: String, _ shapes: String, file: StaticString, line: UInt, function: StaticString) {
        let thread = currentThread
        guard calls.withLock({ $0[thread] != nil }) else { return }     // another thread records
        let names = frames.withLock { $0[thread] ?? [] }
        let origin = names.isEmpty ? site(file: file, line: line, function: function) : names.joined(separator: " → ")
        calls.withLock { $0[thread]?.append(Call(kernel: kernel, shapes: shapes, origin: origin)) }
    }

    /// `ManualNetwork.swift:30 linearForward`, from `Level4Manual/ManualNetwork.swift`, 30 and
    /// `linearForward(_:_:into:)`.
    static func site(file: StaticString, line: UInt, function: StaticString) -> String {
        let fileName = "\(file)".split(separator: "/").last.map(String.init) ?? "\(file)"
        let name = "\(function)".split(separator: "(", maxSplits: 1).first.map(String.init) ?? "\(function)"
        return "\(fileName):\(line) \(name)"
    }

    // MARK: Where the calls come from

    /// A name entered with ``KernelTrace/enter(_:)``; ``leave()`` it when the construct ends.
    public struct Frame: Sendable {
        /// How many names the thread had entered before this one; nil if tracing was off.
        @usableFromInline let depth: Int?
        @inlinable init(depth: Int?) { self.depth = depth }

        /// Ends the name, and any entered inside it and not left (an error thrown past their
        /// `leave()`). Does nothing if tracing was off when it was entered.
        @inlinable public func leave() {
            if let depth { KernelTrace.pop(to: depth) }
        }
    }

    /// Names the construct that is running, e.g. `optimizer.step()`: the kernel calls made until
    /// the returned frame's ``Frame/leave()`` record it in their origin, after the names entered
    /// around it. Costs a relaxed load when tracing is off (`name` is then not even built).
    ///
    ///     let origin = KernelTrace.enter("optimizer.step()")
    ///     defer { origin.leave() }
    @inlinable
    public static func enter(_ name: @autoclosure () -> String) -> Frame {
        guard isEnabled else { return Frame(depth: nil) }
        return Frame(depth: push(name()))
    }

    /// `body`, with `name` entered around it (``enter(_:)`` and ``Frame/leave()`` in one call).
    @inlinable
    public static func within<R>(_ name: @autoclosure () -> String, _ body: () throws -> R) rethrows -> R {
        let frame = enter(name())
        defer { frame.leave() }
        return try body()
    }

    /// Appends `name` to the thread's names; returns how many there were before.
    @usableFromInline
    static func push(_ name: String) -> Int {
        frames.withLock { stacks in
            defer { stacks[currentThread, default: []].append(name) }
            return stacks[currentThread]?.count ?? 0
        }
    }

    /// Cuts the thread's names back to the first `depth`.
    @usableFromInline
    static func pop(to depth: Int) {
        frames.withLock { stacks in
            let thread = currentThread
            guard let names = stacks[thread] else { return }
            stacks[thread] = depth > 0 ? Array(names.prefix(depth)) : nil
        }
    }

    /// The calling thread, as a number.
    static var currentThread: UInt {
        #if canImport(Glibc)
        UInt(pthread_self())
        #else
        UInt(bitPattern: pthread_self())
        #endif
    }
}
