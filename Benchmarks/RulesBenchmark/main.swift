// Rule matching speed: ns per decision for a generated 1,000-rule file and for a rule with
// a 100,000-prefix table. Run with: swift run -c release RulesBenchmark [ITERATIONS]
// (the same measurement as `synwall bench rules`; the code is Rules' `RuleBenchmark`).
import Rules

let iterations = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? RuleBenchmark.defaultIterations
do {
    let report = try RuleBenchmark.run(iterations: iterations) { print($0) }
    print("")
    print(report.summary)
} catch {
    print("synwall rules benchmark: \(error)")
}
