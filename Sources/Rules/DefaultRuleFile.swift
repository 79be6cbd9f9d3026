/// Where commands look for the rules when no file is named: one path for `run`, `check`,
/// `explain`, `rules` and `reload`, the one the Debian package installs as a conffile.
public enum DefaultRuleFile {
    /// The rule file every command uses unless told otherwise.
    public static let path = "/etc/synwall/synwall.rules"

    /// Where the package puts the example rule files.
    public static let examples = "/usr/share/doc/synwall/examples"

    /// Why the default file cannot be used (it does not exist), with what to do; nil when it exists.
    /// `override` names the option or argument that names another file (`--rules FILE`).
    public static func missing(override: String) -> String? {
        if FileSystem.exists(path) { return nil }
        return "no rule file at \(path) (the default): create it (examples in \(examples), "
            + "or rules/ in the source tree), or name one with \(override)"
    }
}
