-- A key revoked by an emergency rotation (one that may have leaked): unpublished at once, and every token it
-- signed refused, whatever its time; Unix seconds, NULL for a key that was never revoked.
ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT;
