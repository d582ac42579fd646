//! `bin/bench`, in a short run: it installs its tools, starts the system, runs every
//! measurement and writes its page. (The real run is minutes long; this one checks the
//! harness still works and measures something, not the figures.)

use std::collections::BTreeSet;

use super::{
    repo,
    up::{Ports, as_a_user},
};

#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn bin_bench_measures_everything_and_writes_its_page() {
    let (ports, _claim) = Ports::claim();
    let folder = tempfile::tempdir().unwrap();
    let page = folder.path().join("benchmarks.md");

    let output = as_a_user(repo().join("bin/bench"))
        .current_dir(repo())
        .envs(ports.variables())
        .env("SUPERSTAR_RUN_DIR", folder.path().join("up"))
        .env("BENCH_DURATION_MS", "1000")
        .env("BENCH_WARMUP_MS", "1000")
        .env("BENCH_CONCURRENCY", "1 4")
        .env("BENCH_STREAMS", "10")
        .env("BENCH_FAIRNESS_SAMPLES", "50")
        // A read limit alice's flood spends within the bench's 30 s whatever the
        // binaries' profile (bin/test's are unoptimized), that still holds bob's reads:
        // for each of the 2 floods, 20 to warm up and 50 samples alone and flooded.
        .env("BENCH_FAIRNESS_READS", "20 400")
        .env("BENCH_ALBUM_CONCURRENCY", "4")
        .env("BENCH_SONGS", "100 1000")
        .env("BENCH_LOCAL_SAMPLES", "2")
        .env("BENCH_OUT", &page)
        .output()
        .expect("bin/bench runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let page = std::fs::read_to_string(&page).expect("bin/bench wrote its page");
    // Every load step at both levels, each with requests and no errors.
    let mut measured = BTreeSet::new();
    for row in page.lines().filter(|line| {
        line.starts_with("| 1. ")
            || line.starts_with("| 2. ")
            || line.starts_with("| 3. ")
            || line.starts_with("| 4. ")
    }) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        // | measurement | concurrency | requests/s | p50 | p99 | errors |
        if cells.len() != 8 {
            continue; // the CPU table
        }
        let rps: f64 = cells[3].parse().unwrap_or_else(|_| panic!("{row}"));
        assert!(rps > 0.0, "{row}");
        assert_eq!(cells[6], "0", "errors: {row}");
        measured.insert((cells[1][..2].to_owned(), cells[2].to_owned()));
    }
    assert_eq!(
        measured.len(),
        8,
        "4 measurements × 2 levels: {measured:?}\n{page}"
    );
    for section in [
        "## The gateway's cost",
        "### Where the CPU goes",
        "the first `Jam` delta through Envoy",
        "| 10 open `Jam` streams |",
        "## 7. Fairness: one client floods, another reads",
        "(1 in flight per connection) ≤ 2× its p99 alone",
        "(16 in flight per connection) ≤ 2× its p99 alone",
        "## 8. Albums, on SQLite and on PostgreSQL",
        "| gRPC direct, stub models | SQLite | 4 |",
        "| gRPC direct, stub models | PostgreSQL | 4 |",
        "| JSON through Envoy, offline | SQLite | 4 |",
        "| JSON through Envoy, offline | PostgreSQL | 4 |",
        "CPU per album (both services) at 4 against the stub",
        "## 9. Reads with many songs stored",
        "`ListSongs` p50 with 1000 songs ≤ 1.5× its p50 with 100",
        "## 10. The cost of tracing",
        "| `GetSong`, gRPC through Envoy | 4 | on |",
        "| `MakeMeSuperstar` as JSON through Envoy, offline | 4 | on |",
        "CPU per request, on ÷ off",
        "## 11. Lyrics from a local model",
        "| a stored one-song album through Envoy |",
        "a one-song album against a local model ≤ 1.3×",
        "## The offline painter",
        "## Targets",
        "first streamed line ≤ the stub's first token + 10 ms",
        "## Reading the figures",
    ] {
        assert!(page.contains(section), "{section} in\n{page}");
    }
    // Tracing was really on: the counting sink got spans.
    let spans: u64 = page
        .split("The sink received ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("the sink's count in\n{page}"));
    assert!(spans > 0, "{page}");
}
