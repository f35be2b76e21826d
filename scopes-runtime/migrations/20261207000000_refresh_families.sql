-- Refresh-token families, one row each, replacing one row per token. A refresh token is 32 random bytes: the
-- first 16 are its family's id, the same in every token rotated from one login, so a presented token names
-- its family whether or not it is the current one. The row keeps the hash of the family id and of the one
-- current token: a token of the family that is not the current one is a reuse, and revokes the family.
--
-- Rotation and revocation are both one UPDATE of this one row, which PostgreSQL locks until commit and
-- SQLite serialises: they are mutually exclusive, and a revoked family has no live token, ever (a token is
-- current only while its family's row says so). Storage per family is one row, however often it rotates.
CREATE TABLE refresh_families (
    -- SHA-256 (hex) of the family id.
    family_key         TEXT PRIMARY KEY,
    username           TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    -- The scopes granted at login, space-separated.
    scopes             TEXT NOT NULL,
    -- When the login started it, in Unix milliseconds: the order in which a user's oldest go beyond the cap.
    started_at_ms      BIGINT NOT NULL,
    -- The family's end, however often it is rotated.
    expires_at         BIGINT NOT NULL,
    -- SHA-256 (hex) of the current token, and when it expires unused.
    current_hash       TEXT NOT NULL UNIQUE,
    current_expires_at BIGINT NOT NULL,
    -- Rotations in the current minute: a family rotates a bounded number of times a minute.
    window_started_at  BIGINT NOT NULL DEFAULT 0,
    window_rotations   BIGINT NOT NULL DEFAULT 0,
    revoked_at         BIGINT
);

CREATE INDEX refresh_families_username ON refresh_families (username);
CREATE INDEX refresh_families_expires_at ON refresh_families (expires_at);
CREATE INDEX refresh_families_revoked_at ON refresh_families (revoked_at);

-- Live families carry over with their current token (their ids were not part of their tokens, so a reuse
-- of one of their used tokens is refused as unknown rather than detected); revoked and used-up ones end.
INSERT INTO refresh_families (family_key, username, scopes, started_at_ms, expires_at, current_hash, current_expires_at)
SELECT family, MIN(username), MIN(scopes), MIN(issued_at) * 1000, MIN(family_expires_at), MIN(token_hash), MIN(expires_at)
FROM refresh_tokens
WHERE used_at IS NULL AND revoked_at IS NULL
  AND family NOT IN (SELECT family FROM refresh_tokens WHERE revoked_at IS NOT NULL)
GROUP BY family;

DROP TABLE refresh_tokens;

-- Access tokens revoked before their expiry (RFC 7009), by `jti`, until they expire: every replica reloads
-- them. (Access tokens of revoked refresh families are refused by the family's `revoked_at`.)
CREATE TABLE revoked_access_tokens (
    jti        TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

CREATE INDEX revoked_access_tokens_expires_at ON revoked_access_tokens (expires_at);

-- When each account was created (Unix seconds): a token issued before it names an earlier account of the
-- same name, and is refused. Accounts made before this column count as made at the epoch.
ALTER TABLE accounts ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
