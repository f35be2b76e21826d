-- Keys are published ahead of their use: a key signs from `activates_at` until `superseded_at` (the next key's
-- `activates_at`), its private half erased after. Keys made before this column signed from their creation.
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT NOT NULL DEFAULT 0;
UPDATE signing_keys SET activates_at = created_at;
