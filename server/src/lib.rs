//! What both Superstar services need, written once: how a gRPC service is served, how
//! its data is stored, and how it calls another service.
//!
//! - [`serve`]: a tonic server behind Envoy. It reads its settings from the environment
//!   (failing at start on a value it cannot use), serves TLS only with a client
//!   certificate from the project CA ([`tls`]), carries health and reflection beside
//!   the service, watches every RPC in one tower layer (request id, span, metrics, one
//!   log line), counts what each client spends on models, turns NOT_SERVING and drains
//!   when asked to stop, and starts from a `main` of three lines. Requests are parsed
//!   into domain types that cannot be invalid; a field that breaks the contract is
//!   named back to the client the same way by both services.
//! - [`storage`]: SQLite or PostgreSQL through sqlx, migrated at start, and creates that
//!   carry a `request_id` made once however often they are retried.
//! - [`calls`]: the request id, deadline and trace passed on to a service it calls, and
//!   calls spread over that service's healthy replicas.
//! - [`offline`]: the deterministic random numbers of both services' offline
//!   generators, so the same request gives the same song and cover everywhere.
//!
//! The OpenAI client both services share is its own crate, `superstar-openai`.

pub mod calls;
pub mod offline;
pub mod serve;
pub mod storage;
pub mod tls;
