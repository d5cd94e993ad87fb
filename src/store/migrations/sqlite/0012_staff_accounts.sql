-- Staff who sign in with a user name and password. `password_hash` is a PHC string
-- (Argon2id); the password itself is never stored. `role`, `subject` and `groups` are the
-- identity a session of the account carries, as on an issued token.
CREATE TABLE staff_accounts (
    username      TEXT PRIMARY KEY NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    subject       TEXT NOT NULL,
    groups        TEXT NOT NULL CHECK (json_valid(groups)),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
) STRICT;

-- A signed-in browser: the SHA-256 of the session cookie's secret, never the secret. A
-- session always expires; deleting its account or changing its password deletes it.
CREATE TABLE staff_sessions (
    id         TEXT PRIMARY KEY NOT NULL,
    sha256     TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    username   TEXT NOT NULL REFERENCES staff_accounts (username) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX staff_sessions_by_username ON staff_sessions (username);
