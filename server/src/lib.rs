//! The wallet-checkout reference backend: the widget-facing contract (`/api/checkout`), a sandbox
//! wallet with its pay pages, a demo store, and the built widget's static files.

pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod console;
pub mod db;
pub mod domain;
pub mod egress;
pub mod embed;
pub mod error;
pub mod html;
pub mod providers;
pub mod pseudonym;
pub mod public_url;
pub mod rate_limit;
pub mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod vault;
pub mod webhooks;
