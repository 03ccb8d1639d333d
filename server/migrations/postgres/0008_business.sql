-- The same schema as migrations/sqlite, in PostgreSQL's types.
-- Unusual transactions and the shopper's path.
--
-- `alert_rules` keeps the thresholds an admin changed (the defaults live in the code). An alert is
-- opened once per rule and subject while its condition holds: `open_key` (`<rule>:<subject>`) is
-- unique while the alert is open and cleared when the condition ends, so a condition that holds
-- makes no second alert. `alert_signals` keeps what no other table records: a keyed hash of the
-- address that created a session (never the address) and a provider's failure to start a payment.
-- `checkout_steps` counts the steps of the shopper's path the widget reports: one row per order,
-- step and wallet, nothing personal.

CREATE TABLE alert_rules (
    rule        TEXT PRIMARY KEY,
    threshold   BIGINT NOT NULL,
    window_secs BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE alerts (
    id              TEXT PRIMARY KEY,
    rule            TEXT NOT NULL,
    subject         TEXT NOT NULL,
    open_key        TEXT UNIQUE,
    observed        BIGINT NOT NULL,
    threshold       BIGINT NOT NULL,
    window_secs     BIGINT NOT NULL,
    session_id      TEXT,
    amount_minor    BIGINT,
    currency        TEXT,
    opened_at       BIGINT NOT NULL,
    ended_at        BIGINT,
    acknowledged_at BIGINT,
    acknowledged_by TEXT
);

CREATE INDEX alerts_by_acknowledged ON alerts (acknowledged_at, opened_at);

CREATE TABLE alert_signals (
    id      BIGSERIAL PRIMARY KEY,
    kind    TEXT NOT NULL,
    subject TEXT NOT NULL,
    at      BIGINT NOT NULL
);

CREATE INDEX alert_signals_by_kind ON alert_signals (kind, at);

CREATE TABLE checkout_steps (
    order_id  TEXT NOT NULL,
    step      TEXT NOT NULL CHECK (step IN ('shown', 'wallet_chosen')),
    wallet_id TEXT NOT NULL,
    device    TEXT NOT NULL CHECK (device IN ('desktop', 'mobile')),
    locale    TEXT NOT NULL,
    at        BIGINT NOT NULL,
    PRIMARY KEY (order_id, step, wallet_id)
);

CREATE INDEX checkout_steps_by_time ON checkout_steps (at);
