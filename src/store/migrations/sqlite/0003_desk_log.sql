-- The human desk's write-ahead log: every desk operation, in order, as JSON; and at most one
-- snapshot of the whole desk with the last operation it covers. The desk is rebuilt at start
-- from the snapshot plus the operations after it. AUTOINCREMENT keeps sequence numbers from
-- being reused after the covered operations are dropped.
CREATE TABLE desk_ops (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    op TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE desk_snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    state TEXT NOT NULL,
    through INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
