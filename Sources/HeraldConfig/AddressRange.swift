#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 network in CIDR form (`10.0.0.0/8`, `2001:db8::/32`), or one address (`192.0.2.7`): the
/// sources a connector accepts callbacks from.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    /// The network's address bytes: 4 for IPv4, 16 for IPv6.
    public let bytes: [UInt8]
    /// How many leading bits must match.
    public let prefix: Int

    /// Reads `address` or `address/prefix`; nil when it is neither.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = parts.first, let bytes = Self.parse(address: String(address)) else { return nil }
        if parts.count == 2 {
            guard parts[1].count <= 3, parts[1].allSatisfy(\.isASCII), let prefix = Int(parts[1]),
                (0...bytes.count * 8).contains(prefix)
            else { return nil }
            self.prefix = prefix
        } else {
            prefix = bytes.count * 8
        }
        self.bytes = bytes
    }

    /// Whether `address` (as text, IPv4, IPv6 or IPv4-mapped IPv6) lies in the range.
    public func contains(_ address: String) -> Bool {
        guard var other = Self.parse(address: address) else { return false }
        if other.count == 16, bytes.count == 4, other[0..<12] == Self.mappedPrefix[...] {
            other = Array(other[12...])
        }
        guard other.count == bytes.count else { return false }
        var remaining = prefix
        for index in bytes.indices where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - bits))
            if bytes[index] & mask != other[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        let text = Self.text(bytes)
        return prefix == bytes.count * 8 ? text : "\(text)/\(prefix)"
    }

    private static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    private static func parse(address: String) -> [UInt8]? {
        guard address.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, address, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    private static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        var copy = bytes
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        guard inet_ntop(family, &copy, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
