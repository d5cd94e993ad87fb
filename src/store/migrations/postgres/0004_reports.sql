-- What the desk's reports read, recorded as conversations go (see `insight`): one row per
-- conversation merging what happened to it, the requester texts the assistant could not place
-- well (knowledge gaps), the articles shown, opened and viewed, and the attendants' presence
-- changes. Timestamps are unix milliseconds. Rows are merged by the recorder's upsert: the
-- first value wins for "when it first happened" columns, the last for "where it ended".
CREATE TABLE report_conversations (
    id                TEXT PRIMARY KEY,
    opened_at         BIGINT,
    channel           TEXT,
    language          TEXT,
    outbound          BIGINT NOT NULL DEFAULT 0,
    texts             BIGINT NOT NULL DEFAULT 0,
    fallbacks         BIGINT NOT NULL DEFAULT 0,
    handoff_at        BIGINT,
    group_name        TEXT,
    bridged           BIGINT NOT NULL DEFAULT 0,
    ticket_at         BIGINT,
    activity_id       TEXT,
    queued_at         BIGINT,
    project           TEXT,
    accepted_at       BIGINT,
    attendant         TEXT,
    first_response_at BIGINT,
    transfers         BIGINT NOT NULL DEFAULT 0,
    lost_at           BIGINT,
    closed_at         BIGINT,
    close_reason      TEXT,
    handle_ms         BIGINT,
    rating            BIGINT CHECK (rating IS NULL OR rating BETWEEN 1 AND 5),
    comment           TEXT,
    rated_at          BIGINT
);

CREATE INDEX report_conversations_by_opened ON report_conversations (opened_at);

CREATE TABLE report_texts (
    id              BIGSERIAL PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    language        TEXT NOT NULL,
    reason          TEXT NOT NULL,
    score           DOUBLE PRECISION,
    text            TEXT NOT NULL
);

CREATE INDEX report_texts_by_time ON report_texts (at_ms);

CREATE TABLE report_articles (
    article_id      TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('shown', 'opened', 'viewed'))
);

CREATE INDEX report_articles_by_time ON report_articles (at_ms);

CREATE TABLE report_presence (
    attendant TEXT NOT NULL,
    channel   TEXT NOT NULL,
    at_ms     BIGINT NOT NULL,
    state     TEXT NOT NULL CHECK (state IN ('online', 'paused', 'offline')),
    reason    TEXT
);

CREATE INDEX report_presence_by_time ON report_presence (at_ms);

-- Knowledge-gap clusters a knowledge manager dismissed, by their stable key.
CREATE TABLE gap_dismissals (
    key   TEXT PRIMARY KEY,
    by    TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
