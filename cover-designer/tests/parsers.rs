//! The cover designer's parsers of client input, given arbitrary input: they never
//! panic, and a refusal is `INVALID_ARGUMENT` naming the field.

use cover_designer::{domain::CoverBrief, error::Error};
use proptest::prelude::*;
use superstar_proto::v1::DesignCoverRequest;
use superstar_server::{
    calls::call_context::parse_grpc_timeout, serve::request_fields::resource_id,
};
use tonic::{Code, Status};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,80}", ".{0,1200}", "[ \\t\\n]{0,5}"]
}

proptest! {
    #[test]
    fn cover_requests(description in text(), title in text(), genre in text()) {
        if let Err(refused) = CoverBrief::parse(DesignCoverRequest { description, title, genre, ..Default::default() }) {
            let status = Status::from(Error::from(refused));
            prop_assert_eq!(status.code(), Code::InvalidArgument);
            prop_assert!(
                ["description: ", "title: ", "genre: "].iter().any(|field| status.message().starts_with(field)),
                "{}", status.message()
            );
        }
    }

    #[test]
    fn cover_ids(id in prop_oneof![".{0,60}", "[0-9a-f-]{36}"]) {
        if let Err(refused) = resource_id("id", &id) {
            let status = Status::from(Error::from(refused));
            prop_assert_eq!(status.code(), Code::InvalidArgument);
            prop_assert!(status.message().starts_with("id: "));
        }
    }

    /// `grpc-timeout` comes from the client too; a value it cannot read is no deadline.
    #[test]
    fn grpc_timeouts(value in prop_oneof![".{0,12}", "[0-9]{0,10}[HMSmun]"]) {
        if let Some(timeout) = parse_grpc_timeout(&value) {
            prop_assert!(value.len() <= 9, "{value:?} read as {timeout:?}");
        }
    }
}
