//! What a call carries on from the request that made it: id, deadline, client.

use std::time::Duration;

use superstar_server::calls::call_context::*;
use tonic::metadata::MetadataMap;

#[test]
fn the_deadline_is_grpc_timeout_else_envoys_route_timeout() {
    let within = |metadata: &MetadataMap, low: u64, high: u64| {
        let left = CallContext::from_metadata(metadata).remaining().unwrap();
        assert!(
            left > Duration::from_millis(low) && left <= Duration::from_millis(high),
            "{left:?}"
        );
    };
    let mut metadata = MetadataMap::new();
    assert!(CallContext::from_metadata(&metadata).deadline().is_none());
    metadata.insert(ENVOY_TIMEOUT, "15000".parse().unwrap());
    within(&metadata, 14_000, 15_000);
    // The caller's own deadline wins, shorter or longer.
    metadata.insert("grpc-timeout", "2S".parse().unwrap());
    within(&metadata, 1_000, 2_000);
    metadata.insert("grpc-timeout", "60S".parse().unwrap());
    within(&metadata, 59_000, 60_000);
    let mut garbled = MetadataMap::new();
    garbled.insert(ENVOY_TIMEOUT, "soon".parse().unwrap());
    assert!(CallContext::from_metadata(&garbled).deadline().is_none());
}

#[test]
fn grpc_timeouts_parse_in_every_unit() {
    assert_eq!(parse_grpc_timeout("2H"), Some(Duration::from_secs(7200)));
    assert_eq!(parse_grpc_timeout("3M"), Some(Duration::from_secs(180)));
    assert_eq!(parse_grpc_timeout("10S"), Some(Duration::from_secs(10)));
    assert_eq!(parse_grpc_timeout("250m"), Some(Duration::from_millis(250)));
    assert_eq!(parse_grpc_timeout("7u"), Some(Duration::from_micros(7)));
    assert_eq!(
        parse_grpc_timeout("99999999n"),
        Some(Duration::from_nanos(99_999_999))
    );
}

#[test]
fn malformed_timeouts_are_ignored() {
    for value in ["", "S", "10", "10s", "123456789S", "-1S", "1.5S"] {
        assert_eq!(parse_grpc_timeout(value), None, "{value:?}");
    }
}

#[test]
fn the_context_forwards_id_and_remaining_time() {
    let mut incoming = MetadataMap::new();
    incoming.insert(REQUEST_ID, "abc-123".parse().unwrap());
    incoming.insert("grpc-timeout", "5S".parse().unwrap());
    incoming.insert(CLIENT, "alice".parse().unwrap());
    let context = CallContext::from_metadata(&incoming);
    assert_eq!(context.request_id(), Some("abc-123"));

    let mut outgoing = tonic::Request::new(());
    context.apply(&mut outgoing);
    assert_eq!(outgoing.metadata().get(REQUEST_ID).unwrap(), "abc-123");
    assert_eq!(outgoing.metadata().get(CLIENT).unwrap(), "alice");
    let timeout = outgoing
        .metadata()
        .get("grpc-timeout")
        .unwrap()
        .to_str()
        .unwrap();
    let forwarded = parse_grpc_timeout(timeout).unwrap();
    assert!(forwarded <= Duration::from_secs(5) && forwarded > Duration::from_secs(4));
    assert_eq!(
        context.deadline().unwrap() - context.give_up_at().unwrap(),
        DEADLINE_MARGIN
    );
}
