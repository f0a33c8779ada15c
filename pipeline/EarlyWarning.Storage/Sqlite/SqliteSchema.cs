namespace EarlyWarning.Storage.Sqlite;

/// <summary>
/// The SQLite schema, as an ordered list of migrations. <c>PRAGMA user_version</c> holds the version a file is at,
/// and <c>schema_version</c> records when each version was applied. Times are unix milliseconds (UTC).
/// The full-text index is not part of the versioned schema: it is optional (FTS5 may be missing) and
/// <see cref="SqliteStore"/> creates or rebuilds it at open.
/// </summary>
internal static class SqliteSchema
{
    public const int CurrentVersion = 1;

    /// <summary>Migration i takes a file from version i to version i + 1.</summary>
    public static readonly string[] Migrations =
    [
        """
        CREATE TABLE IF NOT EXISTS schema_version (
            version     INTEGER PRIMARY KEY,
            applied_at  INTEGER NOT NULL
        );

        -- The store's own bookkeeping (e.g. fts_stale: posts were written while the search index was unavailable).
        CREATE TABLE store_meta (
            key     TEXT PRIMARY KEY,
            value   TEXT NOT NULL
        );

        -- pk is an explicit INTEGER PRIMARY KEY so rowids are stable (VACUUM keeps them) for the FTS index.
        CREATE TABLE posts (
            pk              INTEGER PRIMARY KEY,
            id              TEXT NOT NULL UNIQUE,
            created_at      INTEGER NOT NULL,
            created_at_text TEXT NOT NULL,
            author          TEXT NOT NULL,
            author_handle   TEXT,
            followers       INTEGER NOT NULL DEFAULT 0,
            text            TEXT NOT NULL,
            lang            TEXT,
            country         TEXT,
            region          TEXT,
            platform        TEXT,
            raw             TEXT,
            reported_by     TEXT,
            source          TEXT,
            source_offset   INTEGER,
            stored_at       INTEGER NOT NULL
        );
        CREATE INDEX ix_posts_created_at ON posts(created_at);

        CREATE TABLE decisions (
            post_id         TEXT PRIMARY KEY,
            label           TEXT NOT NULL,
            scores          TEXT,
            incitement      REAL NOT NULL DEFAULT 0,
            dehumanisation  REAL NOT NULL DEFAULT 0,
            target          TEXT,
            flagged         INTEGER NOT NULL DEFAULT 0,
            explanation     TEXT,
            terms           TEXT,
            model           TEXT
        );
        CREATE INDEX ix_decisions_flagged ON decisions(flagged) WHERE flagged = 1;

        CREATE TABLE alerts (
            id              TEXT PRIMARY KEY,
            kind            TEXT NOT NULL,
            severity        TEXT NOT NULL,
            severity_level  INTEGER NOT NULL,
            score           REAL NOT NULL,
            window_start    INTEGER NOT NULL,
            window_end      INTEGER NOT NULL,
            detected_at     INTEGER NOT NULL,
            country         TEXT,
            region          TEXT,
            target_group    TEXT,
            language        TEXT,
            term            TEXT,
            baseline        REAL NOT NULL,
            observed        REAL NOT NULL,
            evidence        TEXT NOT NULL,
            explanation     TEXT NOT NULL,
            model           TEXT,
            status          TEXT NOT NULL,
            updated_at      INTEGER NOT NULL
        );
        CREATE INDEX ix_alerts_window ON alerts(window_start DESC);
        CREATE INDEX ix_alerts_scope ON alerts(country, region, window_start DESC);

        -- Append-only: the triggers refuse any change to a written entry.
        CREATE TABLE alert_audit (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            alert_id    TEXT NOT NULL,
            at          INTEGER NOT NULL,
            actor       TEXT NOT NULL,
            action      TEXT NOT NULL,
            note        TEXT
        );
        CREATE INDEX ix_alert_audit_alert ON alert_audit(alert_id, id);
        CREATE TRIGGER alert_audit_no_update BEFORE UPDATE ON alert_audit
            BEGIN SELECT RAISE(ABORT, 'alert_audit is append-only'); END;
        CREATE TRIGGER alert_audit_no_delete BEFORE DELETE ON alert_audit
            BEGIN SELECT RAISE(ABORT, 'alert_audit is append-only'); END;

        -- A NULL source_offset (position unknown) is never deduplicated: UNIQUE treats NULLs as distinct.
        CREATE TABLE dead_letters (
            id              INTEGER PRIMARY KEY AUTOINCREMENT,
            source          TEXT NOT NULL,
            source_offset   INTEGER,
            reason          TEXT NOT NULL,
            bytes           BLOB NOT NULL,
            received_at     INTEGER NOT NULL,
            UNIQUE (source, source_offset)
        );
        CREATE INDEX ix_dead_letters_received ON dead_letters(received_at);

        CREATE TABLE aggregates (
            bucket_start    INTEGER NOT NULL,
            country         TEXT NOT NULL,
            region          TEXT NOT NULL,
            target_group    TEXT NOT NULL,
            label           TEXT NOT NULL,
            count           INTEGER NOT NULL,
            PRIMARY KEY (bucket_start, country, region, target_group, label)
        ) WITHOUT ROWID;
        CREATE INDEX ix_aggregates_scope ON aggregates(country, region, bucket_start);

        CREATE TABLE feedback (
            id          INTEGER PRIMARY KEY AUTOINCREMENT,
            post_id     TEXT NOT NULL,
            label       TEXT NOT NULL,
            actor       TEXT NOT NULL,
            note        TEXT,
            at          INTEGER NOT NULL
        );
        CREATE INDEX ix_feedback_post ON feedback(post_id);

        CREATE TABLE checkpoints (
            source          TEXT PRIMARY KEY,
            source_offset   INTEGER NOT NULL,
            updated_at      INTEGER NOT NULL
        );

        CREATE TABLE state (
            key         TEXT PRIMARY KEY,
            value       BLOB NOT NULL,
            updated_at  INTEGER NOT NULL
        );
        """,
    ];

    /// <summary>
    /// External-content FTS5 index over posts.text. The store adds each newly inserted post to it in the same
    /// transaction (no triggers: a trigger makes FTS5 flush its term buffer on every row, about four times slower).
    /// Marks (M*) are token characters so that words in Myanmar, Sinhala and Tamil script are not cut at vowel signs.
    /// </summary>
    public const string CreateFts =
        """
        CREATE VIRTUAL TABLE IF NOT EXISTS posts_fts USING fts5(
            text, content = 'posts', content_rowid = 'pk', columnsize = 0,
            tokenize = 'unicode61 remove_diacritics 2 categories ''L* N* Co M*''');
        """;

    /// <summary>
    /// Index tuning, persisted in the index: a larger in-memory term buffer (fewer, larger segments per batch) and
    /// merges deferred a little longer, which makes the write path cheaper at a small cost to query time.
    /// </summary>
    public const string TuneFts =
        """
        INSERT INTO posts_fts(posts_fts, rank) VALUES ('hashsize', 16777216);
        INSERT INTO posts_fts(posts_fts, rank) VALUES ('automerge', 8);
        """;
}
