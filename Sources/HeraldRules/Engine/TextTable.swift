import HeraldCore

/// Values keyed by text compared byte for byte (`String.sameText`): an open-addressing table with FNV-1a
/// hashing.
///
/// The engine probes such tables for a few values of every event. The standard dictionary's seeded SipHash
/// and its Unicode-equivalence comparison cost about a thousand instructions a probe here; FNV over a short
/// value and a byte comparison cost a small fraction of that. The keys come from rule files, not from
/// events, so no sender can choose colliding keys; a probe for an event value touches one short chain.
struct TextTable<Value: Sendable>: Sendable {
    private let keys: [String?]
    private let values: [Value?]
    private let mask: Int

    init(_ entries: [String: Value]) {
        var capacity = 8
        while capacity < entries.count * 2 { capacity *= 2 }
        var keys = [String?](repeating: nil, count: capacity)
        var values = [Value?](repeating: nil, count: capacity)
        for (key, value) in entries {
            var slot = Self.hash(key) & (capacity - 1)
            while keys[slot] != nil { slot = (slot + 1) & (capacity - 1) }
            keys[slot] = key
            values[slot] = value
        }
        self.keys = keys
        self.values = values
        self.mask = capacity - 1
    }

    subscript(key: String) -> Value? {
        var slot = Self.hash(key) & mask
        while let candidate = keys[slot] {
            if candidate.sameText(key) { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    func contains(_ key: String) -> Bool { self[key] != nil }

    /// The value for `key` ignoring letter case, for tables whose keys are lowercase. ASCII text is folded
    /// while hashing, without making a lowercased copy; other text is lowercased first.
    func value(foldingCaseOf key: String) -> Value? {
        let folded = key.withUTF8Bytes { bytes -> Int? in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                if byte >= 0x80 { return nil }
                let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                hash = (hash ^ UInt64(lower)) &* 0x0000_0100_0000_01b3
            }
            return Int(truncatingIfNeeded: hash ^ (hash >> 29))
        }
        guard let hash = folded else { return self[key.lowercased()] }
        var slot = hash & mask
        while let candidate = keys[slot] {
            if candidate.equalsIgnoringCase(key) { return values[slot] }
            slot = (slot + 1) & mask
        }
        return nil
    }

    private static func hash(_ key: String) -> Int {
        key.withUTF8Bytes { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            return Int(truncatingIfNeeded: hash ^ (hash >> 29))
        }
    }
}

extension TextTable where Value == Bool {
    /// A set of texts.
    init(_ members: some Sequence<String>) {
        self.init(Dictionary(members.map { ($0, true) }, uniquingKeysWith: { first, _ in first }))
    }
}
