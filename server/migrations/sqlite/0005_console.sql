-- The merchant's console: staff accounts of their own (argon2 password hashes, an optional TOTP
-- second factor kept encrypted, lockout after repeated failures), their sessions (only a digest
-- of the cookie is stored), and console settings (where setup stopped, the go-live switch, ...).

CREATE TABLE staff (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    name            TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    password_hash   TEXT NOT NULL,
    totp_secret     TEXT,
    totp_enabled    INTEGER NOT NULL DEFAULT 0,
    locale          TEXT NOT NULL DEFAULT 'en',
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    INTEGER,
    disabled_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    last_login_at   INTEGER
);

CREATE TABLE staff_sessions (
    token_hash   TEXT PRIMARY KEY,
    staff_id     TEXT NOT NULL REFERENCES staff (id),
    csrf_token   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);

CREATE INDEX staff_sessions_by_staff ON staff_sessions (staff_id);

CREATE TABLE console_settings (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Backups the server took (or saw restored): when, where, how big, their checksum.
CREATE TABLE backups (
    id          TEXT PRIMARY KEY,
    taken_at    INTEGER NOT NULL,
    path        TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    sha256      TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('manual', 'scheduled'))
);

-- What each wallet provider charges this merchant, as the merchant recorded it: a rate per
-- transaction (in hundredths of a percent), a fixed fee per transaction, a monthly fee and a
-- withdrawal fee (minor units of `currency`).
CREATE TABLE provider_terms (
    provider         TEXT PRIMARY KEY,
    rate_bp          INTEGER NOT NULL DEFAULT 0,
    fixed_minor      INTEGER NOT NULL DEFAULT 0,
    monthly_minor    INTEGER NOT NULL DEFAULT 0,
    withdrawal_minor INTEGER NOT NULL DEFAULT 0,
    currency         TEXT NOT NULL,
    updated_at       INTEGER NOT NULL
);
