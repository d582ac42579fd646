//! How a Superstar gRPC service is served, written once for both services.
//!
//! A service is a tonic server behind Envoy. Each one:
//! - reads its settings from the environment (the `superstar-settings` crate), failing
//!   at start on a value it cannot use;
//! - serves TLS only and insists on a client certificate from the project CA ([`tls`]);
//! - carries its gRPC service beside health and reflection on one server
//!   ([`grpc_server`]);
//! - watches every RPC in one tower layer: request id, span, metrics, one log line
//!   ([`rpc_layer`]), logged as JSON lines ([`telemetry`]) and counted for Prometheus
//!   ([`metrics`]), with what each client spends on models ([`usage`]);
//! - keeps its data in SQLite or PostgreSQL through sqlx, migrated at start ([`db`]);
//! - turns its health NOT_SERVING and drains in-flight streams when asked to stop
//!   ([`shutdown`], [`grpc_server`]);
//! - makes creates that carry a `request_id` once, however often they are retried
//!   ([`idempotency`]);
//! - passes the request id and the deadline on to the services it calls
//!   ([`call_context`]), spreading its calls over their healthy replicas ([`balance`]);
//! - starts from a `main` of three lines, which also answers container health probes
//!   ([`entrypoint`]).
//!
//! Requests are parsed into domain types that cannot be invalid; a field that breaks
//! the contract is named back to the client the same way by both services
//! ([`request_fields`]). The offline providers of both services draw from one
//! deterministic generator ([`seed`]), so the same request gives the same song and
//! cover everywhere. The OpenAI client both services share is its own crate,
//! `superstar-openai`.

pub mod balance;
pub mod call_context;
pub mod db;
pub mod entrypoint;
pub mod grpc_server;
pub mod idempotency;
pub mod metrics;
pub mod request_fields;
pub mod rpc_layer;
pub mod seed;
pub mod shutdown;
pub mod telemetry;
pub mod tls;
pub mod usage;
