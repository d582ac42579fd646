//! The overload manager: what Envoy does when it runs short of memory or connections,
//! before the machine does; and the runtime flag that shares a worker fairly between
//! connections.

use serde::Serialize;

use crate::settings::GatewaySettings;

const FIXED_HEAP: &str = "envoy.resource_monitors.fixed_heap";
const DOWNSTREAM_CONNECTIONS: &str = "envoy.resource_monitors.global_downstream_max_connections";

#[derive(Debug, Serialize)]
pub(super) struct OverloadManager {
    refresh_interval: &'static str,
    resource_monitors: Vec<ResourceMonitor>,
    actions: Vec<OverloadAction>,
}

#[derive(Debug, Serialize)]
struct ResourceMonitor {
    name: &'static str,
    typed_config: MonitorConfig,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum MonitorConfig {
    FixedHeap {
        #[serde(rename = "@type")]
        type_url: &'static str,
        max_heap_size_bytes: u64,
    },
    DownstreamConnections {
        #[serde(rename = "@type")]
        type_url: &'static str,
        max_active_downstream_connections: u64,
    },
}

#[derive(Debug, Serialize)]
struct OverloadAction {
    name: &'static str,
    triggers: Vec<Trigger>,
}

#[derive(Debug, Serialize)]
struct Trigger {
    name: &'static str,
    threshold: Threshold,
}

#[derive(Debug, Serialize)]
struct Threshold {
    value: f64,
}

/// A heap ceiling with two steps (give memory back, then refuse new requests), and the
/// ceiling on open client connections across every listener.
pub(super) fn overload_manager(settings: &GatewaySettings) -> OverloadManager {
    let on_heap = |name, value| OverloadAction {
        name,
        triggers: vec![Trigger {
            name: FIXED_HEAP,
            threshold: Threshold { value },
        }],
    };
    OverloadManager {
        refresh_interval: "0.25s",
        resource_monitors: vec![
            ResourceMonitor {
                name: FIXED_HEAP,
                typed_config: MonitorConfig::FixedHeap {
                    type_url: "type.googleapis.com/envoy.extensions.resource_monitors.fixed_heap.v3.FixedHeapConfig",
                    max_heap_size_bytes: u64::from(settings.max_heap_mib) * 1024 * 1024,
                },
            },
            ResourceMonitor {
                name: DOWNSTREAM_CONNECTIONS,
                typed_config: MonitorConfig::DownstreamConnections {
                    type_url: "type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig",
                    max_active_downstream_connections: u64::from(settings.max_connections),
                },
            },
        ],
        actions: vec![
            on_heap("envoy.overload_actions.shrink_heap", 0.95),
            on_heap("envoy.overload_actions.stop_accepting_requests", 0.98),
        ],
    }
}

/// Runtime values set in the config itself (a static layer).
#[derive(Debug, Serialize)]
pub(super) struct LayeredRuntime {
    layers: Vec<RuntimeLayer>,
}

#[derive(Debug, Serialize)]
struct RuntimeLayer {
    name: &'static str,
    static_layer: StaticLayer,
}

#[derive(Debug, Serialize)]
struct StaticLayer {
    #[serde(rename = "http.max_requests_per_io_cycle")]
    max_requests_per_io_cycle: u32,
    #[serde(
        rename = "tracing.opentelemetry.min_flush_spans",
        skip_serializing_if = "Option::is_none"
    )]
    min_flush_spans: Option<u32>,
    #[serde(
        rename = "tracing.opentelemetry.flush_interval_ms",
        skip_serializing_if = "Option::is_none"
    )]
    flush_interval_ms: Option<u32>,
}

/// With tracing on, how many spans Envoy's OpenTelemetry tracer keeps before it exports
/// them, and how long it waits at most. Envoy's defaults (5 spans, 5 s) make an export
/// per few requests under load: in `bin/bench`'s tracing step, 10,777 exports where a
/// batch of the SDK's size (512), sent at least each second, makes 468 of the same
/// spans, as fresh. (Requests per second barely moved, 0.76 → 0.77 of tracing off: the
/// spans themselves are the cost, not their export.)
pub const TRACE_BATCH: (u32, u32) = (512, 1000);

/// Requests Envoy takes from one connection each time it reads from it. Unset, a
/// worker handles every request one read brings before it turns to the next connection:
/// a client with many calls in flight makes every other client on that worker wait
/// behind them (Envoy's own mitigation for such floods, added with the rapid-reset
/// fixes, is this flag at 1).
pub const MAX_REQUESTS_PER_IO_CYCLE: u32 = 1;

/// The static runtime layer; the tracer's batching only when `tracing` is on.
pub(super) fn layered_runtime(tracing: bool) -> LayeredRuntime {
    let (spans, interval) = TRACE_BATCH;
    LayeredRuntime {
        layers: vec![RuntimeLayer {
            name: "static",
            static_layer: StaticLayer {
                max_requests_per_io_cycle: MAX_REQUESTS_PER_IO_CYCLE,
                min_flush_spans: tracing.then_some(spans),
                flush_interval_ms: tracing.then_some(interval),
            },
        }],
    }
}
