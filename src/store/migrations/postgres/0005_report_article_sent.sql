-- The first article an attendant sent in a conversation (its portal address pasted into the
-- chat): what finally answered a knowledge gap's requester. Merged like the other "when it
-- first happened" columns.
ALTER TABLE report_conversations ADD COLUMN article_sent TEXT;
