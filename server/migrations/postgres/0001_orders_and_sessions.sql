-- Orders, payment sessions and each session's status history. Times are Unix milliseconds.
-- The same schema as migrations/sqlite, in PostgreSQL's types.

CREATE TABLE orders (
    id              TEXT PRIMARY KEY,
    description     TEXT NOT NULL,
    amount_minor    BIGINT NOT NULL CHECK (amount_minor > 0),
    currency        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('open', 'paid', 'canceled')),
    paid_session_id TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE sessions (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    wallet_id          TEXT NOT NULL,
    status             TEXT NOT NULL,
    amount_minor       BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    return_url         TEXT NOT NULL,
    device             TEXT NOT NULL,
    idempotency_key    TEXT NOT NULL UNIQUE,
    request_hash       TEXT NOT NULL,
    action_type        TEXT,
    action_value       TEXT,
    provider_reference TEXT,
    flag               TEXT,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);

CREATE INDEX sessions_by_order ON sessions (order_id);
CREATE INDEX sessions_by_status_expiry ON sessions (status, expires_at);

CREATE TABLE session_events (
    id          BIGSERIAL PRIMARY KEY,
    session_id  TEXT NOT NULL REFERENCES sessions (id),
    from_status TEXT,
    to_status   TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          BIGINT NOT NULL
);

CREATE INDEX session_events_by_session ON session_events (session_id, id);
