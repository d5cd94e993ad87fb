-- Staff who sign in with a user name and password (see the SQLite migration 0012).
CREATE TABLE staff_accounts (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    -- A JSON array of strings.
    groups        TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE staff_sessions (
    id         TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    username   TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX staff_sessions_by_username ON staff_sessions (username);
