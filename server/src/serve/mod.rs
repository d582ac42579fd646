//! Serving a gRPC service: the host ([`host`]) with its tower layer around every RPC
//! ([`rpc_layer`]), JSON logs and traces ([`telemetry`]), Prometheus metrics
//! ([`metrics`]) with each client's model spend ([`usage`]), graceful stop
//! ([`shutdown`]), request fields named in errors ([`request_fields`]), who may call
//! what ([`trust`]), each client's share of open streams ([`client_share`]), and
//! `main` ([`entrypoint`]).

pub mod client_share;
pub mod entrypoint;
pub mod host;
pub mod metrics;
pub mod request_fields;
pub mod rpc_layer;
pub mod shutdown;
pub mod telemetry;
pub mod trust;
pub mod usage;
