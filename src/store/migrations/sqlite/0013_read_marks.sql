-- Read marks: how far each side of a conversation has read it, as the seq of the last message
-- that side has seen (0: nothing yet). One row per conversation, written the first time a side
-- reads; a position only moves forward and never past the conversation's last_seq (the store
-- checks both in the writer's transaction).
CREATE TABLE conversation_reads (
    conversation_id TEXT PRIMARY KEY NOT NULL REFERENCES conversations (id),
    requester_seq   INTEGER NOT NULL DEFAULT 0 CHECK (requester_seq >= 0),
    attendant_seq   INTEGER NOT NULL DEFAULT 0 CHECK (attendant_seq >= 0),
    updated_at      INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
