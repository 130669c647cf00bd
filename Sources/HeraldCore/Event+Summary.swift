// What an issue shows of the event that created or last updated it.
extension Event {
    /// The issue title: the raised exception's type and value, else the message's first line.
    public var title: String {
        if let exception = exceptions.last {
            let type = exception.type ?? "Error"
            guard let value = exception.value?.firstLine, !value.isEmpty else { return type }
            return (type + ": " + value).truncated(to: Self.titleLimit)
        }
        if let message = message?.firstLine, !message.isEmpty { return message.truncated(to: Self.titleLimit) }
        return "<no message>"
    }

    /// Where the event happened: the transaction, else the raised exception's innermost in-app frame.
    public var culprit: String? {
        if let transaction, !transaction.isEmpty { return transaction }
        guard let frames = exceptions.last?.frames, !frames.isEmpty else { return nil }
        let frame = frames.last { $0.inApp == true } ?? frames.last!
        let place = frame.module ?? frame.filename ?? frame.absPath
        switch (place, frame.function) {
        case (let place?, let function?): return "\(place) in \(function)"
        case (let place?, nil): return place
        case (nil, let function?): return function
        case (nil, nil): return nil
        }
    }

    /// Identifies the user for distinct-user counts, as Sentry's `user` tag does: by id, else email, username
    /// or IP address, each prefixed so that an id never equals an email.
    public var userKey: String? {
        guard let user else { return nil }
        if let id = user.id, !id.isEmpty { return "id:" + id }
        if let email = user.email, !email.isEmpty { return "email:" + email }
        if let username = user.username, !username.isEmpty { return "username:" + username }
        if let ip = user.ipAddress, !ip.isEmpty { return "ip:" + ip }
        return nil
    }

    static let titleLimit = 200
}

extension String {
    fileprivate var firstLine: String {
        String(String(prefix { $0 != "\n" && $0 != "\r" }).trimmingWhitespace)
    }

    /// At most `limit` characters, the last of them an ellipsis when text was cut.
    public func truncated(to limit: Int) -> String {
        count <= limit ? self : String(prefix(limit - 1)) + "…"
    }
}
