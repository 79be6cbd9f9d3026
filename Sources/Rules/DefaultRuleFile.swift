/// Where commands look for the rules when no file is named.
public enum DefaultRuleFile {
    /// The installed location, used when it exists.
    public static let installed = "/etc/synwall/synwall.rules"
    /// The repository's default, used otherwise (running from a checkout).
    public static let repository = "rules/default.rules"

    /// `installed` when that file exists, else `repository`.
    public static var path: String {
        FileSystem.exists(installed) ? installed : repository
    }
}
