//! Storing a service's data: the database ([`db`]) and the request ids that make a
//! retried create happen once ([`idempotency`]).

pub mod db;
pub mod idempotency;
