import CZlib
import Foundation

/// Undoes `Content-Encoding: gzip` or `deflate` with zlib, stopping at a size limit so a small compressed
/// body cannot expand without bound.
enum BodyDecompression {
    enum Failure: Error, Equatable {
        case tooLarge
        case corrupt(String)
        /// The compressed data ended with this many bytes still to come.
        case trailing(Int)

        /// What the client is told after "cannot be decompressed".
        var reason: String? {
            switch self {
            case .tooLarge: nil
            case .corrupt(let reason): reason
            case .trailing(let count): "\(count) bytes follow the end of the compressed data"
            }
        }
    }

    /// `deflate` is zlib-wrapped by the HTTP spec, but some clients send raw deflate; both are accepted.
    static func inflate(_ input: [UInt8], encoding: ContentEncoding, limit: Int) throws(Failure) -> [UInt8] {
        switch encoding {
        case .identity:
            return input
        case .gzip:
            return try inflate(input, windowBits: 15 + 16, limit: limit, members: true)
        case .deflate:
            do {
                return try inflate(input, windowBits: 15, limit: limit)
            } catch .corrupt {
                return try inflate(input, windowBits: -15, limit: limit)
            }
        }
    }

    /// Bytes after the end of the compressed data: refused rather than dropped in silence.
    private static let trailingData = Z_BUF_ERROR - 101

    /// With `members`, a body of several gzip members (RFC 1952 §2.2) inflates to their concatenation, as
    /// gunzip does; anything else after the end of the data is an error.
    private static func inflate(_ input: [UInt8], windowBits: Int32, limit: Int, members: Bool = false)
        throws(Failure) -> [UInt8]
    {
        var stream = z_stream()
        guard herald_inflate_init(&stream, windowBits) == Z_OK else { throw .corrupt("zlib could not start") }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var input = input
        let status: Int32 = input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = UInt32(inputBuffer.count)
            while true {
                let result: Int32 = chunk.withUnsafeMutableBufferPointer { chunkBuffer in
                    stream.next_out = chunkBuffer.baseAddress
                    stream.avail_out = UInt32(chunkBuffer.count)
                    return CZlib.inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                if output.count + produced > limit { return Z_BUF_ERROR - 100 }
                output.append(contentsOf: chunk[0..<produced])
                switch result {
                case Z_STREAM_END:
                    guard stream.avail_in > 0 else { return Z_STREAM_END }
                    let next = stream.next_in
                    guard members, stream.avail_in >= 2, let next, next[0] == 0x1F, next[1] == 0x8B,
                        inflateReset(&stream) == Z_OK
                    else { return trailingData }
                case Z_OK: if stream.avail_in == 0 && produced == 0 { return Z_BUF_ERROR }
                default: return result
                }
            }
        }
        switch status {
        case Z_STREAM_END: return output
        case Z_BUF_ERROR - 100: throw .tooLarge
        case Z_BUF_ERROR: throw .corrupt("the compressed body is truncated")
        case trailingData: throw .trailing(Int(stream.avail_in))
        default: throw .corrupt(stream.msg.map { String(cString: $0) } ?? "zlib error \(status)")
        }
    }
}

/// The `Content-Encoding`s Herald accepts.
enum ContentEncoding: Equatable {
    case identity, gzip, deflate

    /// nil for an encoding Herald does not undo.
    init?(header: String?) {
        switch header?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "", "identity": self = .identity
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        default: return nil
        }
    }
}
