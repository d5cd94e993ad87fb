-- The whole schema of the PostgreSQL backend, as the SQLite migrations 0001-0007 leave it.
-- Timestamps are unix milliseconds (BIGINT). JSON is kept as the text the store wrote (the
-- store encodes and decodes it), so it reads back byte for byte.

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY,
    channel       TEXT NOT NULL,
    requester_id  TEXT NOT NULL,
    language      TEXT NOT NULL,
    status        TEXT NOT NULL
                  CHECK (status IN ('bot', 'queued', 'chat', 'finished', 'bridged')),
    queue_group   TEXT,
    -- Store-managed link to the ticket opened for this conversation (not version-controlled).
    ticket_number TEXT,
    machine_state TEXT NOT NULL,
    -- Optimistic concurrency: bumped by every update of status, queue group or machine state.
    version       BIGINT NOT NULL DEFAULT 1,
    -- Sequence number of the newest message; an append locks this row and takes last_seq + 1.
    last_seq      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE INDEX conversations_by_requester ON conversations (requester_id, created_at);
CREATE INDEX conversations_by_status ON conversations (status, created_at);

CREATE TABLE messages (
    conversation_id   TEXT NOT NULL REFERENCES conversations (id),
    seq               BIGINT NOT NULL CHECK (seq > 0),
    sender_kind       TEXT NOT NULL
                      CHECK (sender_kind IN ('requester', 'assistant', 'attendant', 'system')),
    sender_id         TEXT,
    body              TEXT NOT NULL,
    payload           TEXT,
    client_message_id TEXT,
    created_at        BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, seq)
);

-- Idempotency: a client message id is stored at most once per conversation.
CREATE UNIQUE INDEX messages_by_client_id ON messages (conversation_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

CREATE TABLE tickets (
    number          TEXT PRIMARY KEY,
    -- The counter value the number was made from; orders tickets.
    serial          BIGINT NOT NULL UNIQUE,
    requester_id    TEXT NOT NULL,
    activity_id     TEXT NOT NULL,
    contract        TEXT NOT NULL,
    group_name      TEXT NOT NULL,
    description     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'closed')),
    -- A JSON array of strings.
    tags            TEXT NOT NULL DEFAULT '[]',
    conversation_id TEXT REFERENCES conversations (id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    -- The conversation and the machine's request number: a re-issued creation returns the
    -- ticket already made.
    request_key     TEXT
);

CREATE INDEX tickets_by_requester ON tickets (requester_id, status, serial);
CREATE UNIQUE INDEX tickets_by_request_key ON tickets (request_key) WHERE request_key IS NOT NULL;

ALTER TABLE conversations
    ADD CONSTRAINT conversations_ticket_number_fkey
    FOREIGN KEY (ticket_number) REFERENCES tickets (number);

-- Named counters, bumped (row-locked) inside the transaction that uses the value: no gaps,
-- no duplicates, even with several processes writing. `ticket` numbers tickets; `desk` is the
-- greatest desk log sequence number ever given.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('ticket', 0), ('desk', 0);

CREATE TABLE parameters (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The human desk's write-ahead log and its one snapshot.
CREATE TABLE desk_ops (
    seq        BIGINT PRIMARY KEY,
    op         TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE desk_snapshot (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    state      TEXT NOT NULL,
    through    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Bearer tokens issued through the API: only the SHA-256 of a token is kept.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    role       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    -- A JSON array of strings.
    groups     TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);

-- The bridge to external chat services. Events, attempts and receipts name their bridge by
-- id without a foreign key: deleting a bridge's definition keeps its history.
CREATE TABLE bridges (
    id              TEXT PRIMARY KEY,
    config          TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT,
    updated_at      BIGINT NOT NULL
);

-- The transactional outbox. `position` is the global insertion order and, within a lane
-- (bridge, conversation), the delivery order; `id` is the `webhook-id`.
CREATE TABLE outbox (
    position        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    bridge_id       TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    data            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    delivered_at    BIGINT
);

CREATE INDEX outbox_pending_by_lane ON outbox (bridge_id, conversation_id, position)
    WHERE status = 'pending';
CREATE INDEX outbox_by_bridge ON outbox (bridge_id, created_at);

CREATE TABLE delivery_attempts (
    event_id    TEXT NOT NULL REFERENCES outbox (id),
    attempt     BIGINT NOT NULL CHECK (attempt > 0),
    at          BIGINT NOT NULL,
    status_code BIGINT,
    latency_ms  BIGINT NOT NULL,
    error       TEXT,
    PRIMARY KEY (event_id, attempt)
);

CREATE TABLE inbound_receipts (
    bridge_id   TEXT NOT NULL,
    webhook_id  TEXT NOT NULL,
    status      BIGINT NOT NULL,
    body        TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (bridge_id, webhook_id)
);

CREATE INDEX inbound_receipts_by_time ON inbound_receipts (received_at);

CREATE TABLE bridge_deadlines (
    conversation_id TEXT PRIMARY KEY,
    bridge_id       TEXT NOT NULL,
    due_at          BIGINT NOT NULL
);

CREATE INDEX bridge_deadlines_by_due ON bridge_deadlines (due_at);

CREATE TABLE bridge_files (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    bridge_id       TEXT NOT NULL,
    origin          TEXT NOT NULL CHECK (origin IN ('requester', 'agent')),
    file_name       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    kind            TEXT NOT NULL,
    size            BIGINT NOT NULL CHECK (size > 0),
    source_url      TEXT,
    created_at      BIGINT NOT NULL
);

CREATE INDEX bridge_files_by_conversation ON bridge_files (conversation_id);
