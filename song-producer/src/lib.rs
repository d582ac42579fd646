//! The song producer: writes lyrics and makes albums.
//!
//! Requests are parsed into [`domain`] types first. A [`Lyricist`](lyricist::Lyricist)
//! (OpenAI's chat completions, or the offline lyricist when there is no key) writes
//! each song as a stream of text; the [`Studio`](studio::Studio) turns takes into
//! stored songs and albums, asking the cover designer for covers through the
//! [`CoverClient`](cover_client::CoverClient); the [`SongStore`](store::SongStore)
//! keeps them. [`service`] holds the thin gRPC handlers.
//!
//! Everything a service needs besides its domain (TLS, health, reflection, metrics,
//! logs, shutdown) comes from `superstar-server`.

pub mod budget;
pub mod configuration;
pub mod cover_client;
pub mod domain;
pub mod error;
pub mod lyricist;
pub mod page_token;
pub mod service;
pub mod startup;
pub mod store;
pub mod studio;
