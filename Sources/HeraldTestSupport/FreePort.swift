import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP port on 127.0.0.1 that was free a moment ago: for a server whose public URL must name its port
/// before it starts. Another program could take it in between; tests that use it start at once.
public enum FreePort {
    public static func pick() throws -> Int {
        let (port, socket) = try bound()
        close(socket)
        return port
    }

    /// A port bound but not listening, held until `release`: a connection to it is refused for as long as it
    /// is held, and no other server of a parallel test can take it meanwhile.
    public static func refusing() throws -> (port: Int, release: @Sendable () -> Void) {
        let (port, socket) = try bound()
        return (port, { close(socket) })
    }

    private static func bound() throws -> (Int, Int32) {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(errno: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(socket, generic, length) == 0 && getsockname(socket, generic, &length) == 0
            }
        }
        guard bound else {
            let code = errno
            close(socket)
            throw Failure(errno: code)
        }
        return (Int(UInt16(bigEndian: address.sin_port)), socket)
    }

    public struct Failure: Error {
        public var errno: Int32
    }
}
