import Foundation

/// Runs a host tool (iptables-restore, nft…) and collects its output. Never on the packet path.
struct HostCommand {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The first line of stderr (or stdout), for one-line error messages.
        var firstErrorLine: String {
            let text = stderr.isEmpty ? stdout : stderr
            return text.split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
        }
    }

    /// Runs `arguments[0]` found on PATH with the rest as arguments, feeding `input` to stdin.
    static func run(_ arguments: [String], input: String? = nil) -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        let path = environment["PATH"] ?? ""
        environment["PATH"] = path + ":/usr/local/sbin:/usr/sbin:/sbin"
        process.environment = environment
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = stdin
        do {
            try process.run()
        } catch {
            return Output(status: 127, stdout: "", stderr: "cannot run \(arguments.first ?? ""): \(error)")
        }
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        let err = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self),
                      stderr: String(decoding: err, as: UTF8.self))
    }
}

/// Whether a process that left an ownership mark is still a running synwall.
enum InstanceOwner {
    /// The comment every synwall-installed rule or table carries.
    static func mark(pid: Int32) -> String { "synwall pid=\(pid)" }

    /// Extracts the pid from a text containing `synwall pid=N`.
    static func pid(in text: Substring) -> Int32? {
        guard let range = text.range(of: "synwall pid=") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isNumber }
        return Int32(digits)
    }

    /// True when `pid` is alive, is not us, and runs a program named synwall.
    static func isLiveOtherInstance(_ pid: Int32) -> Bool {
        guard pid != getpid(), kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return false }
        return comm.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("synwall")
    }
}
