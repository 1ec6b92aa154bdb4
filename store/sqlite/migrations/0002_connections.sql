-- Live connections per user and node (presence across nodes).
CREATE TABLE connections (
    user_id     TEXT NOT NULL,
    node_id     TEXT NOT NULL,
    connections INTEGER NOT NULL,
    seen_at     INTEGER NOT NULL,
    PRIMARY KEY (user_id, node_id)
) WITHOUT ROWID;
CREATE INDEX connections_by_node ON connections (node_id);
