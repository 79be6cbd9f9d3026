import Tracking
import Wire

/// A statement as parsed, before tables are resolved and matchers built.
enum Statement {
    case include(path: String, token: Token)
    case table(TableSyntax)
    case setting(SettingSyntax, token: Token)
    case policy(PolicySyntax)
    case rule(RuleSyntax)
}

struct AddressSyntax {
    var negated = false
    var any = false
    var entries: [(prefix: IPPrefix, included: Bool, span: SourceSpan)] = []
    var tables: [(name: String, span: SourceSpan)] = []
}

struct RuleSyntax {
    var action: RuleAction
    var direction: Direction?
    var quick = false
    var log = false
    var interface: InterfaceSpec?
    var inInterface: InterfaceSpec?
    var outInterface: InterfaceSpec?
    var family: AddressFamily?
    var protocols: [UInt8]?
    var from: AddressSyntax?
    var to: AddressSyntax?
    var fromPorts: PortSet?
    var toPorts: PortSet?
    var icmpTypes: [UInt8]?
    var label: String?
    var maxConnections: Int?
    var rate: (count: Int, seconds: Int)?
    var overload: (name: String, span: SourceSpan)?
    var flush = false
    /// `block return…` and its token.
    var reply: (kind: RuleReply, token: Token)?
    /// The statement's first token (`pass` or `block`).
    var first: Token
}

struct TableSyntax {
    var name: String
    var nameToken: Token
    var persist = false
    var isConst = false
    var expire: Duration?
    var entries: [(prefix: IPPrefix, included: Bool)] = []
    var files: [(path: String, token: Token)] = []
}

struct PolicySyntax {
    var direction: Direction
    var verdict: Verdict
    var log: Bool
    var first: Token
    var directionToken: Token
}

enum SettingSyntax {
    case limit(LimitName, Int)
    case timeout(RuleSettings.TimeoutName, Duration)
    case tcpPickup
    case tcpRST(RuleSettings.RSTCheck)
    case tcpPAWS
    case tcpTimestampsStrict
    case synRate(RuleSettings.Rate)
    /// `set return rate N/s [burst N]`.
    case returnRate(RuleSettings.Rate)
    case log(String)
    case logRotate(bytes: Int, keep: Int)
    /// `set log flows on|off`.
    case logFlows(Bool)
    case reload(RuleSettings.ReloadStates)
    /// `set state checkpoint INTERVAL|off`.
    case stateCheckpoint(Duration)
    /// `set state max-age DURATION`.
    case stateMaxAge(Duration)
    /// `set limit file-size 64M`: the cap on rule and table files read after it.
    case fileSize(Int)
    /// `set offload after N`.
    case offloadAfter(Int)
    /// `set offload mark BIT`.
    case offloadMark(UInt32)

    enum LimitName: String, CaseIterable {
        case states
        case sourceNodes = "src-nodes"
        case tableEntries = "table-entries"
        case halfOpen = "half-open"
        case halfOpenPerSource = "half-open-per-source"
    }
}
