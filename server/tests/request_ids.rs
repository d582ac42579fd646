//! Request ids and fingerprints, as a create reads them from its request.

use proptest::prelude::*;

use superstar_server::storage::idempotency::*;

#[test]
fn request_ids_are_hyphenated_uuids_or_absent() {
    let id = "0b6c1d6e-3a6f-4c8e-9f41-2d3c6f0e8a11";
    let parsed = RequestId::parse(id).unwrap().unwrap();
    assert_eq!(RequestId::parse(&id.to_uppercase()).unwrap(), Some(parsed));
    // The one spelling the OpenAPI document's pattern allows.
    for other in [format!(" {id} "), id.replace('-', ""), format!("{{{id}}}")] {
        assert_eq!(RequestId::parse(&other).unwrap_err().field, "request_id");
    }
    assert_eq!(parsed.to_field(), id);
    assert_eq!(RequestId::parse("").unwrap(), None);
    assert_eq!(RequestId::parse("retry-1").unwrap_err().field, "request_id");
}

#[test]
fn a_key_is_taken_out_of_its_request() {
    let id = "0b6c1d6e-3a6f-4c8e-9f41-2d3c6f0e8a11";
    let request = |request_id: &str| superstar_proto::v1::DesignCoverRequest {
        description: "a neon skyline".into(),
        request_id: request_id.into(),
        ..Default::default()
    };
    let take = |mut request: superstar_proto::v1::DesignCoverRequest| {
        let key = RequestKey::take("DesignCover", &mut request, |request| {
            &mut request.request_id
        });
        (key, request)
    };
    let (key, left) = take(request(id));
    let key = key.unwrap().expect("a key");
    assert!(left.request_id.is_empty(), "the id is taken out");
    // Another spelling of the same id, the same request: the same key.
    assert_eq!(take(request(&id.to_uppercase())).0.unwrap(), Some(key));
    assert_eq!(take(request("")).0.unwrap(), None);
    assert_eq!(take(request("x")).0.unwrap_err().field, "request_id");
}

#[test]
fn fingerprints_tell_requests_apart() {
    let request = |theme: &str| prost_types::Duration {
        seconds: theme.len() as i64,
        nanos: 0,
    };
    let a = Fingerprint::of("MakeMeSuperstar", [&request("rain")]);
    assert_eq!(a, Fingerprint::of("MakeMeSuperstar", [&request("rain")]));
    assert_ne!(
        a,
        Fingerprint::of("MakeMeSuperstar", [&request("sunshine")])
    );
    assert_ne!(a, Fingerprint::of("CompileAlbum", [&request("rain")]));
    // Two messages are not one: the encoding is length-prefixed.
    assert_ne!(
        Fingerprint::of("CompileAlbum", [&request("rain"), &request("rain")]),
        a
    );
}

proptest! {
    /// Whatever a client sends as `request_id`, the answer is an id, none, or a
    /// refusal that names the field.
    #[test]
    fn any_text_parses_or_is_refused_by_name(text in ".{0,60}") {
        if let Err(refused) = RequestId::parse(&text) {
            prop_assert_eq!(refused.field, "request_id");
        }
    }
}
