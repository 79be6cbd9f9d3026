import ArgumentParser
import Rules

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a rule file without applying it.",
        discussion: """
        Parses and compiles the file and every file it includes, touching nothing else. Each \
        problem is printed as FILE:LINE:COLUMN: error: message (the form editors jump to), with \
        the line, a caret under the spot and a hint; every error is reported (up to 20), not \
        just the first. Warnings name rules that can never match because an earlier rule catches \
        everything they would, and tables that no rule uses.

        Input is bounded: a file that is not UTF-8 text (a binary given by mistake) is one \
        error at its first bad byte; rule files over 16 MiB, table files over 64 MiB and \
        lines over 64 KiB are refused with the cap stated. See "Input limits" in rules/README.md.

        Without FILE: /etc/synwall/synwall.rules (the file every command uses by default).
        Exit status: 0 when the file is valid (warnings allowed unless --strict), 1 when not.
        """
    )

    @Argument(help: ArgumentHelp("The rule file (default: /etc/synwall/synwall.rules).", valueName: "file"))
    var file: String?

    @Flag(name: .long, help: "Fail (exit status 1) on warnings too.")
    var strict = false

    @Flag(name: .shortAndLong, help: "Print nothing when the file is valid.")
    var quiet = false

    @Flag(name: .long, help: "Print one JSON object: file, valid, counts, diagnostics (docs/json.md).")
    var json = false

    @Option(name: .customLong("max-file-size"),
            help: ArgumentHelp("Largest rule or table file to read (default 16M for rule files, 64M for table files).",
                               valueName: "size"))
    var maxFileSize: String?

    func validate() throws {
        if let maxFileSize, InputLimits.size(maxFileSize) == nil {
            throw ValidationError("--max-file-size takes a size such as 64M (bytes, or with K, M or G; at least 4K)")
        }
    }

    func run() throws {
        let path = try ruleFile(file, override: "synwall check FILE")
        let limits = maxFileSize.flatMap(InputLimits.size).map { InputLimits.standard.withFileSize($0) } ?? .standard
        let meter = BusyMeter.start(label: "check", what: path, after: 1)
        let result = RuleCompiler.compile(file: path, limits: limits)
        meter?.stop()
        if json {
            switch result {
            case .failure(let diagnostics):
                writeLine(JSONOutput.check(file: path, ruleset: nil, diagnostics: diagnostics.items, valid: false).text)
                throw ExitCode(1)
            case .success(let ruleset):
                let valid = !(strict && !ruleset.warnings.isEmpty)
                writeLine(JSONOutput.check(file: path, ruleset: ruleset, diagnostics: ruleset.warnings, valid: valid).text)
                if !valid { throw ExitCode(1) }
            }
            return
        }
        switch result {
        case .failure(let diagnostics):
            writeText(diagnostics.description, to: 2)
            throw ExitCode(1)
        case .success(let ruleset):
            for warning in ruleset.warnings { writeText(warning.description, to: 2) }
            if let note = ruleset.shadowAnalysis.note { writeText("\(path): note: " + note, to: 2) }
            let counts = "\(ruleset.rules.count) rule\(ruleset.rules.count == 1 ? "" : "s"), "
                + "\(ruleset.tables.count) table\(ruleset.tables.count == 1 ? "" : "s"), "
                + "\(ruleset.files.count) file\(ruleset.files.count == 1 ? "" : "s")"
            let warnings = ruleset.warnings.count
            if strict, warnings > 0 {
                writeText("\(path): \(warnings) warning\(warnings == 1 ? "" : "s") (--strict)", to: 2)
                throw ExitCode(1)
            }
            if !quiet {
                writeText("\(path): ok (\(counts)" + (warnings > 0 ? ", \(warnings) warning\(warnings == 1 ? "" : "s")" : "") + ")")
            }
        }
    }
}
