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
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
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
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]
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
        .target(
            name: "HeraldStore",
            dependencies: [
                "HeraldCore",
                "HeraldRules",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(name: "HeraldHTTP", dependencies: ["CCurl"]),
        .target(
            name: "HeraldChat",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "HeraldHTTP",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "HeraldDelivery",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "HeraldRules",
                "HeraldStore",
                "HeraldChat",
                "HeraldHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "HeraldServer",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "HeraldRules",
                "HeraldStore",
                "HeraldChat",
                "HeraldDelivery",
                "HeraldHTTP",
                "CZlib",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "HeraldRules",
                "HeraldServer",
                "HeraldStore",
                "HeraldChat",
                "HeraldDelivery",
                "HeraldHTTP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(
            name: "HeraldTestSupport",
            dependencies: [
                "HeraldCore",
                "HeraldConfig",
                "HeraldRules",
                "HeraldServer",
                "HeraldStore",
                "HeraldChat",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),

        .testTarget(name: "HeraldCoreTests", dependencies: ["HeraldCore", "HeraldTestSupport"]),
        .testTarget(name: "HeraldConfigTests", dependencies: ["HeraldConfig", "HeraldTestSupport"]),
        .testTarget(
            name: "HeraldRulesTests",
            dependencies: ["HeraldRules", "HeraldCore", "HeraldConfig", "HeraldTestSupport"]
        ),
        .testTarget(
            name: "HeraldStoreTests",
            dependencies: ["HeraldStore", "HeraldRules", "HeraldCore", "HeraldConfig", "HeraldTestSupport"]
        ),
        .testTarget(
            name: "HeraldChatTests",
            dependencies: [
                "HeraldChat", "HeraldCore", "HeraldConfig", "HeraldTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "HeraldDeliveryTests",
            dependencies: [
                "HeraldDelivery", "HeraldStore", "HeraldChat", "HeraldHTTP", "HeraldServer", "HeraldCore",
                "HeraldConfig", "HeraldTestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(
            name: "HeraldHTTPTests",
            dependencies: [
                "HeraldHTTP",
                "HeraldTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "HeraldServerTests",
            dependencies: ["HeraldServer", "HeraldStore", "HeraldCore", "HeraldConfig", "HeraldTestSupport"]
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
    package.targets.append(
        .executableTarget(
            name: "IngestBenchmarks",
            dependencies: [
                "HeraldTestSupport",
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/Ingest",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "DeliveryBenchmarks",
            dependencies: [
                "HeraldTestSupport",
                "HeraldServer",
                "HeraldStore",
                "HeraldCore",
                "HeraldConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/Delivery",
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
