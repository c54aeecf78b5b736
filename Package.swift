// swift-tools-version: 6.0
//
// NeuralLevels — one small neural network, trained at four levels of abstraction.
// See README.md for the stack; every level depends only on the levels below it.
import Foundation
import PackageDescription

/// Full cross-module optimisation in release builds: every level is generic over the scalar
/// type (Float for training, Double for gradient checks), and this lets the compiler specialise
/// a level's code and the Shared kernels it calls for Float, across module boundaries.
///
/// On x86-64 the numeric targets are also compiled for the CPU that builds them
/// (`-march=native`, as llama.cpp does by default): the elementwise kernels of Shared (tanh,
/// sigmoid, SGD, the batch gather) then use AVX2 or AVX-512, 8 or 16 Floats at a time instead
/// of SSE2's 4, and run 2–3× faster. The bits do not change: Swift never fuses `a·b + c` into
/// an FMA on its own, and lane width does not change elementwise results. A binary built this
/// way may not start on an older CPU than the one that built it; to build for any x86-64, set
/// `NEURAL_LEVELS_PORTABLE=1` in the environment of `swift build`.
let vectorISA: [String] = {
    #if arch(x86_64)
    return ProcessInfo.processInfo.environment["NEURAL_LEVELS_PORTABLE"] == nil ? ["-Xcc", "-march=native"] : []
    #else
    return []
    #endif
}()
let optimized: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization"], .when(configuration: .release)),
    .unsafeFlags(vectorISA),
]
/// The tape's levels (3 autograd, 2, 1) in release builds also skip Swift's run-time exclusivity
/// checks. A tensor is a class, and every read or write of its `value`, `grad` or `parents`
/// that the compiler cannot prove private is checked against a per-thread table of ongoing
/// accesses: about 9% of a small network's training step (profiled with `perf`, regression
/// net at batch 32). The rule itself still holds — two overlapping accesses to one variable
/// are a bug — and debug builds keep checking it: `swift run` without `-c release`, and the
/// debug build of scripts/sanitize-threads.sh, which CI runs over every style.
let tape: [SwiftSetting] = optimized + [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "NeuralLevels",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Shared", targets: ["Shared"]),
        .library(name: "Level4Manual", targets: ["Level4Manual"]),
        .library(name: "Level3Autograd", targets: ["Level3Autograd"]),
        .library(name: "Level3Differentiable", targets: ["Level3Differentiable"]),
        .library(name: "Level2Modules", targets: ["Level2Modules"]),
        .library(name: "Level1HighLevel", targets: ["Level1HighLevel"]),
        .executable(name: "level4-manual", targets: ["level4-manual"]),
        .executable(name: "level3-autograd", targets: ["level3-autograd"]),
        .executable(name: "level2-modules", targets: ["level2-modules"]),
        .executable(name: "level1-high-level", targets: ["level1-high-level"]),
        .executable(name: "compare-levels", targets: ["compare-levels"]),
        .executable(name: "gradcheck", targets: ["gradcheck"]),
        .executable(name: "download-data", targets: ["download-data"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        // `swift package generate-documentation --target Level4Manual` (the DocC catalogs in Sources/*/*.docc)
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
    ],
    targets: [
        // MARK: System libraries (apt: libopenblas-dev, zlib1g-dev)
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(
            name: "CCairo", pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev"])]),
        // Header only: a software-prefetch hint (see Sources/CPrefetch/prefetch.h).
        .systemLibrary(name: "CPrefetch"),

        // MARK: The shared foundation: data, kernels, init, metrics, checkpoints
        .target(
            name: "Shared",
            dependencies: [
                "CBLAS", "CZlib", "CPrefetch",
                .product(name: "RealModule", package: "swift-numerics"),
            ],
            swiftSettings: optimized),

        // MARK: Charts (Cairo → PNG); a general chart library, independent of the levels
        .target(name: "Charts", dependencies: ["CCairo", "Shared"]),

        // MARK: The four levels, lowest first
        .target(name: "Level4Manual", dependencies: ["Shared"], swiftSettings: optimized),
        .target(name: "Level3Autograd", dependencies: ["Shared"], swiftSettings: tape),
        // Beside Level3Autograd, not on it: gradients derived by the compiler (`import _Differentiation`,
        // an experimental language feature, so only this target and its tests compile it).
        .target(name: "Level3Differentiable", dependencies: ["Shared"], swiftSettings: optimized),
        .target(name: "Level2Modules", dependencies: ["Level3Autograd", "Shared"], swiftSettings: tape),
        .target(name: "Level1HighLevel", dependencies: ["Level2Modules", "Shared"], swiftSettings: tape),

        // MARK: Command line (one options type for every executable)
        .target(
            name: "TrainingCLI",
            dependencies: [
                "Shared", "Charts", "Level4Manual",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: optimized),
        .executableTarget(
            name: "level4-manual",
            dependencies: [
                "Level4Manual", "TrainingCLI", "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "level3-autograd",
            dependencies: [
                "Level3Autograd", "Level3Differentiable", "TrainingCLI", "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "level2-modules",
            dependencies: [
                "Level2Modules", "TrainingCLI", "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(
            name: "level1-high-level",
            dependencies: [
                "Level1HighLevel", "TrainingCLI", "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(
            name: "LevelComparison",
            dependencies: [
                "Level4Manual", "Level3Autograd", "Level3Differentiable", "Level2Modules", "Level1HighLevel", "Shared",
                "TrainingCLI", "Charts",
            ],
            swiftSettings: optimized),
        .executableTarget(
            name: "compare-levels",
            dependencies: [
                "LevelComparison", "TrainingCLI", "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        .executableTarget(
            name: "gradcheck",
            dependencies: [
                "LevelComparison", "TrainingCLI", "Shared",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),

        // MARK: Tests
        .target(name: "TestSupport", dependencies: ["Shared"], path: "Tests/TestSupport"),
        .testTarget(name: "ChartsTests", dependencies: ["Charts", "CCairo", "Shared"]),
        .testTarget(name: "SharedTests", dependencies: ["Shared", "TestSupport"]),
        .testTarget(name: "Level4ManualTests", dependencies: ["Level4Manual", "Shared"]),
        .testTarget(
            name: "CommandLineTests",
            dependencies: [
                "Shared", "Charts", "TestSupport", "LevelComparison", "level4-manual", "level3-autograd", "level2-modules",
                "level1-high-level", "compare-levels", "gradcheck",
            ]),
        .testTarget(name: "Level2ModulesTests", dependencies: ["Level2Modules", "Level3Autograd", "Level4Manual", "Shared", "TestSupport"]),
        .testTarget(name: "Level1HighLevelTests", dependencies: ["Level1HighLevel", "Level2Modules", "Level3Autograd", "Level4Manual", "Shared",
                                                                 "TestSupport"]),
        .testTarget(name: "Level3AutogradTests", dependencies: ["Level3Autograd", "Level4Manual", "Shared", "TestSupport"]),
        .testTarget(name: "Level3DifferentiableTests", dependencies: ["Level3Differentiable", "Level4Manual", "Shared", "TestSupport"]),
        // Every style against manual, with its own loop.
        .testTarget(name: "StyleTests", dependencies: ["LevelComparison", "Level1HighLevel", "Level2Modules", "Level3Autograd",
                                                       "Level4Manual", "Shared", "TestSupport"]),
        // Bad input, signals, divergence, determinism: the executables run as a user runs them.
        .testTarget(
            name: "ReliabilityTests",
            dependencies: ["Shared", "TrainingCLI", "Level4Manual", "TestSupport", "level4-manual", "level3-autograd", "level2-modules",
                           "level1-high-level", "compare-levels"]),

        // MARK: The original MNIST, for users with the internet (checksums verified, atomic writes)
        .executableTarget(
            name: "download-data",
            dependencies: [
                "Shared", "TrainingCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Against a loopback HTTP server (python3 -m http.server) serving fixture files.
        .testTarget(name: "DownloadTests", dependencies: ["Shared", "TestSupport", "download-data"]),
        // Every line of every swift block in the DocC articles appears in Sources/.
        .testTarget(name: "DocumentationTests", dependencies: ["TestSupport"]),
    ]
)
