// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo

let package = Package(
    name: "herald",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "herald", targets: ["herald"]),
        .library(name: "HeraldRules", targets: ["HeraldRules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C libraries, each wrapped by exactly one Swift module.
        .systemLibrary(
            name: "CPCRE2",
            pkgConfig: "libpcre2-8",
            providers: [.apt(["libpcre2-dev"]), .brew(["pcre2"])]
        ),
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),

        .target(name: "HeraldCore"),
        .target(
            name: "HeraldConfig",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "HeraldRules",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "CPCRE2",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "HeraldRules",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "HeraldTestSupport",
            dependencies: ["HeraldCore", "HeraldConfig", "HeraldRules"]
        ),

        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore", "HeraldTestSupport"]),
        .testTarget(name: "HeraldConfigTests", dependencies: ["HeraldConfig", "HeraldTestSupport"]),
        .testTarget(
            name: "HeraldRulesTests",
            dependencies: ["HeraldRules", "HeraldCore", "HeraldConfig", "HeraldTestSupport"]
        ),
    ]
)

// The benchmarks pull in package-benchmark and its malloc interposer; keep them out of the ordinary build and
// test graph. Run them with `HERALD_BENCHMARKS=1 swift package benchmark` (see Benchmarks/README.md).
if ProcessInfo.processInfo.environment["HERALD_BENCHMARKS"] != nil {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.0", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "RuleEngineBenchmarks",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "HeraldRules",
                "HeraldTestSupport",
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/RuleEngine",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    )
    // Counts instructions per evaluation under callgrind (Benchmarks/instructions.sh): repeatable where
    // wall-clock time on a shared machine is not.
    package.targets.append(
        .executableTarget(
            name: "RuleEngineInstructions",
            dependencies: ["HeraldRules", "HeraldTestSupport"],
            path: "Benchmarks/RuleEngineInstructions"
        )
    )
}
