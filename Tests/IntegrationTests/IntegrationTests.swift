import Testing

/// The integration tests: the real `synwall` binary in network namespaces built by `Sandbox`.
///
/// One serialized suite (nested suites included): the tests share the kernel, and a machine of
/// two cores. Every test builds its own sandbox and tears it down on every path with `defer`;
/// every wait is bounded (see `Harness`). Run as root after `swift build`:
///
///     swift build && swift test --filter IntegrationTests
@Suite(.serialized)
struct IntegrationTests {}
