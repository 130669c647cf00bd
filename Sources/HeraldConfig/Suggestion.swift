/// The candidate closest to a misspelt word, if it is close enough to be what was meant.
public func closestMatch(to word: String, among candidates: some Sequence<String>) -> String? {
    let word = word.lowercased()
    var best: (candidate: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(word, candidate.lowercased())
        if distance < (best?.distance ?? .max) { best = (candidate, distance) }
    }
    guard let best, best.distance > 0, best.distance <= max(2, word.count / 3) else { return nil }
    return best.candidate
}

/// The sentence tail naming the allowed values and, when one is near, the likely intended one.
public func allowedValuesHint(for word: String, among candidates: [String]) -> String {
    var hint = "allowed: \(candidates.joined(separator: ", "))"
    if let match = closestMatch(to: word, among: candidates) { hint += "; did you mean '\(match)'?" }
    return hint
}

/// Levenshtein distance over Unicode characters.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
            current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
