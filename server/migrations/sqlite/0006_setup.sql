-- The console's guided setup: wallet providers' credentials entered in the browser. Each value is
-- sealed with the server's secrets key (AES-256-GCM; the key never enters the database) and never
-- shown again: only a fingerprint (the first 16 hex digits of its SHA-256) and who set it when.
CREATE TABLE provider_credentials (
    provider    TEXT NOT NULL,
    field       TEXT NOT NULL,
    ciphertext  TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    set_at      INTEGER NOT NULL,
    set_by      TEXT NOT NULL,
    PRIMARY KEY (provider, field)
);
