import GRDB

/// The database layout, as GRDB migrations: each migration runs once, in order, in its own transaction.
///
/// Times are Unix seconds (REAL). Counter buckets are whole minutes, hours or days since the epoch. There are
/// no foreign keys: the store is the only writer and keeps rows consistent itself, and foreign-key checks
/// would cost every insert on the ingest path.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE projects (
                    id INTEGER PRIMARY KEY,
                    slug TEXT NOT NULL,
                    next_issue_number INTEGER NOT NULL DEFAULT 1,
                    latest_release TEXT
                );

                CREATE TABLE releases (
                    project_id INTEGER NOT NULL,
                    version TEXT NOT NULL,
                    first_seen REAL NOT NULL,
                    PRIMARY KEY (project_id, version)
                ) WITHOUT ROWID;

                CREATE TABLE issues (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    project_id INTEGER NOT NULL,
                    number INTEGER NOT NULL,
                    fingerprint TEXT NOT NULL,
                    grouping TEXT NOT NULL,
                    title TEXT NOT NULL,
                    culprit TEXT,
                    level TEXT NOT NULL,
                    status TEXT NOT NULL,
                    substatus TEXT NOT NULL,
                    first_seen REAL NOT NULL,
                    last_seen REAL NOT NULL,
                    times_seen INTEGER NOT NULL,
                    users_seen INTEGER NOT NULL,
                    last_release TEXT,
                    assignee TEXT,
                    ignore_kind TEXT,
                    ignore_until REAL,
                    ignore_count INTEGER,
                    ignore_baseline INTEGER,
                    resolved_at REAL,
                    resolved_in_next_release_after TEXT,
                    regressed_at REAL
                );
                CREATE UNIQUE INDEX issues_by_fingerprint ON issues (project_id, fingerprint);
                CREATE UNIQUE INDEX issues_by_number ON issues (project_id, number);
                CREATE INDEX issues_by_last_seen ON issues (last_seen, id);

                -- Distinct users per issue, for users_seen.
                CREATE TABLE issue_users (
                    issue_id INTEGER NOT NULL,
                    user_key TEXT NOT NULL,
                    PRIMARY KEY (issue_id, user_key)
                ) WITHOUT ROWID;

                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    project_id INTEGER NOT NULL,
                    issue_id INTEGER NOT NULL,
                    event_id TEXT NOT NULL,
                    received_at REAL NOT NULL,
                    timestamp REAL,
                    level TEXT NOT NULL,
                    title TEXT NOT NULL,
                    environment TEXT,
                    release TEXT,
                    user_key TEXT,
                    payload BLOB NOT NULL
                );
                CREATE UNIQUE INDEX events_by_event_id ON events (project_id, event_id);
                CREATE INDEX events_by_issue ON events (issue_id, id);

                -- Events, and the distinct users among them, per minute (resolution 0), hour (1) and day (2):
                -- any window is the sum of at most a few hundred rows.
                CREATE TABLE issue_counts (
                    issue_id INTEGER NOT NULL,
                    resolution INTEGER NOT NULL,
                    bucket INTEGER NOT NULL,
                    events INTEGER NOT NULL,
                    PRIMARY KEY (issue_id, resolution, bucket)
                ) WITHOUT ROWID;
                CREATE INDEX issue_counts_by_age ON issue_counts (resolution, bucket);
                CREATE TABLE issue_bucket_users (
                    issue_id INTEGER NOT NULL,
                    resolution INTEGER NOT NULL,
                    bucket INTEGER NOT NULL,
                    user_key TEXT NOT NULL,
                    PRIMARY KEY (issue_id, resolution, bucket, user_key)
                ) WITHOUT ROWID;
                CREATE INDEX issue_bucket_users_by_age ON issue_bucket_users (resolution, bucket);

                -- When each rule last fired for each issue: the action interval's claim.
                CREATE TABLE rule_claims (
                    project_id INTEGER NOT NULL,
                    rule TEXT NOT NULL,
                    issue_id INTEGER NOT NULL,
                    fired_at REAL NOT NULL,
                    PRIMARY KEY (project_id, rule, issue_id)
                ) WITHOUT ROWID;
                CREATE INDEX rule_claims_by_age ON rule_claims (fired_at);

                CREATE TABLE rule_firings (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    project_id INTEGER NOT NULL,
                    rule TEXT NOT NULL,
                    issue_id INTEGER NOT NULL,
                    event_row_id INTEGER NOT NULL,
                    event_id TEXT NOT NULL,
                    fired_at REAL NOT NULL,
                    state TEXT NOT NULL,
                    rule_set_version TEXT NOT NULL
                );
                CREATE INDEX rule_firings_by_issue ON rule_firings (issue_id, id);
                CREATE INDEX rule_firings_by_time ON rule_firings (fired_at);

                -- One message to send. Delivery (a later stage) drains rows in `pending`.
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    project_id INTEGER NOT NULL,
                    issue_id INTEGER NOT NULL,
                    event_row_id INTEGER NOT NULL,
                    event_id TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    channel TEXT,
                    rules TEXT NOT NULL,
                    tags TEXT NOT NULL,
                    notes TEXT NOT NULL,
                    problem TEXT,
                    status TEXT NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at REAL NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    last_error TEXT
                );
                CREATE INDEX outbox_by_status ON outbox (status, next_attempt_at);
                CREATE INDEX outbox_by_issue ON outbox (issue_id, id);
                CREATE INDEX outbox_by_event ON outbox (event_row_id);
                CREATE INDEX outbox_by_age ON outbox (updated_at);
                """)
        }
        migrator.registerMigration("v2-delivery") { db in
            try db.execute(sql: """
                -- Where a message went, once sent; `channel_template` marks a channel rendered from the event,
                -- which may not exist and then falls back to the target's fallback channel.
                ALTER TABLE outbox ADD COLUMN channel_template TEXT;
                ALTER TABLE outbox ADD COLUMN delivered_channel TEXT;
                ALTER TABLE outbox ADD COLUMN delivered_ref TEXT;
                ALTER TABLE outbox ADD COLUMN delivered_at REAL;
                CREATE INDEX outbox_pending ON outbox (id) WHERE status = 'pending';

                -- Every chat message Herald posted for an issue: the handle later updates and thread replies
                -- need. `channel` is the channel as the rule named it, `channel_id` where the message went
                -- (they differ for a fallback channel); `thread_ref` is the parent's ref for a thread reply.
                CREATE TABLE message_handles (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    issue_id INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    channel_id TEXT NOT NULL,
                    message_ref TEXT NOT NULL,
                    thread_ref TEXT,
                    outbox_id INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX message_handles_by_issue ON message_handles (issue_id, kind, target, channel);
                CREATE INDEX message_handles_by_age ON message_handles (updated_at);

                -- Channel names resolved to ids, per workspace or connector.
                CREATE TABLE chat_channels (
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    name TEXT NOT NULL,
                    channel_id TEXT NOT NULL,
                    resolved_at REAL NOT NULL,
                    PRIMARY KEY (kind, target, name)
                ) WITHOUT ROWID;

                -- Values Herald makes for itself once, such as the key that signs Mattermost button contexts.
                CREATE TABLE settings (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v3-actions") { db in
            try db.execute(sql: """
                -- What people did to issues, from any surface: the audit trail. `request_key` names a callback
                -- (Slack's action_ts, Mattermost's trigger id) so a retried one is carried out once.
                CREATE TABLE issue_actions (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    issue_id INTEGER NOT NULL,
                    action TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    actor_name TEXT NOT NULL,
                    surface TEXT NOT NULL,
                    at REAL NOT NULL,
                    old_state TEXT NOT NULL,
                    new_state TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    request_key TEXT UNIQUE
                );
                CREATE INDEX issue_actions_by_issue ON issue_actions (issue_id, id);

                -- Outbox rows that act on a message already posted: `update` rewrites it, `note` replies in
                -- its thread; `handle_id` is the message, `note` the text.
                ALTER TABLE outbox ADD COLUMN purpose TEXT NOT NULL DEFAULT 'alert';
                ALTER TABLE outbox ADD COLUMN handle_id INTEGER;
                ALTER TABLE outbox ADD COLUMN note TEXT;
                """)
        }
        migrator.registerMigration("v4-console") { db in
            try db.execute(sql: """
                -- Web console sessions. Only a hash of the session id is kept, so the file does not hand out
                -- sessions; `csrf` is the token every form of the session carries.
                CREATE TABLE console_sessions (
                    id_hash TEXT PRIMARY KEY,
                    email TEXT NOT NULL,
                    csrf TEXT NOT NULL,
                    method TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_seen_at REAL NOT NULL,
                    expires_at REAL NOT NULL
                ) WITHOUT ROWID;

                -- One-time sign-in links, by the hash of their token; `used_at` makes each one good once.
                CREATE TABLE sign_in_links (
                    token_hash TEXT PRIMARY KEY,
                    email TEXT NOT NULL,
                    issued_via TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    used_at REAL
                ) WITHOUT ROWID;

                -- The issue list's filters and orders.
                CREATE INDEX issues_by_first_seen ON issues (first_seen, id);
                CREATE INDEX issues_by_times_seen ON issues (times_seen, id);
                CREATE INDEX issues_by_users_seen ON issues (users_seen, id);
                CREATE INDEX events_by_environment ON events (environment, issue_id);
                """)
        }
        migrator.registerMigration("v5-admin-tokens") { db in
            try db.execute(sql: """
                -- Named admin-API tokens, made and revoked with `herald tokens` while the server runs; only
                -- the SHA-256 of each secret is kept.
                CREATE TABLE admin_tokens (
                    name TEXT PRIMARY KEY,
                    token_hash TEXT NOT NULL UNIQUE,
                    scope TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_used_at REAL
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}
