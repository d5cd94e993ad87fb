-- An idempotency key for ticket creation: the conversation and the machine's request
-- number, so a creation re-issued after a restart returns the ticket already made.
ALTER TABLE tickets ADD COLUMN request_key TEXT;
CREATE UNIQUE INDEX tickets_by_request_key ON tickets (request_key) WHERE request_key IS NOT NULL;
