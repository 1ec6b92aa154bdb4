-- Live connections per user and node (presence across nodes).
CREATE TABLE connections (
    user_id     text NOT NULL,
    node_id     text NOT NULL,
    connections integer NOT NULL,
    seen_at     timestamptz NOT NULL,
    PRIMARY KEY (user_id, node_id)
);
CREATE INDEX connections_by_node ON connections (node_id);
