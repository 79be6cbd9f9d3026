import Foundation
import Testing

extension IntegrationTests {
    /// The Debian package, as a user meets it: `scripts/test-package.sh` installs the .deb into a
    /// fresh root (this machine's packages under an overlay, offline, the Swift toolchain hidden),
    /// runs `synwall --version`, `synwall check`, `man -l` on both pages and `systemd-analyze
    /// verify` on the installed unit, purges it and checks nothing of it is left.
    ///
    /// The package is `$SYNWALL_DEB` when set (scripts/test.sh builds it once, with
    /// scripts/package.sh), else this test builds it (a release build: minutes).
    @Suite struct Package {
        @Test("the .deb installs into a fresh root, runs without the toolchain, has its man pages, and purges to nothing")
        func installUsePurge() throws {
            _ = try Harness.synwallBinary()  // root, or fail
            let root = Harness.packageRoot.path
            var deb = ProcessInfo.processInfo.environment["SYNWALL_DEB"] ?? ""
            if deb.isEmpty {
                let built = try Self.run(["\(root)/scripts/package.sh", "--no-lintian"], timeout: 1800)
                #expect(built.status == 0, "scripts/package.sh failed: \(built.output)")
                deb = built.output.split(separator: "\n").last.map(String.init) ?? ""
            }
            guard deb.hasSuffix("_amd64.deb"), FileManager.default.fileExists(atPath: deb) else {
                throw HarnessError("no package at '\(deb)' (SYNWALL_DEB, or what scripts/package.sh printed)")
            }
            let result = try Self.run(["\(root)/scripts/test-package.sh", deb], timeout: 300)
            #expect(result.status == 0, "scripts/test-package.sh: \(result.output)")
            #expect(result.output.contains("test-package.sh: ok"), "\(result.output)")
            #expect(!result.output.contains("FAIL"), "\(result.output)")
        }

        /// Runs a tool with output and errors together, bounded by `timeout` seconds.
        static func run(_ arguments: [String], timeout: TimeInterval) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: arguments[0])
            process.arguments = Array(arguments.dropFirst())
            let output = FileManager.default.temporaryDirectory
                .appendingPathComponent("synwall-package-\(getpid())-\(UInt32.random(in: 0 ... .max)).out")
            FileManager.default.createFile(atPath: output.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: output) }
            let handle = try FileHandle(forWritingTo: output)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                throw HarnessError("\(arguments.joined(separator: " ")) took longer than \(Int(timeout)) s")
            }
            try handle.close()
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            return (process.terminationStatus, text)
        }
    }
}
