//! The `superstar.v1` contract, generated from `proto/` at build time.
//!
//! Both services, their tests and the gateway tooling depend on this crate alone for
//! the wire types, so the `.proto` files stay the single source of truth.

#![allow(missing_docs, clippy::all)] // generated code carries the proto comments instead

#[cfg(feature = "grpc")]
/// The `superstar` package family; its modules mirror the proto packages so that
/// generated code can refer to `google.api` types by relative path.
pub mod superstar {
    /// `superstar.v1`: songs, albums, covers and the two services.
    pub mod v1 {
        tonic::include_proto!("superstar.v1");
    }
}

#[cfg(feature = "grpc")]
pub use superstar::v1;

#[cfg(feature = "grpc")]
/// The few googleapis types the contract uses (`google.api.HttpBody`, HTTP rules).
pub mod google {
    /// `google.api`.
    pub mod api {
        tonic::include_proto!("google.api");
    }
}

#[cfg(feature = "grpc")]
pub mod errors;

/// The encoded FileDescriptorSet of every `superstar.v1` file and its imports, with
/// source info and the `google.api.http` options intact. Reflection serves it and
/// Envoy's gRPC-JSON transcoder reads it.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/superstar.bin"));

/// The fully qualified name of the song producer service.
pub const SONG_PRODUCER: &str = "superstar.v1.SongProducer";

/// The fully qualified name of the cover designer service.
pub const COVER_DESIGNER: &str = "superstar.v1.CoverDesigner";

/// The fully qualified name of the cover designer's internal service, which the
/// gateway does not route.
pub const COVER_DESIGNER_INTERNAL: &str = "superstar.v1.CoverDesignerInternal";
