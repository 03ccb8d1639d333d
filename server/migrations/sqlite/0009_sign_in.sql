-- The console's door.
--
-- `sign_in_attempts` counts failed sign-ins per e-mail address, whether or not an account has it
-- (the subject is a keyed hash of the address, never the address), so that the lockout is one
-- rule per account whatever the client addresses, and answers alike for addresses nobody has.
-- A row changes only compare-and-set on `version`: counting an attempt and deciding on it is one
-- atomic step however many sign-ins race.
--
-- A staff member's one-time password must be changed at the first sign-in
-- (`password_must_change`); a TOTP secret being enrolled waits in `totp_pending` until a code
-- proves it, leaving the factor in force untouched; `totp_last_step` is the last 30-second step
-- whose code was accepted (RFC 6238 §5.2: no code is accepted twice).
--
-- The webhook endpoint's URL may carry credentials: the full URL is sealed (`url_sealed`) and
-- `url` keeps only what may be shown; its signing secret is sealed too.

CREATE TABLE sign_in_attempts (
    subject      TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    locked_until INTEGER,
    last_at      INTEGER NOT NULL,
    version      INTEGER NOT NULL
);

ALTER TABLE staff DROP COLUMN failed_logins;
ALTER TABLE staff DROP COLUMN locked_until;
ALTER TABLE staff ADD COLUMN password_must_change INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN totp_pending TEXT;
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER;

ALTER TABLE webhook_endpoints ADD COLUMN url_sealed TEXT;
