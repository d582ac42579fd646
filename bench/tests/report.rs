//! The report: other tools' output read, and the page written from result lines.

use std::time::Duration;

use serde_json::json;
use superstar_bench::report::{Wrk, parse_wrk, render, wrk_duration};

#[test]
fn wrk_output_is_read() {
    let output = "Running 8s test @ https://localhost:8443/v1/albums\n  Latency Distribution\n     50%   34.33ms\n     75%   71.82ms\n     99%  727.36ms\n  2683 requests in 8.05s, 4.65MB read\n  Non-2xx or 3xx responses: 3\nRequests/sec:    333.32\n";
    assert_eq!(
        parse_wrk(output).unwrap(),
        Wrk {
            rps: 333.32,
            requests: 2683,
            errors: 3,
            p50: Duration::from_micros(34_330),
            p99: Duration::from_micros(727_360),
        }
    );
    assert!(parse_wrk("wrk: connection refused").is_err());
}

#[test]
fn wrk_durations_read_every_unit() {
    assert_eq!(
        wrk_duration("950.00us").unwrap(),
        Duration::from_micros(950)
    );
    assert_eq!(
        wrk_duration("12.5ms").unwrap(),
        Duration::from_micros(12_500)
    );
    assert_eq!(wrk_duration("1.20s").unwrap(), Duration::from_millis(1_200));
    assert!(wrk_duration("12").is_err());
}

#[test]
fn the_page_reports_ratios_and_judges_the_targets() {
    let lines = [
        json!({"kind": "load", "label": "direct", "concurrency": 64, "rps": 10000.0, "p50_ms": 2.0, "p99_ms": 5.0, "errors": 0}),
        json!({"kind": "load", "label": "envoy-grpc", "concurrency": 64, "rps": 6000.0, "p50_ms": 2.5, "p99_ms": 6.0, "errors": 0}),
        json!({"kind": "load", "label": "envoy-json", "concurrency": 64, "rps": 4000.0, "p50_ms": 3.5, "p99_ms": 9.0, "errors": 0}),
        json!({"kind": "rss", "streams": 0, "mib": {"song-producer": 12.5, "cover-designer": 30.5}}),
        json!({"kind": "fairness", "samples": 300, "flood_connections": 2, "flood_streams": 16, "alone_p50_ms": 0.5, "alone_p99_ms": 1.0, "flood_p50_ms": 0.6, "flood_p99_ms": 2.5, "flood_refused": 900, "flood_answered": 700}),
        json!({"kind": "local_model", "model": "smollm2", "samples": 6, "errors": 0, "same_lyrics": 5, "direct_mean_ms": 2000.0, "album_mean_ms": 2100.0, "direct_p50_ms": 1800.0, "album_p50_ms": 2700.0}),
    ];
    let page = render(&lines);
    assert!(
        page.contains("| 64 | 0.60 | 0.40 | 0.50 | 1.50 |"),
        "{page}"
    );
    assert!(page.contains("| 40% | **missed**"), "{page}");
    assert!(page.contains("| 1.50 ms | **missed**"), "{page}");
    assert!(
        page.contains("song-producer ≤ 20 MiB RSS idle | 12.5 MiB | met |"),
        "{page}"
    );
    assert!(
        page.contains("cover-designer ≤ 20 MiB RSS idle | 30.5 MiB | **missed**"),
        "{page}"
    );
    assert!(
        page.contains("| 16 | 900 / 700 | 0.5 → 0.6 ms | 1.0 → 2.5 ms | 2.50 |"),
        "{page}"
    );
    assert!(
        page.contains("(16 in flight per connection) ≤ 2× its p99 alone | 2.50× | **missed**"),
        "{page}"
    );
    assert!(page.contains("| album ÷ server | 1.05 | 1.50 |"), "{page}");
    assert!(
        page.contains("the song, none failed | 1.05×, 0 failed | met |"),
        "{page}"
    );
}

#[test]
fn tracing_is_compared_with_itself_off() {
    let lines = [
        json!({"kind": "load", "label": "trace-off-read", "concurrency": 16, "rps": 1000.0, "p50_ms": 10.0, "p99_ms": 20.0, "errors": 0}),
        json!({"kind": "cpu", "label": "trace-off-read", "concurrency": 16, "envoy_ms": 500, "service_ms": 400, "cover_ms": 100, "step_ms": 2000}),
        json!({"kind": "load", "label": "trace-on-read", "concurrency": 16, "rps": 800.0, "p50_ms": 12.0, "p99_ms": 25.0, "errors": 0}),
        json!({"kind": "cpu", "label": "trace-on-read", "concurrency": 16, "envoy_ms": 600, "service_ms": 500, "cover_ms": 100, "step_ms": 2000}),
        json!({"kind": "otlp", "label": "trace-on", "exports": 7, "spans": 5000}),
    ];
    let page = render(&lines);
    // Off: 1000 ms of CPU for 2000 requests; on: 1200 ms for 1600.
    assert!(
        page.contains(
            "| `GetSong`, gRPC through Envoy | 16 | off | 1000 | 10.0 | 20.0 | 0.500 | 0 |"
        ),
        "{page}"
    );
    assert!(
        page.contains("| `GetSong`, gRPC through Envoy | 0.80 | 1.50 |"),
        "{page}"
    );
    assert!(page.contains("received 5000 spans in 7 exports"), "{page}");
    assert!(
        !page.contains("MakeMeSuperstar` as JSON through Envoy, offline | 16"),
        "{page}"
    );
}
