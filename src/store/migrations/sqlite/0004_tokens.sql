-- Bearer tokens issued through the API. Only the SHA-256 of a token is kept (64 lowercase hex
-- digits); `id` is a stable, non-secret name to list and revoke it by. Revoking deletes the
-- row. `expires_at` (unix milliseconds) is absent for a token that does not expire.
CREATE TABLE api_tokens (
    id         TEXT PRIMARY KEY NOT NULL,
    sha256     TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    role       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    groups     TEXT NOT NULL CHECK (json_valid(groups)),
    created_at INTEGER NOT NULL,
    expires_at INTEGER
) STRICT;
