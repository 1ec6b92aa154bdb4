-- Sign-in state beyond the password hash (Cognito API, issue 11). A user
-- without a row is confirmed, has a permanent password and no SRP
-- verifier.
CREATE TABLE credentials (
    user_id            text COLLATE "C" PRIMARY KEY REFERENCES users (user_id),
    unconfirmed        boolean NOT NULL DEFAULT false,
    password_temporary boolean NOT NULL DEFAULT false,
    srp_salt           text,
    srp_verifier       text
);

CREATE TABLE verification_codes (
    user_id    text COLLATE "C" NOT NULL REFERENCES users (user_id),
    purpose    text NOT NULL,
    hash       text NOT NULL,
    expires_at timestamptz NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, purpose)
);

CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
