-- Where a till stands: the merchant's locations (shops) and their counters (tills).
--
-- A location may carry WeChat Pay's shop number for scanned-code payments (`store_info.id`;
-- Alipay's `store_id`), a counter its device number (`device_id`; Alipay's `terminal_id`).
-- Names are unique within their scope (a counter's among the counters in use at its location), so
-- that nobody chooses between two tills of one name. A counter is retired, never deleted: the
-- sales made at it keep naming it.

CREATE TABLE locations (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    wechat_store_id TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE counters (
    id          TEXT PRIMARY KEY,
    location_id TEXT NOT NULL REFERENCES locations (id),
    name        TEXT NOT NULL,
    device_id   TEXT,
    retired_at  BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE UNIQUE INDEX counters_in_use_by_name ON counters (location_id, name) WHERE retired_at IS NULL;
