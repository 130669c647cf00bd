import HeraldConfig

/// Slack users mapped to Herald users: by an explicit `slack_ids` entry, else by the email `users.info`
/// gives, which is asked once per user and kept.
public actor SlackDirectory {
    private var emails: [String: String?] = [:]

    public init() {}

    /// The Herald user behind a Slack user, and the email Slack reports for them.
    public func user(_ id: String, team: String, config: Config, client: SlackClient) async
        -> (user: Config.User?, email: String?)
    {
        if let user = config.user(slackID: id) { return (user, user.email) }
        let key = team + ":" + id
        let email: String?
        if let known = emails[key] {
            email = known
        } else {
            do {
                email = try await client.email(ofUser: id)
                emails[key] = email
            } catch {
                email = nil
            }
        }
        return (email.flatMap(config.user(email:)), email)
    }
}
