// swift-tools-version: 6.1
import PackageDescription

/// libFuzzer targets for synwall's pure core. A package of its own, so that the fuzzer flags
/// never reach the main build: `scripts/fuzz.sh` builds it with `--sanitize=fuzzer` (coverage
/// instrumentation of every module) and runs each target.
///
/// Each target defines `LLVMFuzzerTestOneInput` (libFuzzer provides `main`), hence
/// `-parse-as-library`.
let fuzzer: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .unsafeFlags(["-parse-as-library"]),
]

let package = Package(
    name: "synwall-fuzz",
    dependencies: [
        .package(name: "synwall", path: ".."),
    ],
    targets: [
        .target(name: "FuzzSupport", swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(name: "DecodeFuzzer", dependencies: [
            "FuzzSupport", .product(name: "SynwallCore", package: "synwall"),
        ], swiftSettings: fuzzer),
        .executableTarget(name: "TrackerFuzzer", dependencies: [
            "FuzzSupport", .product(name: "SynwallCore", package: "synwall"),
        ], swiftSettings: fuzzer),
        .executableTarget(name: "RulesFuzzer", dependencies: [
            "FuzzSupport", .product(name: "SynwallCore", package: "synwall"),
        ], swiftSettings: fuzzer),
        .executableTarget(name: "LogReaderFuzzer", dependencies: [
            "FuzzSupport", .product(name: "SynwallCore", package: "synwall"),
        ], swiftSettings: fuzzer),
    ]
)
