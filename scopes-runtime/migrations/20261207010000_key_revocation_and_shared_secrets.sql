-- A key revoked by an emergency rotation (one that may have leaked): unpublished at once, and every token it
-- signed refused, whatever its time; Unix seconds, NULL for a key that was never revoked.
ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT;

-- Secrets every replica shares, made at first use (32 random bytes, base64): the login throttle keys its
-- Redis key names with one, so a copy of Redis does not tell whose counts they are.
CREATE TABLE shared_secrets (
    name   TEXT PRIMARY KEY,
    secret TEXT NOT NULL
);
