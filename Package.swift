// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [.swiftLanguageMode(.v6)]

let package = Package(
    name: "synwall",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "synwall", targets: ["synwall"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.2.0"),
    ],
    targets: [
        // C libraries, reached through thin module maps (no C code of our own).
        .systemLibrary(name: "CNetfilterQueue", pkgConfig: "libnetfilter_queue",
                       providers: [.apt(["libnetfilter-queue-dev", "libmnl-dev"])]),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Pure core: no I/O, deterministic.
        .target(name: "Wire", swiftSettings: strict),
        .target(name: "Tracking", dependencies: ["Wire"], swiftSettings: strict),
        .target(name: "EventLog", dependencies: [
            "CZlib",
            .product(name: "Atomics", package: "swift-atomics"),
        ], swiftSettings: strict),
        .target(name: "Engine", dependencies: ["Wire", "Tracking", "EventLog"], swiftSettings: strict),

        // Edges to the OS.
        .target(name: "NetfilterQueue", dependencies: ["CNetfilterQueue"], swiftSettings: strict),
        .target(name: "Capture", dependencies: ["CPcap"], swiftSettings: strict),
        .target(name: "Firewall", dependencies: [
            "Tracking",
            "Engine", "NetfilterQueue", "Capture", "EventLog",
            .product(name: "Atomics", package: "swift-atomics"),
        ], swiftSettings: strict),

        // Network-namespace test bed, shared by `synwall demo`, the benchmark and the integration tests.
        .target(name: "Sandbox", swiftSettings: strict),

        .executableTarget(name: "synwall", dependencies: [
            "Firewall", "Engine", "Tracking", "Sandbox", "EventLog",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),

        // Benchmarks (run with -c release).
        .executableTarget(name: "LogBenchmark", dependencies: ["EventLog"], path: "Benchmarks/LogBenchmark",
                          swiftSettings: strict),

        .testTarget(name: "WireTests", dependencies: ["Wire"], swiftSettings: strict),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Tracking"], swiftSettings: strict),
        .testTarget(name: "FirewallTests", dependencies: ["Firewall", "Tracking"], swiftSettings: strict),
        .testTarget(name: "NetfilterQueueTests", dependencies: ["NetfilterQueue"], swiftSettings: strict),
        .testTarget(name: "CaptureTests", dependencies: ["Capture"],
                    resources: [.copy("Fixtures")], swiftSettings: strict),
        .testTarget(name: "EventLogTests", dependencies: ["EventLog"], swiftSettings: strict),
        .testTarget(name: "IntegrationTests", dependencies: ["Sandbox"], resources: [.copy("Scripts")],
                    swiftSettings: strict),
    ]
)
