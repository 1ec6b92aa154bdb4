-- A user's choice to hide presence (isOnline, lastSeen) from everyone else
-- (issue 18).
ALTER TABLE users ADD COLUMN hide_presence boolean NOT NULL DEFAULT false;
