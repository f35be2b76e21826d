-- The accounts of scopes-runtime's SqlStore. One schema for SQLite and PostgreSQL: only types and clauses
-- both read the same way.
CREATE TABLE accounts (
    username      TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    full_name     TEXT,
    email         TEXT
);

-- The scopes each user may be granted, one row each, so that granting and revoking are single statements
-- that concurrent writers cannot interleave into a lost update.
CREATE TABLE account_scopes (
    username TEXT NOT NULL REFERENCES accounts (username) ON DELETE CASCADE,
    scope    TEXT NOT NULL,
    PRIMARY KEY (username, scope)
);
