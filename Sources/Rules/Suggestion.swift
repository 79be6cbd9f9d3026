/// "Did you mean …?" by edit distance (Levenshtein, with a swap of two neighbours counting
/// as one edit), for unknown keywords, names, services and tables.
public enum Suggestion {
    /// The candidate nearest to `word`, if it is near enough to be a plausible typo: at most
    /// one edit for words up to four characters, two up to eight, three beyond. Ties go to
    /// the earlier candidate.
    public static func nearest(to word: String, among candidates: [String]) -> String? {
        let lowered = word.lowercased()
        let limit = lowered.count <= 4 ? 1 : (lowered.count <= 8 ? 2 : 3)
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            if candidate == lowered && candidate != word { return candidate }  // only the case differs
            let distance = editDistance(lowered, candidate)
            if distance <= limit, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// `did you mean 'x'?` or nil.
    public static func hint(for word: String, among candidates: [String], quote: (String) -> String = { "'\($0)'" }) -> String? {
        nearest(to: word, among: candidates).map { "did you mean \(quote($0))?" }
    }

    /// Optimal-string-alignment distance between `a` and `b`.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    value = min(value, previous2[j - 2] + 1)
                }
                current[j] = value
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
