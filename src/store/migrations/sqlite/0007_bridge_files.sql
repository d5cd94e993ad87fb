-- Files that cross a bridge: a requester's upload in a chat handed to an external desk (sent
-- to it as a signed download link) and an agent's attachment fetched from the desk's allowed
-- host (shown to the requester). The bytes live beside the desk's attachments, under the
-- same server-made hex id; this row says whose they are. Timestamps are unix milliseconds.
CREATE TABLE bridge_files (
    id              TEXT PRIMARY KEY NOT NULL,
    conversation_id TEXT NOT NULL,
    bridge_id       TEXT NOT NULL,
    -- Who sent it: the requester, or the external desk's agent.
    origin          TEXT NOT NULL CHECK (origin IN ('requester', 'agent')),
    file_name       TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    -- image, video, audio or file (the upload rules' kinds).
    kind            TEXT NOT NULL,
    size            INTEGER NOT NULL CHECK (size > 0),
    -- Where an agent's file was fetched from.
    source_url      TEXT,
    created_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX bridge_files_by_conversation ON bridge_files (conversation_id);
