-- The asymmetric keys an issuer signs tokens with, shared by every replica. The current key (the one row
-- without `superseded_at`) signs; a superseded key's private half is erased at once, and its public half is
-- published until every token it signed has expired. Times are Unix seconds.
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    algorithm     TEXT NOT NULL,
    -- PKCS#8 DER, base64; NULL once superseded.
    private_key   TEXT,
    -- The public JWK, as published.
    public_jwk    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    superseded_at BIGINT
);

-- At most one current key, however many replicas start (or rotate) at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((superseded_at IS NULL)) WHERE superseded_at IS NULL;
