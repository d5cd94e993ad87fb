-- no-transaction
-- A conversation can now be `bridged`: handed to an external chat service, which serves it
-- instead of Ponte's desk. SQLite cannot alter a CHECK constraint, so the conversations table
-- is rebuilt (the documented "twelve steps" of ALTER TABLE): create the new table, copy every
-- row, drop the old one, rename, then recreate its indexes and the trigger of `messages` that
-- advances `last_seq`. `messages` and `tickets` reference conversations, so foreign keys are
-- off while the table is away (the pragma is a no-op inside a transaction, hence no sqlx
-- transaction around this file); the ids are copied as they are, so every reference still
-- points at its row afterwards.
PRAGMA foreign_keys = OFF;

BEGIN IMMEDIATE;

-- The trigger names conversations in its body: renaming the new table over a dropped one
-- would fail while it exists, so it goes first and comes back last.
DROP TRIGGER messages_advance_last_seq;

-- Same columns as 0001, with `bridged` allowed in status.
CREATE TABLE conversations_rebuilt (
    id            TEXT PRIMARY KEY NOT NULL,
    channel       TEXT NOT NULL,
    requester_id  TEXT NOT NULL,
    language      TEXT NOT NULL,
    status        TEXT NOT NULL
                  CHECK (status IN ('bot', 'queued', 'chat', 'finished', 'bridged')),
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

INSERT INTO conversations_rebuilt (id, channel, requester_id, language, status, queue_group,
    ticket_number, machine_state, version, last_seq, created_at, updated_at)
SELECT id, channel, requester_id, language, status, queue_group,
    ticket_number, machine_state, version, last_seq, created_at, updated_at
FROM conversations;

DROP TABLE conversations;
ALTER TABLE conversations_rebuilt RENAME TO conversations;

CREATE INDEX conversations_by_requester ON conversations (requester_id, created_at);
CREATE INDEX conversations_by_status ON conversations (status, created_at);

-- As in 0001: keeps conversations.last_seq equal to the newest seq inside the inserting
-- statement itself, so an append is one atomic statement.
CREATE TRIGGER messages_advance_last_seq AFTER INSERT ON messages
BEGIN
    UPDATE conversations
    SET last_seq = max(last_seq, NEW.seq), updated_at = NEW.created_at
    WHERE id = NEW.conversation_id;
END;

COMMIT;

PRAGMA foreign_keys = ON;
