// swift-tools-version:6.0
// A throwaway package that depends on PrincipledLoss the way another project would: by URL and
// version. scripts/consumer-test.sh copies this folder to a temporary directory and replaces
// PRINCIPLED_LOSS_URL with a tagged local clone of the repository. SwiftPM refuses a dependency
// whose targets use unsafe flags, so this builds only if the package's default build has none.
import PackageDescription

let package = Package(
    name: "Consumer",
    dependencies: [
        .package(url: "PRINCIPLED_LOSS_URL", from: "PRINCIPLED_LOSS_VERSION"),
    ],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [
                .product(name: "LossMath", package: "principled-loss"),
                .product(name: "Experiments", package: "principled-loss"),
            ]
        ),
    ]
)
