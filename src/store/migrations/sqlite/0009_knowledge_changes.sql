-- The knowledge change log: every article or activity written or deleted through a node, in
-- commit order, for the other nodes sharing this database to apply to their own sources and
-- index. `body` is the document as JSON for an upsert, empty for a delete. AUTOINCREMENT
-- never reuses a number, so a follower's "last applied" position stays meaningful.
CREATE TABLE knowledge_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms INTEGER NOT NULL,
    origin TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('article', 'activity')),
    doc_id TEXT NOT NULL,
    op TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    body TEXT NOT NULL
);
