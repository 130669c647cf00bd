import CZlib

/// Compresses request bodies the way SDKs do, for tests of `Content-Encoding`.
public enum Compression {
    public static func gzip(_ input: [UInt8]) -> [UInt8] { deflate(input, gzip: true) }

    /// zlib framing, what HTTP's `deflate` names.
    public static func zlib(_ input: [UInt8]) -> [UInt8] { deflate(input, gzip: false) }

    private static func deflate(_ input: [UInt8], gzip: Bool) -> [UInt8] {
        var stream = z_stream()
        let started = gzip ? herald_deflate_init_gzip(&stream, 6) : herald_deflate_init_zlib(&stream, 6)
        precondition(started == Z_OK)
        defer { deflateEnd(&stream) }
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(input.count))) + 32)
        var input = input
        let written = input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = UInt32(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = UInt32(outputBuffer.count)
                precondition(CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END)
                return outputBuffer.count - Int(stream.avail_out)
            }
        }
        return Array(output[..<written])
    }
}

/// Builds Sentry envelopes as SDKs send them.
public enum Envelope {
    /// An envelope with a header and items given as (item header JSON, payload); `withLength` adds each
    /// item's `length`, as most SDKs do.
    public static func build(header: String = "{}", items: [(type: String, payload: String)], withLength: Bool = true)
        -> [UInt8]
    {
        var text = header + "\n"
        for item in items {
            let length = withLength ? #","length":\#(item.payload.utf8.count)"# : ""
            text += #"{"type":"\#(item.type)"\#(length)}"# + "\n" + item.payload + "\n"
        }
        return Array(text.utf8)
    }

    /// A typical Python SDK error event, on one line.
    public static func errorEvent(
        id: String, type: String = "ValueError", value: String = "invalid literal for int(): 'abc'",
        function: String = "charge", lineno: Int = 42, tags: String = #"{"region":"eu-west-1"}"#,
        environment: String = "production", release: String = "shop@1.4.2", user: String = "u1"
    ) -> String {
        #"{"event_id":"\#(id)","timestamp":"2026-11-23T10:00:00.123456Z","platform":"python","level":"error","#
            + #""environment":"\#(environment)","release":"\#(release)","tags":\#(tags),"user":{"id":"\#(user)"},"#
            + #""exception":{"values":[{"type":"\#(type)","value":"\#(value)","module":null,"#
            + #""mechanism":{"type":"generic","handled":false},"#
            + #""stacktrace":{"frames":[{"filename":"shop/payments.py","abs_path":"/app/shop/payments.py","#
            + #""module":"shop.payments","function":"\#(function)","lineno":\#(lineno),"in_app":true},"#
            + #"{"filename":"lib/client.py","module":"lib.client","function":"post","lineno":7,"in_app":false}]}}]},"#
            + #""sdk":{"name":"sentry.python","version":"2.75.0"}}"#
    }
}
