// swift-tools-version: 6.2
import PackageDescription

// Linux only (Debian bookworm and its relatives): libhdf5, OpenBLAS and zlib come from
// apt, OpenBLAS is opened by its Linux soname, checkpoints are written through Glibc.
//
// Floors, imports only go down:
//   moe (CLI) -> Continual -> MoE -> CBLAS, CVectorMath
//                          -> HDF5Kit -> CHDF5, CZlib (its chunks' deflate)
//                          -> CZlib
//                          -> Crypto (swift-crypto: Ed25519 signatures of checkpoints)
//   moe-checkpoint-reader -> HDF5Kit  (parses untrusted checkpoints for Continual, in a
//                                      child process; found beside the running program)
//   beside them: SpiralsDemo (the two-spirals demonstration) -> MoE, and Benchmarks, both
//   used by moe only
//
// The learner's two libraries are compiled optimized in debug builds too: the tests run
// the `moe` and the learner a debug build makes, and unoptimized they took 10 minutes on
// 2 cores (2 with `-O`; docs/benchmarks.md, "The test suite's time"). `-O` keeps Swift's
// strict floating point, so the bits are a release build's. MOE_UNOPTIMIZED=1 at build
// time gives the plain debug build, for stepping through them in a debugger. Since tools
// version 6.2 a package that depends on this one by version accepts the flag.
let optimizedInDebug: [SwiftSetting] =
    Context.environment["MOE_UNOPTIMIZED"] == "1" ? [] : [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "MoE",
    products: [
        .library(name: "MoE", targets: ["MoE"]),
        .library(name: "Continual", targets: ["Continual"]),
        .executable(name: "moe", targets: ["moe"]),
        .executable(name: "moe-checkpoint-reader", targets: ["moe-checkpoint-reader"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // C only: module maps and shim headers.
        .systemLibrary(
            name: "CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),
        // OpenBLAS is opened at run time (see Sources/MoE/Numerics/BLAS.swift) so that
        // the fast kernel can be chosen before the library initialises; this module
        // only declares the CBLAS ABI.
        .target(name: "CBLAS"),
        // Vector kernels Swift does not express at the default target: square roots
        // without errno, Adam's update and the bounds check of weights in the CPU's
        // widest vectors (see its header);
        // only Sources/MoE/Numerics/VectorMath.swift imports it.
        .target(name: "CVectorMath"),

        .target(name: "HDF5Kit", dependencies: ["CHDF5", "CZlib"]),
        .target(name: "MoE", dependencies: ["CBLAS", "CVectorMath"], swiftSettings: optimizedInDebug),
        .target(
            name: "Continual",
            dependencies: [
                "MoE", "HDF5Kit", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ], swiftSettings: optimizedInDebug),
        // The child process that parses untrusted checkpoints with libhdf5 (see
        // docs/checkpoint-format.md, "Isolated loading"): HDF5Kit only, nothing else.
        .executableTarget(name: "moe-checkpoint-reader", dependencies: ["HDF5Kit"]),
        // Benchmarks: not part of the libraries; moe bench runs them.
        .target(name: "Benchmarks", dependencies: ["MoE", "Continual"]),
        // The two-spirals demonstration (Cascade-Correlation's benchmark): moe spirals.
        .target(name: "SpiralsDemo", dependencies: ["MoE"]),
        .executableTarget(
            name: "moe",
            dependencies: [
                "MoE", "Continual", "Benchmarks", "SpiralsDemo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),

        // Fuzz targets (scripts/fuzz.sh builds them with libFuzzer; a normal build
        // gives executables that replay input files through the same code).
        .target(name: "FuzzTargets", dependencies: ["Continual", "MoE", "HDF5Kit"], path: "Sources/Fuzz/FuzzTargets"),
        .executableTarget(name: "FuzzCheckpoint", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/FuzzCheckpoint"),
        .executableTarget(name: "FuzzArchitecture", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/FuzzArchitecture"),
        .executableTarget(name: "FuzzIDX", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/FuzzIDX"),
        .executableTarget(name: "FuzzCSV", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/FuzzCSV"),
        .executableTarget(name: "FuzzSnapshotWire", dependencies: ["FuzzTargets"], path: "Sources/Fuzz/FuzzSnapshotWire"),

        .target(name: "TestSupport", dependencies: ["MoE"], path: "Tests/TestSupport"),
        .testTarget(name: "MoETests", dependencies: ["MoE", "TestSupport"]),
        .testTarget(name: "HDF5KitTests", dependencies: ["HDF5Kit", "TestSupport"]),
        .testTarget(name: "ContinualTests", dependencies: ["Continual", "MoE", "HDF5Kit", "TestSupport", "FuzzTargets"],
                    exclude: ["Fixtures/fuzz", "Fixtures/crafted"]),
        .testTarget(name: "BenchmarksTests", dependencies: ["Benchmarks", "MoE", "TestSupport"]),
        .testTarget(name: "SpiralsDemoTests", dependencies: ["SpiralsDemo", "MoE", "TestSupport"]),
        .testTarget(name: "moeTests", dependencies: ["moe", "Continual", "MoE", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
