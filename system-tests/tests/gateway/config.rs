//! What the gateway and the services must agree on.

use super::*;

/// What Envoy lets through in a JSON body fits what the services accept (a body Envoy
/// passes is never refused for its size behind it; JSON bodies are held to 64 KiB, gRPC
/// messages to the services' own limit), and what it assembles from a response is what
/// they send.
#[test]
fn the_gateway_and_the_services_agree_on_message_sizes() {
    use superstar_server::serve::host::{MAX_REQUEST_MESSAGE_BYTES, MAX_RESPONSE_MESSAGE_BYTES};
    let config = rendered_gateway();
    let transcoder = connection_manager(&config)["http_filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|filter| filter["name"] == "envoy.filters.http.grpc_json_transcoder")
        .unwrap();
    let size = |field: &str| transcoder["typed_config"][field].as_u64().unwrap() as usize;
    assert!(size("max_request_body_size") <= MAX_REQUEST_MESSAGE_BYTES);
    assert_eq!(size("max_response_body_size"), MAX_RESPONSE_MESSAGE_BYTES);
}
