// swift-tools-version:6.0
import PackageDescription

// Architecture (folders show it):
//   _CGSL        C shim over GNU GSL (pkg-config `gsl`, Debian's libgsl-dev): static inline
//                accessors for GSL's C globals, which Swift 6 cannot touch directly.
//   _CShims      static inline C over compiler builtins, the swift-numerics way: the square
//                root that vectorises (Adam's update, the bench's peak).
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
            name: "_CShims",
            path: "Sources/_CShims"
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
            dependencies: ["LossMath", "GSLKit", "_CShims"]
        ),
        .target(
            name: "Formats",
            dependencies: ["_CZlib"]
        ),
        .executableTarget(
            name: "report",
            dependencies: [
                "LossMath", "Experiments", "Formats", "GSLKit", "_CShims",
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

// Code generation (issue 5, issue 9). The package sets no compiler flags of its own: no
// unsafe build flags, so other packages can depend on LossMath and Experiments by version (SwiftPM
// refuses a dependency with unsafe flags), IDEs build it as the command line does, and a
// binary runs on any x86-64 machine. LossMath's loss kernels and the trainer's inner loops are
// written to vectorise (Sources/LossMath/Elementary.swift has branch-free exp/log/log1p;
// _CShims has the square root); the default build uses the x86-64 baseline (SSE2, 2 doubles
// per instruction). The fast build for the building machine is opt-in, on the command line:
//
//     swift build -c release -Xswiftc -Xcc -Xswiftc -march=native
//
// (`-Xcc -march=native` handed to swiftc's Clang importer, which sets the target CPU of
// Swift's code generation; benchmarks/run.sh builds it in .build-native). Results are the same
// bits either way: only IEEE basic operations, and Swift does not contract a*b+c into an FMA;
// benchmarks/run.sh checks that `report all` gives the same bytes in both builds.
