-- Initial schema for the SQLite backend. Timestamps are unix milliseconds.
-- Tables are STRICT so a wrongly typed value fails loudly instead of being stored.

CREATE TABLE conversations (
    id            TEXT PRIMARY KEY NOT NULL,
    channel       TEXT NOT NULL,
    requester_id  TEXT NOT NULL,
    language      TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('bot', 'queued', 'chat', 'finished')),
    queue_group   TEXT,
    -- Store-managed link to the ticket opened for this conversation (not version-controlled).
    ticket_number TEXT REFERENCES tickets (number),
    machine_state TEXT NOT NULL CHECK (json_valid(machine_state)),
    -- Optimistic concurrency: bumped by every update of status, queue group or machine state.
    version       INTEGER NOT NULL DEFAULT 1,
    -- Sequence number of the newest message; the next append takes last_seq + 1.
    last_seq      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX conversations_by_requester ON conversations (requester_id, created_at);
CREATE INDEX conversations_by_status ON conversations (status, created_at);

-- Clustered on (conversation_id, seq): resuming a conversation is one range scan.
CREATE TABLE messages (
    conversation_id   TEXT NOT NULL REFERENCES conversations (id),
    seq               INTEGER NOT NULL CHECK (seq > 0),
    sender_kind       TEXT NOT NULL
                      CHECK (sender_kind IN ('requester', 'assistant', 'attendant', 'system')),
    sender_id         TEXT,
    body              TEXT NOT NULL,
    payload           TEXT CHECK (payload IS NULL OR json_valid(payload)),
    client_message_id TEXT,
    created_at        INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT, WITHOUT ROWID;

-- Idempotency: a client message id is stored at most once per conversation.
CREATE UNIQUE INDEX messages_by_client_id ON messages (conversation_id, client_message_id)
    WHERE client_message_id IS NOT NULL;

-- Keeps conversations.last_seq equal to the newest seq inside the inserting statement itself,
-- so an append is one atomic statement: no gap even if the transaction dies half-way.
CREATE TRIGGER messages_advance_last_seq AFTER INSERT ON messages
BEGIN
    UPDATE conversations
    SET last_seq = max(last_seq, NEW.seq), updated_at = NEW.created_at
    WHERE id = NEW.conversation_id;
END;

CREATE TABLE tickets (
    number          TEXT PRIMARY KEY NOT NULL,
    -- The counter value the number was made from; orders tickets.
    serial          INTEGER NOT NULL UNIQUE,
    requester_id    TEXT NOT NULL,
    activity_id     TEXT NOT NULL,
    contract        TEXT NOT NULL,
    group_name      TEXT NOT NULL,
    description     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'closed')),
    tags            TEXT NOT NULL DEFAULT '[]'
                    CHECK (json_valid(tags) AND json_type(tags) = 'array'),
    conversation_id TEXT REFERENCES conversations (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX tickets_by_requester ON tickets (requester_id, status, serial);

-- Named counters, bumped inside the transaction that uses the value: no gaps, no duplicates.
CREATE TABLE counters (
    name  TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) STRICT;

INSERT INTO counters (name, value) VALUES ('ticket', 0);

CREATE TABLE parameters (
    key        TEXT PRIMARY KEY NOT NULL,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
