//! What both Superstar services do the same way, written once.
//!
//! A service is a tonic server behind Envoy. Each one:
//! - reads its settings from the environment ([`config`]);
//! - serves TLS only and insists on a client certificate from the project CA ([`tls`]);
//! - logs JSON lines that carry the request id Envoy assigned ([`telemetry`], [`observe`]);
//! - counts every RPC for Prometheus ([`metrics`]);
//! - keeps its data in SQLite or PostgreSQL through sqlx, migrated at start ([`db`]);
//! - turns its health NOT_SERVING and drains in-flight streams when asked to stop
//!   ([`shutdown`], [`host`]);
//! - passes the request id and the deadline on to the services it calls ([`call`]);
//! - starts from a `main` of three lines, which also answers container health probes
//!   ([`launch`]).
//!
//! The offline providers of both services draw from one deterministic generator
//! ([`seed`]), so the same request gives the same song and cover everywhere; the OpenAI
//! providers share one client, one retry loop within the request's deadline and one
//! mapping of the provider's failures to statuses ([`openai`]).
//!
//! The services themselves hold only their domain: parsing requests into types that
//! cannot be invalid ([`field`]), the providers that write and paint, and their stores.

pub mod call;
pub mod config;
pub mod db;
pub mod field;
pub mod host;
pub mod launch;
pub mod metrics;
pub mod observe;
pub mod openai;
pub mod seed;
pub mod shutdown;
pub mod telemetry;
pub mod tls;
