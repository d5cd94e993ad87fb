-- The bridge to external chat services. Timestamps are unix milliseconds. Events, attempts
-- and receipts name their bridge by id without a foreign key: deleting a bridge's definition
-- keeps its history.

-- A bridge's definition (the bridge module's JSON, secrets included) and whether its
-- deliveries run; `disabled_reason` says why they stopped (`gone`, `admin`...).
CREATE TABLE bridges (
    id              TEXT PRIMARY KEY NOT NULL,
    config          TEXT NOT NULL CHECK (json_valid(config)),
    enabled         INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    disabled_reason TEXT,
    updated_at      INTEGER NOT NULL
) STRICT;

-- The transactional outbox: every event to deliver, written with the step that causes it.
-- `position` is the global insertion order and, within a lane (bridge, conversation), the
-- delivery order; `id` is the `webhook-id`, kept on every retry and replay.
CREATE TABLE outbox (
    position        INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT NOT NULL UNIQUE,
    bridge_id       TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    -- The conversation's sequence number the event is at.
    seq             INTEGER NOT NULL,
    data            TEXT NOT NULL CHECK (json_valid(data)),
    created_at      INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    delivered_at    INTEGER
) STRICT;

-- The head of every lane (its lowest pending position) is one index seek per lane.
CREATE INDEX outbox_pending_by_lane ON outbox (bridge_id, conversation_id, position)
    WHERE status = 'pending';
-- Listings and replays of a bridge by creation time.
CREATE INDEX outbox_by_bridge ON outbox (bridge_id, created_at);

-- Every delivery attempt of an event, numbered from 1.
CREATE TABLE delivery_attempts (
    event_id    TEXT NOT NULL REFERENCES outbox (id),
    attempt     INTEGER NOT NULL CHECK (attempt > 0),
    at          INTEGER NOT NULL,
    -- The receiver's HTTP status, when it answered.
    status_code INTEGER,
    latency_ms  INTEGER NOT NULL,
    error       TEXT,
    PRIMARY KEY (event_id, attempt)
) STRICT, WITHOUT ROWID;

-- The answer given to an inbound event, by its `webhook-id`: a repeat gets the same answer.
-- Old receipts are forgotten by `received_at`.
CREATE TABLE inbound_receipts (
    bridge_id   TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    status      INTEGER NOT NULL,
    body        TEXT NOT NULL CHECK (json_valid(body)),
    received_at INTEGER NOT NULL,
    PRIMARY KEY (bridge_id, webhook_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX inbound_receipts_by_time ON inbound_receipts (received_at);

-- The accept deadline of a conversation handed to a bridge: at most one per conversation,
-- written with the step that requests the hand-off, removed when it is answered or fires.
CREATE TABLE bridge_deadlines (
    conversation_id TEXT PRIMARY KEY NOT NULL,
    bridge_id       TEXT NOT NULL,
    due_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX bridge_deadlines_by_due ON bridge_deadlines (due_at);
