-- Sign-in state beyond the password hash (Cognito API, issue 11). A user
-- without a row is confirmed, has a permanent password and no SRP
-- verifier. Times are Unix milliseconds (UTC).
CREATE TABLE credentials (
    user_id            TEXT PRIMARY KEY REFERENCES users (user_id),
    unconfirmed        INTEGER NOT NULL DEFAULT 0,
    password_temporary INTEGER NOT NULL DEFAULT 0,
    srp_salt           TEXT,
    srp_verifier       TEXT
) WITHOUT ROWID;

CREATE TABLE verification_codes (
    user_id    TEXT NOT NULL REFERENCES users (user_id),
    purpose    TEXT NOT NULL,
    hash       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, purpose)
) WITHOUT ROWID;

CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
