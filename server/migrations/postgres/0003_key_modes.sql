-- A key works only in the mode it was made for: test keys (`sk_test_`) on a test-mode server,
-- live keys (`sk_live_`) on a live one, even when both share a database.

ALTER TABLE api_keys ADD COLUMN livemode BIGINT NOT NULL DEFAULT 0;
UPDATE api_keys SET livemode = 1 WHERE prefix LIKE 'sk_live_%';
