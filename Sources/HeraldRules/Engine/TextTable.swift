import HeraldCore

/// Values keyed by text compared byte for byte (`String.sameText`): an open-addressing table with FNV-1a
/// hashing.
///
/// The engine probes such tables for a few values of every event. The standard dictionary's seeded SipHash
/// and its Unicode-equivalence comparison cost about a thousand instructions a probe here; FNV over a short
/// value and a byte comparison cost a small fraction of that. The keys come from rule files, not from
/// events, so no sender can choose colliding keys; a probe for an event value touches one short chain.
struct TextTable<Value: Sendable>: Sendable {
    /// Each slot's full hash (0 for an empty slot) beside its value: a probe reads one slot and touches a
    /// key only when the whole hash matches, which keeps it to few cache lines.
    private let slots: [(hash: UInt64, value: Value?)]
    private let keys: [String]
    private let mask: Int

    init(_ entries: [String: Value]) {
        var capacity = 8
        while capacity < entries.count * 2 { capacity *= 2 }
        var slots = [(hash: UInt64, value: Value?)](repeating: (0, nil), count: capacity)
        var keys = [String](repeating: "", count: capacity)
        for (key, value) in entries {
            let hash = Self.hash(key)
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot].hash != 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = (hash, value)
            keys[slot] = key
        }
        self.slots = slots
        self.keys = keys
        self.mask = capacity - 1
    }

    subscript(key: String) -> Value? {
        lookup(hash: Self.hash(key)) { $0.sameText(key) }
    }

    func contains(_ key: String) -> Bool { self[key] != nil }

    /// The value for `key` ignoring letter case, for tables whose keys are lowercase. ASCII text is folded
    /// while hashing, without making a lowercased copy; other text is lowercased first.
    func value(foldingCaseOf key: String) -> Value? {
        let folded = key.withUTF8Bytes { bytes -> UInt64? in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes {
                if byte >= 0x80 { return nil }
                let lower = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                hash = (hash ^ UInt64(lower)) &* 0x0000_0100_0000_01b3
            }
            return Self.finish(hash)
        }
        guard let hash = folded else { return self[key.lowercased()] }
        return lookup(hash: hash) { $0.equalsIgnoringCase(key) }
    }

    private func lookup(hash: UInt64, matches: (String) -> Bool) -> Value? {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot].hash != 0 {
            if slots[slot].hash == hash && matches(keys[slot]) { return slots[slot].value }
            slot = (slot + 1) & mask
        }
        return nil
    }

    /// FNV-1a over the UTF-8 bytes, mixed and kept non-zero (0 marks an empty slot).
    private static func hash(_ key: String) -> UInt64 {
        key.withUTF8Bytes { bytes in
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
            return finish(hash)
        }
    }

    private static func finish(_ hash: UInt64) -> UInt64 {
        let mixed = hash ^ (hash >> 29)
        return mixed == 0 ? 1 : mixed
    }
}

extension TextTable where Value == Bool {
    /// A set of texts.
    init(_ members: some Sequence<String>) {
        self.init(Dictionary(members.map { ($0, true) }, uniquingKeysWith: { first, _ in first }))
    }
}
