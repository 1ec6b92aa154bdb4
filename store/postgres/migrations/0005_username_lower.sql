-- Usernames are unique whatever their case (issue 18: "Ann" and "ann" were
-- two people). Accounts that already share a username but for case keep it
-- for the oldest one; each later one is renamed to its first 55 characters
-- + "-" + the first 8 characters of its user id (still a valid username,
-- at most 64 bytes: usernames are ASCII). Such a user signs in by email,
-- or by the new name.
UPDATE users u SET username = left(u.username, 55) || '-' || left(u.user_id, 8)
WHERE EXISTS (
    SELECT 1 FROM users o
    WHERE lower(o.username) = lower(u.username)
      AND (o.created_at < u.created_at OR (o.created_at = u.created_at AND o.user_id < u.user_id))
);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
