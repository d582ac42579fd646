//! `h2load-summary`, `wrk-summary` and `report`: other tools' output as result lines,
//! and the result lines as `docs/benchmarks.md`.
//!
//! The page's text and tables are a template, [`benchmarks.md.j2`](../benchmarks.md.j2);
//! this module only gathers the result lines into what its tables list, and judges the
//! targets.

use std::{collections::BTreeMap, time::Duration};

use minijinja::{AutoEscape, Environment};
use serde_json::{Value, json};

use crate::{
    args::Args,
    stats::{Load, quantile},
};

/// The concurrency at which the gateway's targets are judged.
const JUDGED_AT: u64 = 64;

/// h2load's summary (`--stdout`: requests/s, failures) and `--log-file` (start µs,
/// status, duration µs per request of the main duration) as a `load` line.
pub fn h2load_summary(args: &Args) -> Result<(), String> {
    let read = |flag: &str| -> Result<String, String> {
        let path = args.text(flag)?;
        std::fs::read_to_string(path).map_err(|error| format!("{path}: {error}"))
    };
    let (stdout, log) = (read("stdout")?, read("file")?);
    let rps: f64 = stdout
        .lines()
        .find_map(|line| line.strip_prefix("finished in "))
        .and_then(|rest| rest.split(", ").nth(1))
        .and_then(|rate| rate.strip_suffix(" req/s"))
        .and_then(|rate| rate.parse().ok())
        .ok_or("h2load printed no req/s")?;
    let mut latencies = Vec::new();
    let mut errors = 0u64;
    for line in log.lines() {
        let mut columns = line.split('\t').map(str::trim).skip(1);
        let (Some(status), Some(micros)) = (columns.next(), columns.next()) else {
            continue;
        };
        match (status, micros.parse::<u64>()) {
            ("200", Ok(micros)) => latencies.push(Duration::from_micros(micros)),
            _ => errors += 1,
        }
    }
    Load {
        label: args.text("label")?,
        concurrency: args.number("concurrency", 1)?,
        requests: latencies.len() as u64,
        errors,
        rps,
        p50: quantile(&mut latencies, 0.50),
        p99: quantile(&mut latencies, 0.99),
    }
    .print();
    Ok(())
}

/// `wrk --latency` output as a `load` line.
pub fn wrk_summary(args: &Args) -> Result<(), String> {
    let path = args.text("file")?;
    let output = std::fs::read_to_string(path).map_err(|error| format!("{path}: {error}"))?;
    let wrk = parse_wrk(&output)?;
    Load {
        label: args.text("label")?,
        concurrency: args.number("concurrency", 1)?,
        requests: wrk.requests,
        errors: wrk.errors,
        rps: wrk.rps,
        p50: wrk.p50,
        p99: wrk.p99,
    }
    .print();
    Ok(())
}

/// What `wrk --latency` printed.
#[derive(Debug, PartialEq)]
pub struct Wrk {
    /// Requests per second.
    pub rps: f64,
    /// Requests made.
    pub requests: u64,
    /// Answers that were not 2xx or 3xx.
    pub errors: u64,
    /// The median latency.
    pub p50: Duration,
    /// The 99th percentile latency.
    pub p99: Duration,
}

/// Reads `wrk --latency`'s output.
pub fn parse_wrk(output: &str) -> Result<Wrk, String> {
    let field = |prefix: &str| -> Option<&str> {
        output
            .lines()
            .map(str::trim)
            .find_map(|line| line.strip_prefix(prefix))
            .map(str::trim)
    };
    let percentile = |name: &str| -> Result<Duration, String> {
        wrk_duration(field(name).ok_or_else(|| format!("wrk printed no {name}"))?)
    };
    Ok(Wrk {
        rps: field("Requests/sec:")
            .and_then(|value| value.parse().ok())
            .ok_or("wrk printed no Requests/sec")?,
        requests: output
            .lines()
            .find(|line| line.contains("requests in"))
            .and_then(|line| line.split_whitespace().next())
            .and_then(|count| count.parse().ok())
            .unwrap_or(0),
        errors: field("Non-2xx or 3xx responses:")
            .and_then(|value| value.parse().ok())
            .unwrap_or(0),
        p50: percentile("50%")?,
        p99: percentile("99%")?,
    })
}

/// `12.34ms`, `950.00us`, `1.20s` as a duration.
/// A duration as wrk prints it (`950.00us`, `12.5ms`, `1.20s`).
pub fn wrk_duration(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|character: char| character.is_ascii_alphabetic())
        .ok_or_else(|| format!("no unit in {text}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("not a number: {text}"))?;
    let seconds = match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "s" => number,
        "m" => number * 60.0,
        _ => return Err(format!("unknown unit in {text}")),
    };
    Ok(Duration::from_secs_f64(seconds))
}

