// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo

// The packages' products Herald's targets use, named once.
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let crypto = Target.Dependency.product(name: "Crypto", package: "swift-crypto")
let cryptoExtras = Target.Dependency.product(name: "_CryptoExtras", package: "swift-crypto")
let grdb = Target.Dependency.product(name: "GRDB", package: "GRDB.swift")
let httpTypes = Target.Dependency.product(name: "HTTPTypes", package: "swift-http-types")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let mustache = Target.Dependency.product(name: "Mustache", package: "swift-mustache")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let nioHTTPTypes = Target.Dependency.product(name: "NIOHTTPTypes", package: "swift-nio-extras")
let nio: [Target.Dependency] = ["NIOCore", "NIOPosix", "NIOHTTP1"].map { .product(name: $0, package: "swift-nio") }
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")

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
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.0"),
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
            dependencies: [yams]
        ),
        .target(
            name: "HeraldRules",
            dependencies: ["HeraldCore", "HeraldConfig", "CPCRE2", yams]
        ),
        .target(
            name: "HeraldStore",
            dependencies: ["HeraldCore", "HeraldRules", grdb]
        ),
        .target(name: "HeraldHTTP", dependencies: ["CCurl"]),
        .target(
            name: "HeraldChat",
            dependencies: ["HeraldCore", "HeraldConfig", "HeraldHTTP", crypto]
        ),
        .target(
            name: "HeraldDelivery",
            dependencies: [
                "HeraldCore", "HeraldConfig", "HeraldRules", "HeraldStore", "HeraldChat", "HeraldHTTP", logging,
                metrics, serviceLifecycle,
            ]
        ),
        .target(
            name: "HeraldConsole",
            dependencies: [
                "HeraldCore", "HeraldConfig", "HeraldRules", "HeraldStore", "HeraldHTTP", crypto, cryptoExtras, mustache,
            ]
        ),
        .target(
            name: "HeraldServer",
            dependencies: [
                "HeraldCore", "HeraldConfig", "HeraldRules", "HeraldStore", "HeraldChat", "HeraldDelivery", "HeraldConsole",
                "HeraldHTTP", "CZlib", httpTypes, hummingbird, logging, metrics, nioHTTPTypes, prometheus, serviceLifecycle,
            ]
        ),
        .executableTarget(
            name: "herald",
            dependencies: [
                "HeraldCore", "HeraldConfig", "HeraldRules", "HeraldServer", "HeraldStore", "HeraldChat",
                "HeraldDelivery", "HeraldHTTP", "HeraldConsole", logging, argumentParser,
            ]
        ),
        .target(
            name: "HeraldTestSupport",
            dependencies: [
                "HeraldCore", "HeraldConfig", "HeraldRules", "HeraldServer", "HeraldStore", "HeraldChat", "CZlib",
                crypto, cryptoExtras, hummingbird, httpTypes, logging, serviceLifecycle,
            ] + nio
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
            dependencies: ["HeraldChat", "HeraldCore", "HeraldConfig", "HeraldTestSupport", crypto]
        ),
        .testTarget(
            name: "HeraldDeliveryTests",
            dependencies: [
                "HeraldDelivery", "HeraldStore", "HeraldChat", "HeraldHTTP", "HeraldServer", "HeraldCore",
                "HeraldConfig", "HeraldTestSupport", crypto,
            ]
        ),
        .testTarget(
            name: "HeraldHTTPTests",
            dependencies: ["HeraldHTTP", "HeraldTestSupport", hummingbird, httpTypes, logging, serviceLifecycle]
        ),
        .testTarget(
            name: "HeraldConsoleTests",
            dependencies: [
                "HeraldConsole", "HeraldServer", "HeraldStore", "HeraldCore", "HeraldConfig", "HeraldHTTP", "HeraldTestSupport",
                crypto, cryptoExtras, mustache,
            ]
        ),
        .testTarget(
            name: "HeraldServerTests",
            dependencies: ["HeraldServer", "HeraldStore", "HeraldCore", "HeraldConfig", "HeraldRules", "HeraldTestSupport"]
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
                "HeraldCore", "HeraldConfig", "HeraldRules", "HeraldTestSupport",
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
                "HeraldTestSupport", .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/Ingest",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "DeliveryBenchmarks",
            dependencies: [
                "HeraldTestSupport", "HeraldServer", "HeraldStore", "HeraldCore", "HeraldConfig", logging,
                serviceLifecycle, .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/Delivery",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    )
    package.targets.append(
        .executableTarget(
            name: "ConsoleBenchmarks",
            dependencies: [
                "HeraldConsole", "HeraldStore", "HeraldRules", "HeraldCore", "HeraldConfig", "HeraldTestSupport",
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/Console",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        )
    )
    // Thirty minutes of mixed load on a real `herald serve`, killed and restarted half-way (Benchmarks/README.md).
    package.targets.append(
        .executableTarget(name: "HeraldSoak", dependencies: ["HeraldTestSupport", crypto], path: "Benchmarks/Soak")
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

// libFuzzer targets for every decoder of outside bytes (Tests/Fuzz/run.sh builds them with
// `--sanitize=fuzzer`, which supplies `main`). Out of the ordinary build, which has no libFuzzer to link.
if ProcessInfo.processInfo.environment["HERALD_FUZZ"] != nil {
    package.targets.append(
        .executableTarget(
            name: "HeraldFuzz",
            dependencies: ["HeraldCore", "HeraldConfig", "HeraldRules", "HeraldChat", "HeraldServer", "HeraldConsole"],
            path: "Tests/Fuzz",
            exclude: ["run.sh", "Corpus", "Dictionaries"],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    )
}
