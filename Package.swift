// swift-tools-version: 6.1
import PackageDescription

/// Swift 6 language mode everywhere. Release builds drop the run-time exclusivity checks: the
/// packet path touches class-owned state per packet, and the checks cost more than the work
/// (the static checks and debug builds keep them).
let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "synwall",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "synwall", targets: ["synwall"]),
        .executable(name: "synwall-testbed", targets: ["synwall-testbed"]),
        // The pure core as a library, for the libFuzzer targets in Fuzz/ (a package of its own).
        .library(name: "SynwallCore", targets: ["Wire", "Tracking", "Rules", "EventLog", "LogReview", "Engine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
    ],
    targets: [
        // C libraries, reached through thin module maps.
        .systemLibrary(name: "CNetfilterQueue", pkgConfig: "libnetfilter_queue",
                       providers: [.apt(["libnetfilter-queue-dev", "libmnl-dev"])]),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        // Our one piece of C: dropping capabilities in every thread (prctl and capset are per
        // thread and variadic; see Sources/CPrivilege/include/CPrivilege.h).
        .target(name: "CPrivilege"),
        // The version and the commit the binary was built from (scripts/package.sh sets the commit).
        .target(name: "CBuildInfo"),

        // Pure core: no I/O, deterministic.
        .target(name: "Wire", swiftSettings: strict),
        .target(name: "Tracking", dependencies: ["Wire"], swiftSettings: strict),
        .target(name: "Rules", dependencies: ["Wire", "Tracking", "SystemCall"], swiftSettings: strict),
        .target(name: "EventLog", dependencies: [
            "Wire",
            .product(name: "Atomics", package: "swift-atomics"),
        ], swiftSettings: strict),
        // The reader behind `synwall log`: parser, query, follower, formatters (reads .gz rotations).
        .target(name: "LogReview", dependencies: ["EventLog", "Wire", "CZlib", "SystemCall"], swiftSettings: strict),
        .target(name: "Engine", dependencies: ["Wire", "Tracking", "Rules", "EventLog"], swiftSettings: strict),

        // Edges to the OS.
        // The system-call vocabulary they share: the EINTR retry, errno's text (swift-system).
        .target(name: "SystemCall", dependencies: [.product(name: "SystemPackage", package: "swift-system")],
                swiftSettings: strict),
        .target(name: "NetfilterQueue", dependencies: [
            "CNetfilterQueue", "SystemCall", .product(name: "SystemPackage", package: "swift-system"),
        ], swiftSettings: strict),
        .target(name: "Capture", dependencies: ["CPcap"], swiftSettings: strict),
        // The control socket's protocol, client and the text/Prometheus views of its answers.
        .target(name: "Control", dependencies: ["Tracking", "Wire", "EventLog", "CBuildInfo", "SystemCall"], swiftSettings: strict),

        .target(name: "Firewall", dependencies: [
            "Tracking", "Control",
            "Engine", "NetfilterQueue", "Capture", "EventLog", "CPrivilege", "CZlib", "CSystemd", "SystemCall",
            .product(name: "Atomics", package: "swift-atomics"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),

        // `swift run -c release TrackerBenchmark`: the tracker's throughput and memory figures.
        .executableTarget(name: "TrackerBenchmark", dependencies: ["Tracking", "Wire", "Firewall", "TestSupport"],
                          path: "Benchmarks/TrackerBenchmark", exclude: ["count-allocations.sh"],
                          swiftSettings: strict),

        // Network-namespace test bed, shared by the demo, the benchmark and the integration tests.
        .target(name: "Sandbox", dependencies: ["Wire", "SystemCall"], swiftSettings: strict),
        // The demo and the `peer` traffic and attack helpers: a program of its own, so the daemon's
        // binary carries no attack code (`synwall demo` runs it).
        // The demo's options, shared by `synwall demo` and the test bed it runs.
        .target(name: "DemoOptions", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")],
                swiftSettings: strict),
        .executableTarget(name: "synwall-testbed", dependencies: [
            "DemoOptions", "Sandbox", "Wire", "Control", "EventLog", "LogReview",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),

        .executableTarget(name: "synwall", dependencies: [
            "Firewall", "Engine", "Tracking", "Rules", "EventLog", "LogReview", "Control", "SystemCall", "DemoOptions",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: strict),

        // Benchmarks (run with -c release).
        .executableTarget(name: "PipelineBenchmark", dependencies: ["Engine", "Tracking", "Rules", "Wire"],
                          path: "Benchmarks/PipelineBenchmark", swiftSettings: strict),
        .executableTarget(name: "LogBenchmark", dependencies: ["EventLog", "LogReview", "Wire"], path: "Benchmarks/LogBenchmark",
                          swiftSettings: strict),
        .executableTarget(name: "RulesBenchmark", dependencies: ["Rules", "Wire"], path: "Benchmarks/RulesBenchmark",
                          swiftSettings: strict),

        // The test suites' shared helpers (one seeded generator).
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: strict),
        .testTarget(name: "WireTests", dependencies: ["Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "TrackingTests", dependencies: ["Tracking", "Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "Wire", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Tracking", "Rules", "LogReview"], swiftSettings: strict),
        // Fixtures/ is read beside the test files (#filePath), not bundled.
        .testTarget(name: "FirewallTests", dependencies: ["Firewall", "Tracking", "LogReview"], exclude: ["Fixtures"],
                    swiftSettings: strict),
        .testTarget(name: "NetfilterQueueTests", dependencies: ["NetfilterQueue", "TestSupport"], swiftSettings: strict),
        .testTarget(name: "SystemCallTests", dependencies: ["SystemCall"], swiftSettings: strict),
        .testTarget(name: "CaptureTests", dependencies: ["Capture"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "ControlTests", dependencies: ["Control", "Tracking", "Wire"], swiftSettings: strict),
        // The writer's tests read lines back with LogReview's parser.
        // What the event log's writer tests and the log reader's tests share.
        .target(name: "LogTestSupport", dependencies: ["EventLog", "LogReview"], path: "Tests/LogTestSupport",
                swiftSettings: strict),
        .testTarget(name: "EventLogTests", dependencies: ["EventLog", "LogReview", "Wire", "LogTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "LogReviewTests", dependencies: ["LogReview", "EventLog", "Wire", "LogTestSupport"],
                    swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["Sandbox"], resources: [.copy("Scripts")],
                    swiftSettings: strict),
    ]
)
