import HeraldCore

/// What someone typed after `/herald`.
public enum ChatCommand: Sendable, Equatable {
    /// `alert <project> <title>`: raise an alert.
    case alert(project: String, title: String)
    /// `status <short id>`.
    case status(String)
    case help
    /// `login`: a one-time link that signs the person in to the web console.
    case login
    /// No text: Slack opens a form.
    case form
    /// Something Herald cannot read, with what to say about it.
    case invalid(String)

    public init(text: String) {
        let words = text.split(whereSeparator: \.isWhitespace)
        guard let first = words.first else {
            self = .form
            return
        }
        switch first.lowercased() {
        case "alert":
            guard words.count >= 3 else {
                self = .invalid("`alert` takes a project and a title: `/herald alert payments Checkout is down`")
                return
            }
            self = .alert(project: String(words[1]).lowercased(), title: words[2...].joined(separator: " "))
        case "status":
            guard words.count == 2 else {
                self = .invalid("`status` takes an issue's short id: `/herald status PAYMENTS-12`")
                return
            }
            self = .status(String(words[1]))
        case "help": self = .help
        case "login": self = .login
        default: self = .invalid("Herald does not know `\(first.prefix(40))`.")
        }
    }

    /// What `/herald help` says.
    public static let usage = """
        `/herald alert <project> <title>` raises an alert: it becomes an issue and runs through the project's rules.
        `/herald` alone (Slack) opens a form for the same, with a description and a level.
        `/herald status <short id>` shows an issue, such as `/herald status PAYMENTS-12`.
        `/herald login` answers, only to you, with a one-time link that signs you in to the Herald console.
        `/herald help` shows this.
        """
}
