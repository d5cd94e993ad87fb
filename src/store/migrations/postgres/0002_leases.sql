-- Leases: which node runs a piece of work that must run on one node at a time (the lost-chat
-- timer, the start-up resume, the bridge's dispatcher, ...). A row is held by `holder` until
-- `expires_at_ms` (unix milliseconds); the holder renews it well before then, another node
-- takes it over only after it. Releasing deletes the row.
CREATE TABLE leases (
    name          TEXT PRIMARY KEY,
    holder        TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
