-- Failed staff sign-ins, counted in the store so that guessing is held back on every node
-- alike: one row per failure and key (the SHA-256 of a user name, or a client address),
-- forgotten once out of the counting window or when the user name signs in.
CREATE TABLE sign_in_failures (
    key   TEXT NOT NULL,
    at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX sign_in_failures_by_key ON sign_in_failures (key, at_ms);
