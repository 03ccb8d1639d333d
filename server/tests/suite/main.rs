//! The server's black-box suite, one test binary: a real server on port 0 with a fresh database
//! (SQLite, or PostgreSQL when `WC_TEST_POSTGRES` names a server: `make test` runs the suite on
//! both), talked to over real HTTP. `helpers` starts servers, mocks and clients; each module is
//! one area of the server. Tests that can only mean something on one database live in an
//! `on_sqlite` or `on_postgres` module, and `make test` skips them on the other (they are then
//! reported as filtered out, never as passed).

mod helpers;

mod api;
mod architecture;
mod console;
mod console_backups;
mod console_business;
mod console_counters;
mod console_daily;
mod console_golive;
mod console_setup;
mod hardening;
mod merchant;
mod openapi;
mod persistence;
mod processes;
mod provider_alipay;
mod provider_alipay_barcode;
mod provider_paypal;
mod provider_wechat_pay;
mod provider_wechat_pay_codepay;
mod providers;
mod realtime;
mod refunds;
mod sandbox;
mod webhooks;
