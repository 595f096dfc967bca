// swift-tools-version: 6.1
import Foundation
import PackageDescription

// librdkafka >= 2.1.2 comes from pkg-config (`rdkafka`). On Debian 12, whose package is too old,
// scripts/setup-librdkafka builds it into .deps/librdkafka; the Makefile points PKG_CONFIG_PATH
// there and this rpath lets binaries find it at run time without LD_LIBRARY_PATH.
let localLibrdkafka = Context.packageDirectory + "/.deps/librdkafka/lib"
let librdkafkaLinkerSettings: [LinkerSetting] =
    FileManager.default.fileExists(atPath: localLibrdkafka + "/librdkafka.so")
    ? [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", localLibrdkafka])]
    : []

let package = Package(
    name: "alm",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "alm", targets: ["alm"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.3.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.2.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        // Micro benchmarks only (Benchmarks/). Its default RuntimeInterposer trait needs a package this
        // machine does not carry; the malloc counts need only MallocInterposer.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // The only module that imports CRdKafka.
        .target(
            name: "Kafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
            ],
            linkerSettings: librdkafkaLinkerSettings
        ),
        // Pure logic: event model, validation, identifier normalisation. No Kafka, no I/O.
        .target(name: "ALMCore"),
        // Pure aggregation: the counting rules of design.md applied to one partition's records.
        .target(
            name: "ALMAggregation",
            dependencies: ["ALMCore", .product(name: "HeapModule", package: "swift-collections")]
        ),
        // The embedded state store: one SQLite database per partition, state and offsets in one transaction.
        .target(name: "ALMState", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        // Snapshots on disk: works.jsonl, works.csv, manifest.json, written atomically, pruned.
        .target(
            name: "ALMSnapshot",
            dependencies: ["ALMAggregation", "ALMCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Collectors' pure half: source responses -> raw events (no network, no Kafka).
        .target(
            name: "ALMCollectors",
            dependencies: ["ALMCore", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Collectors' live half: HTTP with rate limits, retries and a breaker; the pull loop over alm.works.
        .target(
            name: "ALMCollectorRuntime",
            dependencies: [
                "ALMCollectors", "ALMCore", "ALMRuntime", "Kafka",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "WSClient", package: "swift-websocket"),
            ]
        ),
        // The read side's pure half: attention score, badge and chart SVG, dashboard HTML (no I/O).
        .target(name: "ALMPresentation", dependencies: ["ALMAggregation", "ALMCore"]),
        // alm serve: the HTTP API, badge and dashboard over the latest snapshot and alm.metrics (Hummingbird 2).
        .target(
            name: "ALMServe",
            dependencies: [
                "ALMPresentation", "ALMAggregation", "ALMCore", "ALMSnapshot", "ALMState", "ALMProcessor", "ALMRuntime",
                "Kafka",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // A seeded, realistic workload of raw records (demo, tests, benchmark).
        .target(name: "ALMWorkload", dependencies: ["ALMCore"]),
        // Starts and stops the development broker (Tansu) as a child process.
        .target(name: "DevBroker"),
        // alm bench: the raw consume ceiling, child processes timed with their peak RSS, the report.
        .target(
            name: "ALMBench",
            dependencies: ["ALMWorkload", "Kafka", "DevBroker", .product(name: "Logging", package: "swift-log")]
        ),
        // Configuration, topics.yaml, and the operations the command line runs.
        .target(
            name: "ALMRuntime",
            dependencies: [
                "ALMCore", "ALMAggregation", "Kafka", "DevBroker",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ]
        ),
        // The stream processor: raw topics -> validated, deduplicated, aggregated state -> alm.metrics, snapshots.
        .target(
            name: "ALMProcessor",
            dependencies: [
                "ALMCore", "ALMAggregation", "ALMState", "ALMSnapshot", "ALMRuntime", "Kafka",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "alm",
            dependencies: [
                "ALMRuntime", "ALMCore", "Kafka", "DevBroker", "ALMProcessor", "ALMWorkload", "ALMSnapshot", "ALMCollectors",
                "ALMCollectorRuntime", "ALMBench", "ALMServe",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Micro benchmarks of the processor's hot paths (ordo-one/benchmark): make bench-micro.
        .executableTarget(
            name: "ALMHotPaths",
            dependencies: ["ALMCore", "ALMAggregation", "ALMWorkload", .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/ALMHotPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Helpers of the integration test targets (scratch directories, a dev broker with the topics).
        .target(
            name: "ALMTestSupport",
            dependencies: ["ALMRuntime", "DevBroker", "Kafka", .product(name: "Logging", package: "swift-log")],
            path: "Tests/ALMTestSupport"
        ),
        .testTarget(name: "ALMCoreTests", dependencies: ["ALMCore"]),
        .testTarget(name: "ALMAggregationTests", dependencies: ["ALMAggregation", "ALMCore"]),
        .testTarget(name: "ALMStateTests", dependencies: ["ALMState"]),
        .testTarget(
            name: "ALMCollectorsTests",
            dependencies: ["ALMCollectors", "ALMCore", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(name: "ALMBenchTests", dependencies: ["ALMBench", "ALMWorkload", "ALMTestSupport", "Kafka"]),
        .testTarget(name: "ALMWorkloadTests", dependencies: ["ALMWorkload", "ALMCore"]),
        .testTarget(
            name: "ALMProcessorTests",
            dependencies: ["ALMProcessor", "ALMWorkload", "ALMSnapshot", "ALMState", "ALMRuntime", "Kafka", "DevBroker", "ALMTestSupport"]
        ),
        .testTarget(name: "ALMPresentationTests", dependencies: ["ALMPresentation", "ALMAggregation", "ALMCore"]),
        // The HTTP API through Hummingbird's test client and a live server against the dev broker.
        .testTarget(
            name: "ALMServeTests",
            dependencies: [
                "ALMServe", "ALMPresentation", "ALMAggregation", "ALMCore", "ALMSnapshot", "ALMProcessor", "ALMRuntime",
                "ALMWorkload", "ALMCollectorRuntime", "Kafka", "DevBroker", "ALMTestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        .testTarget(name: "ALMSnapshotTests", dependencies: ["ALMSnapshot", "ALMAggregation", "ALMCore"]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka", "DevBroker"]),
        // The collectors against a local HTTP server (Hummingbird) serving ../shared/fixtures, and the dev broker.
        .testTarget(
            name: "ALMCollectorRuntimeTests",
            dependencies: [
                "ALMCollectorRuntime", "ALMCollectors", "ALMCore", "ALMRuntime", "Kafka", "DevBroker", "ALMTestSupport", "ALMAggregation",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ]
        ),
        // Static checks of docker-compose.yml and the Dockerfile (no Docker engine on dev machines).
        .testTarget(name: "DeploymentTests", dependencies: [.product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "ALMRuntimeTests",
            dependencies: ["ALMRuntime", "Kafka", "DevBroker", .product(name: "Yams", package: "Yams")]
        ),
    ]
)
