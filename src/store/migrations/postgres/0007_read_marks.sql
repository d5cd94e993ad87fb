-- Read marks: how far each side of a conversation has read it, as the seq of the last message
-- that side has seen (0: nothing yet). One row per conversation, written the first time a side
-- reads; a position only moves forward (GREATEST in the upsert, so two nodes marking at once
-- keep the furthest) and never past the conversation's last_seq (checked in the transaction).
CREATE TABLE conversation_reads (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id),
    requester_seq   BIGINT NOT NULL DEFAULT 0 CHECK (requester_seq >= 0),
    attendant_seq   BIGINT NOT NULL DEFAULT 0 CHECK (attendant_seq >= 0),
    updated_at      BIGINT NOT NULL
);
