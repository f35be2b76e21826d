-- A counter that every change of an account moves, in the transaction that makes it: each process that
-- keeps accounts in memory reads it a few times a second, and forgets what it kept when it moved.
CREATE TABLE account_changes (
    id      INTEGER PRIMARY KEY,
    version BIGINT NOT NULL
);

INSERT INTO account_changes (id, version) VALUES (1, 0);
