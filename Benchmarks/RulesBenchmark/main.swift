// Rule matching speed: ns per decision for a generated 1,000-rule file and for a rule with
// a 100,000-prefix table. Run with: swift run -c release RulesBenchmark [ITERATIONS]
// (the same measurement as `synwall bench rules`; the code is Rules' `RuleBenchmark`).
//
// Compile scale: swift run -c release RulesBenchmark scale [DIRECTORY] [--case KEY]
// writes a 100,000-rule file (ports spread, and all on one port) and a 1,000,000-prefix table
// file under DIRECTORY (default: a new one in /tmp) and prints the seconds and peak memory of
// compiling each (`CompileScaleBenchmark`). With --case, only that case runs, so its peak
// memory is its own.
import Glibc
import Rules

var arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "scale" {
    arguments.removeFirst()
    var only: String?
    if let flag = arguments.firstIndex(of: "--case"), flag + 1 < arguments.count {
        only = arguments[flag + 1]
        arguments.removeSubrange(flag...(flag + 1))
    }
    var directory = arguments.first ?? ""
    if directory.isEmpty {
        var template = Array("/tmp/synwall-scale-XXXXXX".utf8CString)
        directory = template.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) } ?? "/tmp"
        }
    }
    print("inputs in \(directory) (check them with: /usr/bin/time -v synwall check \(directory)/KEY.rules)")
    _ = CompileScaleBenchmark.run(directory: directory, only: only) { print($0) }
    exit(0)
}

let iterations = arguments.first.flatMap { Int($0) } ?? RuleBenchmark.defaultIterations
do {
    let report = try RuleBenchmark.run(iterations: iterations) { print($0) }
    print("")
    print(report.summary)
} catch {
    print("synwall rules benchmark: \(error)")
}