/// The measurements of the first table, in the order of the page.
const MEASUREMENTS: [(&str, &str); 4] = [
    (
        "direct",
        "1. `GetSong`, gRPC straight to the song producer (mTLS; no gateway)",
    ),
    (
        "envoy-grpc",
        "2. `GetSong`, gRPC through Envoy (TLS, API key, rate limit)",
    ),
    (
        "envoy-json",
        "3. `GetSong` as JSON through Envoy's transcoder (h2load)",
    ),
    (
        "album-json",
        "4. `MakeMeSuperstar` as JSON through Envoy, offline providers (wrk)",
    ),
];

/// Section 8's measurements: (label, path, store).
const ALBUMS: [(&str, &str, &str); 4] = [
    ("album-direct-sqlite", "gRPC direct, stub models", "SQLite"),
    (
        "album-direct-postgres",
        "gRPC direct, stub models",
        "PostgreSQL",
    ),
    ("album-json-sqlite", "JSON through Envoy, offline", "SQLite"),
    (
        "album-json-postgres",
        "JSON through Envoy, offline",
        "PostgreSQL",
    ),
];

/// Section 10's measurements: (label, title).
const TRACED: [(&str, &str); 2] = [
    ("read", "`GetSong`, gRPC through Envoy"),
    ("album", "`MakeMeSuperstar` as JSON through Envoy, offline"),
];

/// Writes `--out` from the result lines in `--results`.
pub fn run(args: &Args) -> Result<(), String> {
    let path = args.text("results")?;
    let text = std::fs::read_to_string(path).map_err(|error| format!("{path}: {error}"))?;
    let lines: Vec<Value> = text
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| serde_json::from_str(line).map_err(|error| format!("{line}: {error}")))
        .collect::<Result<_, _>>()?;
    let mut page = render(&lines);
    if let Some(notes) = args.optional("notes") {
        let notes = std::fs::read_to_string(notes).map_err(|error| format!("{notes}: {error}"))?;
        page.push('\n');
        page.push_str(&notes);
    }
    let out = args.text("out")?;
    std::fs::write(out, &page).map_err(|error| format!("{out}: {error}"))?;
    print!("{page}");
    Ok(())
}

/// The page.
pub fn render(lines: &[Value]) -> String {
    let mut environment = Environment::new();
    environment.set_auto_escape_callback(|_| AutoEscape::None);
    environment.set_trim_blocks(true);
    environment.set_lstrip_blocks(true);
    environment.add_filter("fixed", |value: f64, digits: usize| {
        format!("{value:.digits$}")
    });
    environment
        .template_from_str(include_str!("../benchmarks.md.j2"))
        .and_then(|template| template.render(Results::new(lines).context()))
        .expect("the committed template renders (a test renders it)")
}

/// The result lines, by kind, and the load steps by label and concurrency.
struct Results<'a> {
    lines: &'a [Value],
    loads: BTreeMap<(&'a str, u64), &'a Value>,
}

fn number(value: &Value) -> f64 {
    value.as_f64().unwrap_or(f64::NAN)
}

impl<'a> Results<'a> {
    fn new(lines: &'a [Value]) -> Self {
        let loads = lines
            .iter()
            .filter(|line| line["kind"] == "load")
            .map(|line| {
                let key = (
                    line["label"].as_str().unwrap_or_default(),
                    line["concurrency"].as_u64().unwrap_or(0),
                );
                (key, line)
            })
            .collect();
        Self { lines, loads }
    }

    fn of_kind(&self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.lines.iter().filter(move |line| line["kind"] == kind)
    }

