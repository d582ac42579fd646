//! `h2load-summary`, `wrk-summary` and `report`: other tools' output as result lines,
//! and the result lines as `docs/benchmarks.md`.

use std::{collections::BTreeMap, fmt::Write, time::Duration};

use serde_json::Value;

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
struct Wrk {
    rps: f64,
    requests: u64,
    errors: u64,
    p50: Duration,
    p99: Duration,
}

fn parse_wrk(output: &str) -> Result<Wrk, String> {
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
fn wrk_duration(text: &str) -> Result<Duration, String> {
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

/// The measurements, in the order of the page.
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

/// One album measurement of section 8.
struct AlbumRow {
    path: &'static str,
    store: &'static str,
    concurrency: u64,
    rps: f64,
    p50: f64,
    p99: f64,
    errors: u64,
    /// Song producer and cover designer CPU per album, where measured.
    cpu_ms: Option<f64>,
}

/// The album measurements, in the order of the page.
fn album_rows(lines: &[Value], loads: &BTreeMap<(String, u64), &Value>) -> Vec<AlbumRow> {
    let kinds = [
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
    let number = |value: &Value| value.as_f64().unwrap_or(f64::NAN);
    let mut rows = Vec::new();
    for (label, path, store) in kinds {
        let Some(((_, concurrency), line)) = loads.iter().find(|((name, _), _)| name == label)
        else {
            continue;
        };
        let cpu_ms = of_kind(lines, "cpu")
            .find(|cpu| cpu["label"] == label)
            .map(|cpu| {
                let albums = number(&line["rps"]) * number(&cpu["step_ms"]) / 1000.0;
                (number(&cpu["service_ms"]) + number(&cpu["cover_ms"])) / albums
            });
        rows.push(AlbumRow {
            path,
            store,
            concurrency: *concurrency,
            rps: number(&line["rps"]),
            p50: number(&line["p50_ms"]),
            p99: number(&line["p99_ms"]),
            errors: line["errors"].as_u64().unwrap_or(0),
            cpu_ms,
        });
    }
    rows
}

/// One side of a tracing comparison.
struct Traced {
    rps: f64,
    p50: f64,
    p99: f64,
    errors: u64,
    /// Envoy's and both services' CPU per request.
    cpu_ms: f64,
}

/// A measurement of section 10, with tracing off and on.
struct TracingRow {
    title: &'static str,
    concurrency: u64,
    off: Traced,
    on: Traced,
}

/// Section 10's measurements that have both sides.
fn tracing_rows(lines: &[Value], loads: &BTreeMap<(String, u64), &Value>) -> Vec<TracingRow> {
    let number = |value: &Value| value.as_f64().unwrap_or(f64::NAN);
    let side = |label: String| -> Option<(u64, Traced)> {
        let ((_, concurrency), line) = loads.iter().find(|((name, _), _)| *name == label)?;
        let cpu = of_kind(lines, "cpu").find(|cpu| cpu["label"] == label.as_str())?;
        let requests = number(&line["rps"]) * number(&cpu["step_ms"]) / 1000.0;
        let cpu_ms =
            number(&cpu["envoy_ms"]) + number(&cpu["service_ms"]) + number(&cpu["cover_ms"]);
        Some((
            *concurrency,
            Traced {
                rps: number(&line["rps"]),
                p50: number(&line["p50_ms"]),
                p99: number(&line["p99_ms"]),
                errors: line["errors"].as_u64().unwrap_or(0),
                cpu_ms: cpu_ms / requests,
            },
        ))
    };
    [
        ("read", "`GetSong`, gRPC through Envoy"),
        ("album", "`MakeMeSuperstar` as JSON through Envoy, offline"),
    ]
    .into_iter()
    .filter_map(|(name, title)| {
        let (concurrency, off) = side(format!("trace-off-{name}"))?;
        let (_, on) = side(format!("trace-on-{name}"))?;
        Some(TracingRow {
            title,
            concurrency,
            off,
            on,
        })
    })
    .collect()
}

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

fn of_kind<'a>(lines: &'a [Value], kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    lines.iter().filter(move |line| line["kind"] == kind)
}

/// The page.
pub fn render(lines: &[Value]) -> String {
    let mut loads: BTreeMap<(String, u64), &Value> = BTreeMap::new();
    for line in of_kind(lines, "load") {
        let label = line["label"].as_str().unwrap_or_default().to_owned();
        loads.insert((label, line["concurrency"].as_u64().unwrap_or(0)), line);
    }
    let levels: Vec<u64> = {
        let mut levels: Vec<u64> = loads.keys().map(|(_, level)| *level).collect();
        levels.sort_unstable();
        levels.dedup();
        levels
    };
    let number = |value: &Value| value.as_f64().unwrap_or(f64::NAN);
    let mut page = String::from(
        "# Benchmarks\n\n\
         Written by `bin/bench` (rerun it to refresh this page: `bin/dev_init.sh`, then\n\
         `bin/bench`). Every figure comes from one run on the machine below; the load\n\
         generators share its cores with Envoy and the services, so compare ratios\n\
         within the run, not absolute figures across machines. Each load step runs for a\n\
         fixed time after a warm-up; only loopback addresses are used.\n\n",
    );
    if let Some(machine) = of_kind(lines, "machine").next() {
        let _ = writeln!(
            page,
            "**Machine:** {} · {} cores · {} · {} · run {}, measuring for {} s (builds excluded)\n",
            machine["cpu"].as_str().unwrap_or("?"),
            machine["cores"],
            machine["memory"].as_str().unwrap_or("?"),
            machine["kernel"].as_str().unwrap_or("?"),
            machine["date"].as_str().unwrap_or("?"),
            machine["seconds"],
        );
    }

    page.push_str("## Requests per second and latency, by concurrency\n\n");
    page.push_str("| measurement | concurrency | requests/s | p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|\n");
    for (label, title) in MEASUREMENTS {
        for level in &levels {
            if let Some(line) = loads.get(&(label.to_owned(), *level)) {
                let _ = writeln!(
                    page,
                    "| {title} | {level} | {:.0} | {} | {} | {} |",
                    number(&line["rps"]),
                    line["p50_ms"],
                    line["p99_ms"],
                    line["errors"]
                );
            }
        }
    }

    page.push_str("\n## The gateway's cost (ratios within this run)\n\n");
    page.push_str("| concurrency | gRPC via Envoy ÷ direct (req/s) | JSON via Envoy ÷ direct (req/s) | p50 added, gRPC via Envoy (ms) | p50 added, JSON via Envoy (ms) |\n|---|---|---|---|---|\n");
    let mut judged = None;
    for level in &levels {
        let get = |label: &str| loads.get(&(label.to_owned(), *level)).copied();
        let (Some(direct), Some(grpc), Some(json)) =
            (get("direct"), get("envoy-grpc"), get("envoy-json"))
        else {
            continue;
        };
        let ratio = |line: &Value| number(&line["rps"]) / number(&direct["rps"]);
        let added = |line: &Value| number(&line["p50_ms"]) - number(&direct["p50_ms"]);
        let _ = writeln!(
            page,
            "| {level} | {:.2} | {:.2} | {:.2} | {:.2} |",
            ratio(grpc),
            ratio(json),
            added(grpc),
            added(json)
        );
        if *level == JUDGED_AT {
            judged = Some((ratio(json), added(json)));
        }
    }

    let cpu: Vec<&Value> = of_kind(lines, "cpu").collect();
    if !cpu.is_empty() {
        page.push_str(
            "\n### Where the CPU goes\n\n\
             CPU time (user + system, from `/proc`) that Envoy and the song producer used per \
             request in each step; the rest of the machine's cores went to the load generator \
             and the kernel. The steps are CPU-bound: every process shares the same cores.\n\n\
             | measurement | concurrency | Envoy µs/request | song producer µs/request | cores busy (Envoy + service) |\n|---|---|---|---|---|\n",
        );
        for line in &cpu {
            let label = line["label"].as_str().unwrap_or_default();
            let level = line["concurrency"].as_u64().unwrap_or(0);
            let Some(load) = loads.get(&(label.to_owned(), level)) else {
                continue;
            };
            let step_ms = number(&line["step_ms"]);
            let per_request = |cpu_ms: f64| cpu_ms * 1e6 / (number(&load["rps"]) * step_ms);
            let Some(title) = MEASUREMENTS
                .iter()
                .find(|(name, _)| *name == label)
                .map(|(_, title)| title)
            else {
                continue; // albums and the big store have sections of their own
            };
            let _ = writeln!(
                page,
                "| {title} | {level} | {:.0} | {:.0} | {:.2} |",
                per_request(number(&line["envoy_ms"])),
                per_request(number(&line["service_ms"])),
                (number(&line["envoy_ms"]) + number(&line["service_ms"])) / step_ms
            );
        }
    }

    let first_line = of_kind(lines, "first_line").next();
    if let Some(line) = first_line {
        page.push_str("\n## 5. Time to the first streamed song line\n\n");
        let _ = writeln!(
            page,
            "A local OpenAI-format stub streams a song one token per {} ms; its first token is the \
             title line. The song producer's lyricist streams from it, and `Jam` is called through \
             Envoy; {} sequential samples.\n",
            line["token_delay_ms"], line["samples"]
        );
        page.push_str("| | p50 ms | p99 ms |\n|---|---|---|\n");
        let _ = writeln!(
            page,
            "| the stub's own first token, asked directly | {} | {} |",
            line["stub_p50_ms"], line["stub_p99_ms"]
        );
        let _ = writeln!(
            page,
            "| the first `Jam` delta through Envoy | {} | {} |",
            line["jam_p50_ms"], line["jam_p99_ms"]
        );
        let _ = writeln!(
            page,
            "| the first `Jam` delta less the stub's token delay | {:.2} | |",
            number(&line["jam_p50_ms"]) - number(&line["token_delay_ms"])
        );
        let _ = writeln!(
            page,
            "| added by Envoy and the song producer (first delta less the stub's first token) | {:.2} | |",
            number(&line["jam_p50_ms"]) - number(&line["stub_p50_ms"])
        );
    }

    let rss: Vec<&Value> = of_kind(lines, "rss").collect();
    if !rss.is_empty() {
        page.push_str("\n## 6. Resident memory (RSS, MiB)\n\n| state | song producer | cover designer |\n|---|---|---|\n");
        for line in &rss {
            let state = match line["streams"].as_u64() {
                Some(0) => "idle, just started".to_owned(),
                Some(streams) => format!("{streams} open `Jam` streams"),
                None => "?".to_owned(),
            };
            let _ = writeln!(
                page,
                "| {state} | {} | {} |",
                line["mib"]["song-producer"], line["mib"]["cover-designer"]
            );
        }
    }

    let fairness: Vec<&Value> = of_kind(lines, "fairness").collect();
    if let Some(first) = fairness.first() {
        page.push_str("\n## 7. Fairness: one client floods, another reads\n\n");
        let _ = writeln!(
            page,
            "Two clients through Envoy, the read limit at 100/s with a burst of 1400. Bob sends {} \
             `GetSong` calls one after another over one connection, alone, then while alice \
             floods over {} connections as fast as Envoy answers, with one call or several in \
             flight on each. None of bob's calls failed; alice's beyond her bucket were refused \
             (`RESOURCE_EXHAUSTED`).\n",
            first["samples"], first["flood_connections"]
        );
        page.push_str(
            "| alice's calls in flight per connection | her calls refused / answered | bob's p50 alone → flooded | bob's p99 alone → flooded | p99 ratio |\n|---|---|---|---|---|\n",
        );
        for line in &fairness {
            let _ = writeln!(
                page,
                "| {} | {} / {} | {} → {} ms | {} → {} ms | {:.2} |",
                line["flood_streams"],
                line["flood_refused"],
                line["flood_answered"],
                line["alone_p50_ms"],
                line["flood_p50_ms"],
                line["alone_p99_ms"],
                line["flood_p99_ms"],
                number(&line["flood_p99_ms"]) / number(&line["alone_p99_ms"])
            );
        }
    }

    let albums = album_rows(lines, &loads);
    if !albums.is_empty() {
        page.push_str("\n## 8. Albums, on SQLite and on PostgreSQL\n\n");
        page.push_str(
            "Two-song albums straight to the song producer over gRPC (mTLS), lyrics and cover \
             from the OpenAI-format stub (a 64×64 PNG); and one-song albums as JSON through Envoy \
             with the offline providers (wrk). CPU is what the song producer and the cover \
             designer used together, per album.\n\n\
             | path | store | concurrency | albums/s | p50 ms | p99 ms | p99 ÷ p50 | CPU per album, both services (ms) | errors |\n\
             |---|---|---|---|---|---|---|---|---|\n",
        );
        for row in &albums {
            let cpu = row.cpu_ms.map_or("".to_owned(), |cpu| format!("{cpu:.2}"));
            let _ = writeln!(
                page,
                "| {} | {} | {} | {:.0} | {} | {} | {:.2} | {cpu} | {} |",
                row.path,
                row.store,
                row.concurrency,
                row.rps,
                row.p50,
                row.p99,
                row.p99 / row.p50,
                row.errors
            );
        }
    }

    let stored: Vec<u64> = of_kind(lines, "stored")
        .filter_map(|line| line["songs"].as_u64())
        .collect();
    if let (Some(fewest), Some(most)) = (stored.first(), stored.last()) {
        page.push_str("\n## 9. Reads with many songs stored\n\n");
        let _ = writeln!(
            page,
            "`GetSong` (one song from the middle) and `ListSongs` (the first page of 20, newest \
             first) straight to the song producer on SQLite, with {fewest} and then {most} songs \
             stored (added in bulk SQL).\n"
        );
        page.push_str(
            "| RPC | songs stored | requests/s | p50 ms | p99 ms |\n|---|---|---|---|---|\n",
        );
        for rpc in ["get-song", "list-songs"] {
            for count in &stored {
                if let Some(line) = loads
                    .iter()
                    .find(|((label, _), _)| *label == format!("{rpc}-{count}"))
                    .map(|(_, line)| line)
                {
                    let _ = writeln!(
                        page,
                        "| `{}` | {count} | {:.0} | {} | {} |",
                        if rpc == "get-song" {
                            "GetSong"
                        } else {
                            "ListSongs"
                        },
                        number(&line["rps"]),
                        line["p50_ms"],
                        line["p99_ms"]
                    );
                }
            }
        }
    }

    let tracing = tracing_rows(lines, &loads);
    if !tracing.is_empty() {
        page.push_str("\n## 10. The cost of tracing\n\n");
        page.push_str(
            "The same steps with tracing off, then on: every request sampled, Envoy's and both \
             services' spans exported over OTLP/gRPC to a sink that counts them. CPU is Envoy's, \
             the song producer's and the cover designer's together, per request.\n\n\
             | measurement | concurrency | tracing | requests/s | p50 ms | p99 ms | CPU per request (ms) | errors |\n\
             |---|---|---|---|---|---|---|---|\n",
        );
        for row in &tracing {
            for (state, side) in [("off", &row.off), ("on", &row.on)] {
                let _ = writeln!(
                    page,
                    "| {} | {} | {state} | {:.0} | {} | {} | {:.3} | {} |",
                    row.title,
                    row.concurrency,
                    side.rps,
                    side.p50,
                    side.p99,
                    side.cpu_ms,
                    side.errors
                );
            }
        }
        page.push_str(
            "\n| measurement | requests/s, on ÷ off | CPU per request, on ÷ off |\n|---|---|---|\n",
        );
        for row in &tracing {
            let _ = writeln!(
                page,
                "| {} | {:.2} | {:.2} |",
                row.title,
                row.on.rps / row.off.rps,
                row.on.cpu_ms / row.off.cpu_ms
            );
        }
        if let Some(sink) = of_kind(lines, "otlp").next() {
            let _ = writeln!(
                page,
                "\nThe sink received {} spans in {} exports while tracing was on.",
                sink["spans"], sink["exports"]
            );
        }
    }

    let painter: Vec<&Value> = of_kind(lines, "painter").collect();
    if !painter.is_empty() {
        page.push_str("\n## The offline painter (`cargo bench -p cover-designer`)\n\n| cover | ms per 512×512 cover |\n|---|---|\n");
        for line in &painter {
            let _ = writeln!(
                page,
                "| {} | {} |",
                line["name"].as_str().unwrap_or("?"),
                line["ms"]
            );
        }
    }

    page.push_str("\n## Targets\n\n| target | measured | |\n|---|---|---|\n");
    let verdict = |met: bool| if met { "met" } else { "**missed**: see below" };
    if let Some((ratio, added)) = judged {
        let _ = writeln!(
            page,
            "| JSON through Envoy ≥ 50% of direct gRPC requests/s at {JUDGED_AT} | {:.0}% | {} |",
            ratio * 100.0,
            verdict(ratio >= 0.5)
        );
        let _ = writeln!(
            page,
            "| ≤ 1 ms added p50 at {JUDGED_AT} | {added:.2} ms | {} |",
            verdict(added <= 1.0)
        );
    }
    if let Some(line) = first_line {
        let added = number(&line["jam_p50_ms"]) - number(&line["stub_p50_ms"]);
        let _ = writeln!(
            page,
            "| first streamed line ≤ the stub's first token + 10 ms | +{added:.2} ms | {} |",
            verdict(added <= 10.0)
        );
    }
    for line in &rss {
        let (limit, state) = match line["streams"].as_u64() {
            Some(0) => (20.0, "idle"),
            _ => (64.0, "with the open streams"),
        };
        for service in ["song-producer", "cover-designer"] {
            let mib = number(&line["mib"][service]);
            let _ = writeln!(
                page,
                "| {service} ≤ {limit} MiB RSS {state} | {mib} MiB | {} |",
                verdict(mib <= limit)
            );
        }
    }
    for row in &albums {
        let limit = if row.path.starts_with("gRPC") {
            3.0
        } else {
            4.0
        };
        let ratio = row.p99 / row.p50;
        let _ = writeln!(
            page,
            "| albums at {}, {} on {}: p99 ≤ {limit}× p50 | {ratio:.2}× | {} |",
            row.concurrency,
            row.path,
            row.store,
            verdict(ratio <= limit)
        );
        if let (Some(cpu), "SQLite", true) = (row.cpu_ms, row.store, row.path.starts_with("gRPC")) {
            let _ = writeln!(
                page,
                "| CPU per album (both services) at {} against the stub ≤ 0.6 ms | {cpu:.2} ms | {} |",
                row.concurrency,
                verdict(cpu <= 0.6)
            );
        }
    }
    if let (Some(fewest), Some(most)) = (stored.first(), stored.last()) {
        for (rpc, name) in [("get-song", "GetSong"), ("list-songs", "ListSongs")] {
            let p50 = |count: &u64| {
                loads
                    .iter()
                    .find(|((label, _), _)| *label == format!("{rpc}-{count}"))
                    .map(|(_, line)| number(&line["p50_ms"]))
            };
            if let (Some(few), Some(many)) = (p50(fewest), p50(most)) {
                let ratio = many / few;
                let _ = writeln!(
                    page,
                    "| `{name}` p50 with {most} songs ≤ 1.5× its p50 with {fewest} | {ratio:.2}× | {} |",
                    verdict(ratio <= 1.5)
                );
            }
        }
    }
    for line in &fairness {
        let ratio = number(&line["flood_p99_ms"]) / number(&line["alone_p99_ms"]);
        let _ = writeln!(
            page,
            "| a client's p99 while another floods ({} in flight per connection) ≤ 2× its p99 alone | {ratio:.2}× | {} |",
            line["flood_streams"],
            verdict(ratio <= 2.0)
        );
    }
    if let Some(slowest) = painter
        .iter()
        .map(|line| number(&line["ms"]))
        .reduce(f64::max)
    {
        let _ = writeln!(
            page,
            "| the painter ≤ 20 ms per 512×512 cover | {slowest} ms (slowest) | {} |",
            verdict(slowest <= 20.0)
        );
    }
    page
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
                "| `GetSong`, gRPC through Envoy | 16 | off | 1000 | 10 | 20 | 0.500 | 0 |"
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
}
