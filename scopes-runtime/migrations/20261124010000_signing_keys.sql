-- The asymmetric keys an issuer signs tokens with, shared by every replica. A key is published from the
-- start, signs from `activates_at` until `superseded_at` (the next key's `activates_at`), then its private
-- half is erased and its public half stays published until every token it signed has expired. The newest
-- key is the one row without `superseded_at`. Times are Unix seconds.
CREATE TABLE signing_keys (
    kid           TEXT PRIMARY KEY,
    algorithm     TEXT NOT NULL,
    -- PKCS#8 DER, base64; NULL once superseded.
    private_key   TEXT,
    -- The public JWK, as published.
    public_jwk    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    activates_at  BIGINT NOT NULL,
    superseded_at BIGINT
);

-- At most one newest key, however many replicas start (or rotate) at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((superseded_at IS NULL)) WHERE superseded_at IS NULL;
