import CBuildInfo

/// What this binary is: the version and the commit it was built from (Sources/CBuildInfo).
public enum BuildInfo {
    /// The release version, such as "0.1.0".
    public static let version = String(cString: synwall_build_version())

    /// The abbreviated commit hash (with "-dirty" when the tree had changes), or "unknown"
    /// for a build that was not told (a plain `swift build`; scripts/package.sh tells it).
    public static let commit = String(cString: synwall_build_commit())

    /// `0.1.0 (commit 1a2b3c4d5e6f)`: what `synwall --version` prints.
    public static var description: String { "\(version) (commit \(commit))" }
}
