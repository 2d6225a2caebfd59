// swift-tools-version:6.0
import PackageDescription

// Architecture (folders show it):
//   _CGSL        C shim over GNU GSL (pkg-config `gsl`, Debian's libgsl-dev): static inline
//                accessors for GSL's C globals, which Swift 6 cannot touch directly.
//   GSLKit       Swift-named wrapper over GSL: thrown errors instead of abort(), RNG,
//                root finding, numerical derivatives, least squares, ODEs, minimisers.
//   LossMath     Pure math: the loss catalogue, exact gradients, theory functions (T1-T10).
//   Experiments  The simulated-policy mini-trainer; knows nothing of files or terminals.
//   _CZlib       C shim over zlib (pkg-config `zlib`, Debian's zlib1g-dev): inflateInit2 and
//                deflateInit2 are macros Swift cannot call.
//   Formats      CSV (RFC 4180) reading/writing, JSON Lines, gzip, Markdown tables, ASCII and
//                SVG plots, atomic writes.
//   report       The command line: parses, calls, formats.
let package = Package(
    name: "PrincipledLoss",
    products: [
        .executable(name: "report", targets: ["report"]),
        .library(name: "LossMath", targets: ["LossMath"]),
        .library(name: "Experiments", targets: ["Experiments"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.0"),
    ],
    targets: [
        .systemLibrary(
            name: "_CGSL",
            path: "Sources/_CGSL",
            pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]
        ),
        .systemLibrary(
            name: "_CZlib",
            path: "Sources/_CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "GSLKit",
            dependencies: ["_CGSL"]
        ),
        .target(
            name: "LossMath",
            dependencies: [
                "GSLKit",
                .product(name: "RealModule", package: "swift-numerics"),
            ]
        ),
        .target(
            name: "Experiments",
            dependencies: ["LossMath", "GSLKit"]
        ),
        .target(
            name: "Formats",
            dependencies: ["_CZlib"]
        ),
        .executableTarget(
            name: "report",
            dependencies: [
                "LossMath", "Experiments", "Formats", "GSLKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "LossMathTests",
            dependencies: [
                "LossMath", "GSLKit",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "FormatsTests",
            dependencies: ["Formats"]
        ),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: [
                "Experiments", "LossMath", "GSLKit",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
        .testTarget(
            name: "ReportTests",
            dependencies: ["report"]
        ),
    ]
)

// Code generation for the building machine (issue 5). LossMath's loss kernels and the
// trainer's inner loops are written to vectorise (Sources/LossMath/Elementary.swift has
// branch-free exp/log/log1p); `-march=native` lets LLVM use the widest SIMD the machine
// has (8 doubles per instruction with AVX-512; the x86-64 baseline has 2). Results are the
// same bits either way: only IEEE basic operations, and Swift does not contract a*b+c into
// an FMA. The binary then needs a CPU like the one it was built on; to build one for any
// x86-64 machine, set PRINCIPLED_LOSS_PORTABLE=1 (the bench script compares the two). The
// same variable is needed to use LossMath or Experiments as a dependency: SwiftPM refuses
// dependencies with unsafe flags.
#if arch(x86_64)
if Context.environment["PRINCIPLED_LOSS_PORTABLE"] == nil {
    for target in package.targets where target.type != .system {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-Xcc", "-march=native"])]
    }
}
#endif
