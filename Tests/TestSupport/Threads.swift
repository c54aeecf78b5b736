// Threads.swift — kernels split across two threads in the tests that check the split, on any
// machine.
//
// Teaches: a test of a parallel path must not depend on the machine having a second core. The
// kernels split by `KernelThreads.count`, one per core by default, so on a one-core runner no
// fast form would ever split and those tests would only check the serial path.
// Leaves out: more than two threads (two is enough for every split to have an inner edge).

import Shared

/// Makes the kernels split across at least two threads from now on (a second thread is a
/// helper that time-shares a single core); does nothing where there are already two or more.
/// Suites that check split kernels call it in `init()`.
public func splitKernelsAcrossTwoThreads() { _ = atLeastTwoThreads }

private let atLeastTwoThreads: Void = {
    if KernelThreads.count < 2 { KernelThreads.set(2) }
}()
