-- The knowledge change log: every article or activity written or deleted through a node, in
-- commit order, for the other nodes sharing this database to apply to their own sources and
-- index. Numbers come from the locked `knowledge` counter row, so they become visible in
-- order. `body` is the document as JSON for an upsert, empty for a delete.
CREATE TABLE knowledge_changes (
    seq    BIGINT PRIMARY KEY,
    at_ms  BIGINT NOT NULL,
    origin TEXT NOT NULL,
    kind   TEXT NOT NULL CHECK (kind IN ('article', 'activity')),
    doc_id TEXT NOT NULL,
    op     TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
    body   TEXT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('knowledge', 0) ON CONFLICT (name) DO NOTHING;