    /// A step's load line at whatever concurrency it ran.
    fn load(&self, label: &str) -> Option<&'a Value> {
        self.loads
            .iter()
            .find(|((name, _), _)| *name == label)
            .map(|(_, line)| *line)
    }

    /// The step's CPU line and how many requests it made: CPU per request is their ratio.
    fn cpu(&self, label: &str, concurrency: u64) -> Option<(&'a Value, f64)> {
        let load = self.loads.get(&(label, concurrency))?;
        let cpu = self
            .of_kind("cpu")
            .find(|cpu| cpu["label"] == label && cpu["concurrency"] == concurrency)?;
        Some((cpu, number(&load["rps"]) * number(&cpu["step_ms"]) / 1000.0))
    }

    fn levels(&self) -> Vec<u64> {
        let mut levels: Vec<u64> = self.loads.keys().map(|(_, level)| *level).collect();
        levels.sort_unstable();
        levels.dedup();
        levels
    }

    /// Everything the template lists.
    fn context(&self) -> Value {
        let levels = self.levels();
        let loads: Vec<Value> = MEASUREMENTS
            .iter()
            .flat_map(|(label, title)| {
                levels.iter().filter_map(move |level| {
                    let mut row = Value::clone(self.loads.get(&(*label, *level))?);
                    row["title"] = json!(title);
                    Some(row)
                })
            })
            .collect();
        let gateway: Vec<Value> = levels
            .iter()
            .filter_map(|level| {
                let get = |label| self.loads.get(&(label, *level)).copied();
                let (direct, grpc, json) = (get("direct")?, get("envoy-grpc")?, get("envoy-json")?);
                let ratio = |line: &Value| number(&line["rps"]) / number(&direct["rps"]);
                let added = |line: &Value| number(&line["p50_ms"]) - number(&direct["p50_ms"]);
                Some(json!({
                    "concurrency": level,
                    "grpc_ratio": ratio(grpc), "json_ratio": ratio(json),
                    "grpc_added": added(grpc), "json_added": added(json),
                }))
            })
            .collect();
        let cpu: Vec<Value> = self
            .of_kind("cpu")
            .filter_map(|line| {
                let label = line["label"].as_str()?;
                let title = MEASUREMENTS.iter().find(|(name, _)| *name == label)?.1;
                let level = line["concurrency"].as_u64()?;
                let (_, requests) = self.cpu(label, level)?;
                let (envoy, service) = (number(&line["envoy_ms"]), number(&line["service_ms"]));
                Some(json!({
                    "title": title, "concurrency": level,
                    "envoy_us": envoy * 1000.0 / requests, "service_us": service * 1000.0 / requests,
                    "cores": (envoy + service) / number(&line["step_ms"]),
                }))
            })
            .collect();
        let albums: Vec<Value> = ALBUMS
            .iter()
            .filter_map(|(label, path, store)| {
                let line = self.load(label)?;
                let concurrency = line["concurrency"].as_u64()?;
                let cpu_ms = self.cpu(label, concurrency).map(|(cpu, albums)| {
                    (number(&cpu["service_ms"]) + number(&cpu["cover_ms"])) / albums
                });
                let mut row = line.clone();
                row["path"] = json!(path);
                row["store"] = json!(store);
                row["cpu_ms"] = json!(cpu_ms);
                Some(row)
            })
            .collect();
        let stored: Vec<u64> = self
            .of_kind("stored")
            .filter_map(|line| line["songs"].as_u64())
            .collect();
        let stored = (stored.len() >= 2).then(|| {
            let rows: Vec<Value> = [("get-song", "GetSong"), ("list-songs", "ListSongs")]
                .iter()
                .flat_map(|(label, rpc)| {
                    stored.iter().filter_map(move |songs| {
                        let mut row = self.load(&format!("{label}-{songs}"))?.clone();
                        row["rpc"] = json!(rpc);
                        row["songs"] = json!(songs);
                        Some(row)
                    })
                })
                .collect();
            json!({"fewest": stored[0], "most": stored[stored.len() - 1], "rows": rows})
        });
        let tracing: Vec<Value> = TRACED
            .iter()
            .filter_map(|(name, title)| {
                let side = |state: &str| -> Option<(u64, Value)> {
                    let label = format!("trace-{state}-{name}");
                    let mut line = self.load(&label)?.clone();
                    let concurrency = line["concurrency"].as_u64()?;
                    let (cpu, requests) = self.cpu(&label, concurrency)?;
                    let cpu_ms = number(&cpu["envoy_ms"])
                        + number(&cpu["service_ms"])
                        + number(&cpu["cover_ms"]);
                    line["cpu_ms"] = json!(cpu_ms / requests);
                    Some((concurrency, line))
                };
                let ((concurrency, off), (_, on)) = (side("off")?, side("on")?);
                Some(json!({"title": title, "concurrency": concurrency, "off": off, "on": on}))
            })
            .collect();
        json!({
            "machine": self.of_kind("machine").next(),
            "loads": loads,
            "gateway": gateway,
            "cpu": cpu,
            "first_line": self.of_kind("first_line").next(),
            "rss": self.of_kind("rss").collect::<Vec<_>>(),
            "fairness": self.of_kind("fairness").collect::<Vec<_>>(),
            "albums": albums,
            "stored": stored,
            "tracing": tracing,
            "otlp": self.of_kind("otlp").next(),
            "local_model": self.of_kind("local_model").next(),
            "painter": self.of_kind("painter").collect::<Vec<_>>(),
            "targets": self.targets(&albums),
        })
    }

    /// Each target, what was measured, and whether it was met.
    fn targets(&self, albums: &[Value]) -> Vec<Value> {
        let mut targets = Vec::new();
        let mut judge = |target: String, measured: String, met: bool| {
            targets.push(json!({"target": target, "measured": measured, "met": met}));
        };
        if let (Some(direct), Some(json)) = (
            self.loads.get(&("direct", JUDGED_AT)),
            self.loads.get(&("envoy-json", JUDGED_AT)),
        ) {
            let ratio = number(&json["rps"]) / number(&direct["rps"]);
            let added = number(&json["p50_ms"]) - number(&direct["p50_ms"]);
            judge(
                format!("JSON through Envoy ≥ 50% of direct gRPC requests/s at {JUDGED_AT}"),
                format!("{:.0}%", ratio * 100.0),
                ratio >= 0.5,
            );
            judge(
                format!("≤ 1 ms added p50 at {JUDGED_AT}"),
                format!("{added:.2} ms"),
                added <= 1.0,
            );
        }
        if let Some(line) = self.of_kind("first_line").next() {
            let added = number(&line["jam_p50_ms"]) - number(&line["stub_p50_ms"]);
            judge(
                "first streamed line ≤ the stub's first token + 10 ms".into(),
                format!("+{added:.2} ms"),
                added <= 10.0,
            );
        }
        for line in self.of_kind("rss") {
            let (limit, state) = if line["streams"] == 0 {
                (20.0, "idle")
            } else {
                (64.0, "with the open streams")
            };
            for service in ["song-producer", "cover-designer"] {
                let mib = number(&line["mib"][service]);
                judge(
                    format!("{service} ≤ {limit} MiB RSS {state}"),
                    format!("{mib} MiB"),
                    mib <= limit,
                );
            }
        }
        for row in albums {
            let (path, store) = (row["path"].as_str().unwrap_or_default(), &row["store"]);
            let direct = path.starts_with("gRPC");
            let limit = if direct { 3.0 } else { 4.0 };
            let ratio = number(&row["p99_ms"]) / number(&row["p50_ms"]);
            let at = &row["concurrency"];
            judge(
                format!(
                    "albums at {at}, {path} on {}: p99 ≤ {limit}× p50",
                    store.as_str().unwrap_or_default()
                ),
                format!("{ratio:.2}×"),
                ratio <= limit,
            );
            if let (Some(cpu), true) = (row["cpu_ms"].as_f64(), direct && store == "SQLite") {
                judge(
                    format!("CPU per album (both services) at {at} against the stub ≤ 1.5 ms"),
                    format!("{cpu:.2} ms"),
                    cpu <= 1.5,
                );
            }
        }
        let stored: Vec<u64> = self
            .of_kind("stored")
            .filter_map(|line| line["songs"].as_u64())
            .collect();
        if let (Some(fewest), Some(most)) = (stored.first(), stored.last()) {
            for (label, rpc) in [("get-song", "GetSong"), ("list-songs", "ListSongs")] {
                let p50 = |songs: &u64| {
                    self.load(&format!("{label}-{songs}"))
                        .map(|line| number(&line["p50_ms"]))
                };
                if let (Some(few), Some(many)) = (p50(fewest), p50(most)) {
                    let ratio = many / few;
                    judge(
                        format!("`{rpc}` p50 with {most} songs ≤ 1.5× its p50 with {fewest}"),
                        format!("{ratio:.2}×"),
                        ratio <= 1.5,
                    );
                }
            }
        }
        for line in self.of_kind("fairness") {
            let ratio = number(&line["flood_p99_ms"]) / number(&line["alone_p99_ms"]);
            judge(
                format!(
                    "a client's p99 while another floods ({} in flight per connection) ≤ 2× its p99 alone",
                    line["flood_streams"]
                ),
                format!("{ratio:.2}×"),
                ratio <= 2.0,
            );
        }
        if let Some(line) = self.of_kind("local_model").next() {
            let ratio = number(&line["album_mean_ms"]) / number(&line["direct_mean_ms"]);
            let errors = number(&line["errors"]);
            judge(
                "a one-song album against a local model ≤ 1.3× the server's own time for the song, none failed".into(),
                format!("{ratio:.2}×, {errors} failed"),
                ratio <= 1.3 && errors == 0.0,
            );
        }
        if let Some(slowest) = self
            .of_kind("painter")
            .map(|line| number(&line["ms"]))
            .reduce(f64::max)
        {
            judge(
                "the painter ≤ 20 ms per 512×512 cover".into(),
                format!("{slowest} ms (slowest)"),
                slowest <= 20.0,
            );
        }
        targets
    }
}
