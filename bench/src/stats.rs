//! Latency percentiles, and the result line of a load step.

use std::time::Duration;

use serde_json::json;

/// What one load step measured.
pub struct Load<'a> {
    /// Which measurement (`direct`, `envoy-grpc`, `envoy-json`, `album-json`).
    pub label: &'a str,
    /// Requests in flight.
    pub concurrency: u64,
    /// Requests answered OK.
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Requests per second.
    pub rps: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
}

impl Load<'_> {
    /// Prints the step's result line.
    pub fn print(&self) {
        println!(
            "{}",
            json!({
                "kind": "load",
                "label": self.label,
                "concurrency": self.concurrency,
                "requests": self.requests,
                "errors": self.errors,
                "rps": self.rps.round(),
                "p50_ms": ms(self.p50),
                "p99_ms": ms(self.p99),
            })
        );
    }
}

/// The `q`-quantile (0..=1) of `samples`, sorted in place; zero for none.
pub fn quantile(samples: &mut [Duration], q: f64) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[rank.min(samples.len() - 1)]
}

/// Milliseconds with three decimals, for JSON.
pub fn ms(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 1e6).round() / 1e3
}
