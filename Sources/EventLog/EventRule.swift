/// The rule that decided a packet, as the `rule` object of a record:
/// `{"file":"/etc/synwall/synwall.rules","line":12,"label":"ssh"}`.
public struct EventRule: Sendable, Equatable, Hashable {
    /// The rule file's path as the daemon loaded it.
    public var file: String
    /// The rule's line in that file, from 1.
    public var line: Int
    /// The rule's `label`, when it has one (the key is then left out).
    public var label: String?

    /// Creates a rule reference.
    public init(file: String, line: Int, label: String? = nil) {
        self.file = file
        self.line = line
        self.label = label
    }

    /// How the rule is shown and matched in review: the label when there is one, otherwise
    /// `file:line` with the file's last path component.
    public var displayName: String {
        if let label, !label.isEmpty { return label }
        let name = file.split(separator: "/").last.map(String.init) ?? file
        return "\(name):\(line)"
    }
}
