-- Refresh tokens (RFC 6749 §6), stored by the SHA-256 of the opaque token, never the token. A login starts a
-- family; each use rotates it (the used token is marked, a new one is added); reusing a used token revokes
-- the whole family (OAuth 2.0 Security BCP). Times are Unix seconds. A user's tokens go with the user.
CREATE TABLE refresh_tokens (
    token_hash        TEXT PRIMARY KEY,
    family            TEXT NOT NULL,
    username          TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    -- The scopes granted at login, space-separated: every token of the family has the same.
    scopes            TEXT NOT NULL,
    issued_at         BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL,
    family_expires_at BIGINT NOT NULL,
    used_at           BIGINT,
    revoked_at        BIGINT
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family);
CREATE INDEX refresh_tokens_username ON refresh_tokens (username);
CREATE INDEX refresh_tokens_family_expires_at ON refresh_tokens (family_expires_at);
