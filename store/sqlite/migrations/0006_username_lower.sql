-- Usernames are unique whatever their case (issue 18: "Ann" and "ann" were
-- two people). Usernames are ASCII, so SQLite's ASCII lower() is exact.
-- Accounts that already share a username but for case keep it for the
-- oldest one; each later one is renamed to its first 55 bytes + "-" + the
-- first 8 characters of its user id (still a valid username, at most 64
-- bytes). Such a user signs in by email, or by the new name.
UPDATE users SET username = substr(username, 1, 55) || '-' || substr(user_id, 1, 8)
WHERE EXISTS (
    SELECT 1 FROM users o
    WHERE lower(o.username) = lower(users.username)
      AND (o.created_at < users.created_at OR (o.created_at = users.created_at AND o.user_id < users.user_id))
);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
