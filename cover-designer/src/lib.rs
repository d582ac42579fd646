//! The cover designer: paints album covers and keeps them.
//!
//! `DesignCover` parses the request into a [`CoverBrief`](domain::CoverBrief), hands
//! it to a [`Painter`](painter::Painter) (OpenAI's images API, or the offline painter
//! when there is no key), and stores the PNG with its details in the
//! [`CoverStore`](store::CoverStore). `GetCover` returns the details and
//! `GetCoverImage` the image itself, which Envoy serves as `image/png`.
//!
//! Everything a service needs besides its domain (TLS, health, reflection, metrics,
//! logs, shutdown) comes from `superstar-server`.

pub mod configuration;
pub mod domain;
pub mod error;
pub mod painter;
pub mod service;
pub mod startup;
pub mod store;
