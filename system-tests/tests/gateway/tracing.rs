//! One trace per request, across Envoy, both services and the models: `bin/up` with
//! `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at an OTLP receiver in this test, one album
//! made through Envoy under a `traceparent` of the test's own, and every span of that
//! trace checked: who sent it and whose child it is. The trace id is also in the
//! services' log lines for the request.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use opentelemetry_proto::tonic::{
    collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
        trace_service_server::{TraceService, TraceServiceServer},
    },
    common::v1::any_value::Value as AnyValue,
};

use super::up::{KEY, Up, curl};

/// A span as received: the service that sent it, and its ids in hex.
#[derive(Debug, Clone)]
struct Received {
    service: String,
    name: String,
    trace_id: String,
    span_id: String,
    parent: String,
}

#[derive(Clone, Default)]
struct Receiver {
    spans: Arc<Mutex<Vec<Received>>>,
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        let mut spans = self.spans.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .iter()
                .flat_map(|resource| &resource.attributes)
                .find(|attribute| attribute.key == "service.name")
                .and_then(
                    |attribute| match attribute.value.as_ref()?.value.as_ref()? {
                        AnyValue::StringValue(name) => Some(name.clone()),
                        _ => None,
                    },
                )
                .unwrap_or_default();
            for span in resource_spans
                .scope_spans
                .into_iter()
                .flat_map(|scope| scope.spans)
            {
                spans.push(Received {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent: hex(&span.parent_span_id),
                });
            }
        }
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[test]
#[ignore = "needs Envoy and release binaries: bin/test runs this"]
fn one_album_is_one_trace_across_envoy_both_services_and_the_models() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let receiver = Receiver::default();
    let address: SocketAddr = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let service = TraceServiceServer::new(receiver.clone());
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(service)
                .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
        );
        address
    });
    let data = tempfile::tempdir().unwrap();
    let endpoint = format!("http://{address}");
    let up = Up::start_with(
        data.path(),
        &[
            // The README's setting.
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            // Batches leave every 100 ms instead of every 5 s.
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );

    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    let caller_span = "00f067aa0ba902b7";
    let (album, status) = curl(&format!(
        r#"{KEY} -H 'traceparent: 00-{trace_id}-{caller_span}-01' https://localhost:8443/v1/albums -d '{{"genre": "synthwave", "theme": "traced nights", "songsCount": 2}}'"#
    ));
    assert_eq!(status, 200, "{album}");

    // Envoy exports every 5 s; the services every 100 ms.
    let expected = |spans: &[Received]| {
        ["envoy", "song-producer", "cover-designer"]
            .iter()
            .all(|service| spans.iter().any(|span| span.service == *service))
            && spans
                .iter()
                .filter(|span| span.name.starts_with("model "))
                .count()
                >= 3
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    let spans = loop {
        let spans: Vec<Received> = receiver
            .spans
            .lock()
            .unwrap()
            .iter()
            .filter(|span| span.trace_id == trace_id)
            .cloned()
            .collect();
        if expected(&spans) {
            break spans;
        }
        assert!(
            Instant::now() < deadline,
            "the trace is incomplete after 30 s: {spans:#?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    let logs = |service: &str| up.system.log(service);
    let (song_producer_log, cover_designer_log) = (logs("song-producer"), logs("cover-designer"));
    up.stop();

    let one = |service: &str, name: &str| -> &Received {
        let found: Vec<&Received> = spans
            .iter()
            .filter(|span| span.service == service && span.name == name)
            .collect();
        assert_eq!(found.len(), 1, "one {name} from {service}: {spans:#?}");
        found[0]
    };
    let envoy: Vec<&Received> = spans
        .iter()
        .filter(|span| span.service == "envoy")
        .collect();
    assert!(
        envoy.iter().any(|span| span.parent == caller_span),
        "Envoy continues the caller's trace: {envoy:#?}"
    );
    let album_rpc = one("song-producer", "superstar.v1.SongProducer/MakeMeSuperstar");
    assert!(
        envoy.iter().any(|span| span.span_id == album_rpc.parent),
        "the song producer's span is Envoy's child: {spans:#?}"
    );
    let order = one("song-producer", "superstar.v1.CoverDesigner/DesignCover");
    assert_eq!(
        order.parent, album_rpc.span_id,
        "the cover order is the album's child"
    );
    let cover_rpc = one("cover-designer", "superstar.v1.CoverDesigner/DesignCover");
    assert_eq!(
        cover_rpc.parent, order.span_id,
        "the cover designer continues the order's trace"
    );
    let children = |service: &str, parent: &Received, prefix: &str| {
        spans
            .iter()
            .filter(|span| {
                span.service == service
                    && span.parent == parent.span_id
                    && span.name.starts_with(prefix)
            })
            .count()
    };
    assert_eq!(
        children("song-producer", album_rpc, "model "),
        2,
        "a span per song written"
    );
    assert_eq!(
        children("cover-designer", cover_rpc, "model "),
        1,
        "a span for the painting"
    );
    assert_eq!(children("song-producer", album_rpc, "db insert_album"), 1);
    assert_eq!(children("cover-designer", cover_rpc, "db insert_cover"), 1);

    for (service, log) in [
        ("song-producer", song_producer_log),
        ("cover-designer", cover_designer_log),
    ] {
        assert!(
            log.lines()
                .any(|line| line.contains(&format!("\"trace_id\":\"{trace_id}\""))),
            "{service}'s log lines carry the trace id"
        );
    }
}
