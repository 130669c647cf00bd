// String tests on the rule-evaluation hot path, written against UTF-8 bytes with the standard library only:
// on Linux, Foundation's `caseInsensitiveCompare` and `contains` go through NSString and cost hundreds of
// nanoseconds to microseconds a call (measured: ~470 ns and ~1.2 µs), more than evaluating a whole rule.

extension String {
    /// Whether two strings are equal ignoring letter case, comparing contiguous bytes (ASCII folded) and
    /// falling back to Unicode lowercasing at the first non-ASCII difference.
    public func equalsIgnoringCase(_ other: String) -> Bool {
        let count = utf8.count
        let verdict = withUTF8Bytes { left in
            other.withUTF8Bytes { right -> Bool? in
                guard count == right.count else {
                    // Different lengths are different text, unless non-ASCII letters change length when folded.
                    return left.contains { $0 >= 0x80 } || right.contains { $0 >= 0x80 } ? nil : false
                }
                for index in 0..<count {
                    let a = left[index], b = right[index]
                    if a == b { continue }
                    if a >= 0x80 || b >= 0x80 { return nil }
                    if asciiLowercase(a) != asciiLowercase(b) { return false }
                }
                return true
            }
        }
        return verdict ?? (lowercased() == other.lowercased())
    }

    /// The string lowercased. Text that is already lowercase ASCII (most tag keys and values) is returned
    /// as it is, without the allocation and Unicode tables of `lowercased()`.
    public var foldedForComparison: String {
        let alreadyFolded = withUTF8Bytes { bytes in
            !bytes.contains { $0 >= 0x80 || ($0 >= 0x41 && $0 <= 0x5A) }
        }
        return alreadyFolded ? self : lowercased()
    }

    /// Whether two strings are the same text, byte for byte in UTF-8: what rule comparisons mean by equal
    /// (after lowercasing). Unlike `==` it applies no Unicode canonical equivalence, which is both what
    /// Sentry does and much cheaper.
    public func sameText(_ other: String) -> Bool {
        let count = utf8.count
        guard count == other.utf8.count else { return false }
        return withUTF8Bytes { left in
            other.withUTF8Bytes { right in
                for index in 0..<count where left[index] != right[index] { return false }
                return true
            }
        }
    }

    /// Runs `body` over the string's UTF-8 bytes in place: far cheaper than iterating `utf8` byte by byte.
    @inlinable
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self  // a bridged or otherwise non-contiguous string: `withUTF8` makes it contiguous
        return try copy.withUTF8(body)
    }

    /// Whether `needle` occurs in the string, compared as UTF-8 bytes (exact, so callers fold case first).
    public func containsText(_ needle: String) -> Bool {
        if needle.isEmpty { return true }
        var haystack = self
        var needle = needle
        return haystack.withUTF8 { hay in
            needle.withUTF8 { pin in
                guard pin.count <= hay.count else { return false }
                let first = pin[0]
                var start = 0
                let last = hay.count - pin.count
                while start <= last {
                    if hay[start] == first {
                        var offset = 1
                        while offset < pin.count && hay[start + offset] == pin[offset] { offset += 1 }
                        if offset == pin.count { return true }
                    }
                    start += 1
                }
                return false
            }
        }
    }

    /// The string without leading and trailing whitespace.
    public var trimmingWhitespace: Substring {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace })
        else { return "" }
        return self[first...last]
    }
}

@inline(__always)
private func asciiLowercase(_ byte: UInt8) -> UInt8 {
    byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
}
