-- Real wallet providers: each session keeps its provider's references in columns of their own,
-- when the money moved, and when the provider is to be asked next about a notification that has
-- not come. Notifications are remembered (a repeat changes nothing), refunds have their own
-- records, and the sandbox wallet keeps its side of each payment as a real wallet would.

ALTER TABLE sessions ADD COLUMN provider TEXT;
ALTER TABLE sessions ADD COLUMN provider_order_id TEXT;
ALTER TABLE sessions ADD COLUMN provider_transaction_id TEXT;
ALTER TABLE sessions ADD COLUMN provider_capture_id TEXT;
ALTER TABLE sessions ADD COLUMN paid_at INTEGER;
ALTER TABLE sessions ADD COLUMN next_check_at INTEGER;
ALTER TABLE sessions ADD COLUMN check_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN refunded_minor INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET provider = 'sandbox', provider_order_id = provider_reference WHERE provider_reference IS NOT NULL;
UPDATE sessions SET paid_at = updated_at WHERE status = 'succeeded';
CREATE INDEX sessions_to_check ON sessions (status, next_check_at);

CREATE TABLE provider_notifications (
    provider        TEXT NOT NULL,
    notification_id TEXT NOT NULL,
    received_at     INTEGER NOT NULL,
    subject         TEXT,
    PRIMARY KEY (provider, notification_id)
);

CREATE TABLE refunds (
    id                 TEXT PRIMARY KEY,
    order_id           TEXT NOT NULL REFERENCES orders (id),
    session_id         TEXT NOT NULL REFERENCES sessions (id),
    amount_minor       INTEGER NOT NULL CHECK (amount_minor > 0),
    currency           TEXT NOT NULL,
    reason             TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_refund_id TEXT,
    failure_reason     TEXT,
    idempotency_key    TEXT UNIQUE,
    request_hash       TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    next_check_at      INTEGER
);

CREATE INDEX refunds_by_session ON refunds (session_id);
CREATE INDEX refunds_to_check ON refunds (status, next_check_at);
ALTER TABLE events ADD COLUMN refund_id TEXT;

CREATE TABLE sandbox_payments (
    session_id   TEXT PRIMARY KEY,
    trade_no     TEXT NOT NULL UNIQUE,
    amount_minor INTEGER NOT NULL,
    currency     TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'paid', 'declined', 'closed')),
    script       TEXT,
    due_at       INTEGER,
    expires_at   INTEGER NOT NULL,
    refunded     INTEGER NOT NULL DEFAULT 0,
    updated_at   INTEGER NOT NULL
);
