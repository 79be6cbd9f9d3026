import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A command run to its end with its own peak resident memory, as `/usr/bin/time` reads it from
/// `wait4`. A child's peak is its own: unlike this test process's `ru_maxrss`, no other test
/// running in parallel can inflate it. `time` stands between because a child spawned straight
/// from this (large) process starts its peak at this process's: the kernel carries the old
/// address space's high-water mark over `exec`; `time` is small when it forks.
struct MeasuredRun {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The child's peak resident set, in bytes.
    var peakBytes: Int

    /// Runs `executable` with `arguments`, output to scratch files (no pipe to fill), and
    /// kills it after `seconds`.
    static func run(_ executable: String, _ arguments: [String], seconds: Double = 60) throws -> MeasuredRun {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("synwall-measured-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("out").path, errPath = scratch.appendingPathComponent("err").path
        let peakPath = scratch.appendingPathComponent("peak").path
        let time = "/usr/bin/time"
        guard FileManager.default.isExecutableFile(atPath: time) else {
            throw HarnessError("\(time) is missing: install the Debian package 'time' (scripts/setup.sh does)")
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let words: [String] = [time, "-f", "%M", "-o", peakPath, executable] + arguments
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        let environment = ["PATH=/usr/bin:/bin", "TZ=UTC", "LC_ALL=C"]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, time, &actions, nil, argv, envp)
        guard spawned == 0 else { throw HarnessError("cannot start \(executable): \(String(cString: strerror(spawned)))") }

        var status: Int32 = 0
        var usage = rusage()  // time's own, not used
        let deadline = Date().addingTimeInterval(seconds)
        var reaped = wait4(pid, &status, WNOHANG, &usage)
        while reaped == 0 && Date() < deadline {
            usleep(10_000)
            reaped = wait4(pid, &status, WNOHANG, &usage)
        }
        if reaped == 0 {
            kill(pid, SIGKILL)
            _ = wait4(pid, &status, 0, &usage)
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) did not end within \(Int(seconds)) s")
        }
        // The exit status (time passes the command's on), or 128 + the signal that ended it.
        let exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let read = { (path: String) in String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }
        // time writes "Command exited with non-zero status N" before the figure when N ≠ 0.
        guard let kilobytes = read(peakPath).split(separator: "\n").last.flatMap({ Int($0) }) else {
            throw HarnessError("\(time) gave no peak for \(executable): \(read(peakPath))")
        }
        return MeasuredRun(status: exit, stdout: read(outPath), stderr: read(errPath), peakBytes: kilobytes * 1024)
    }
}
