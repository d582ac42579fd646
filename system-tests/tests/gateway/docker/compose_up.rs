//! The stack itself: `docker compose up` serving the README, scaled, restarted, on
//! PostgreSQL with replicas; compose refusing to start before bin/dev_init.sh; compose
//! reading `.env` as our own tools do.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use super::{secrets::check_secrets, *};

/// How many of a cluster's hosts Envoy's health checks find healthy.
fn healthy_hosts(stack: &Stack, cluster: &str) -> usize {
    stack
        .get_inside("127.0.0.1", 9901, "/clusters")
        .lines()
        .filter(|line| {
            line.starts_with(&format!("{cluster}::")) && line.contains("::health_flags::healthy")
        })
        .count()
}

/// Waits until Envoy sees `count` healthy hosts in each upstream cluster.
fn wait_for_replicas(stack: &Stack, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for cluster in ["song_producer", "cover_designer"] {
        loop {
            let healthy = healthy_hosts(stack, cluster);
            if healthy == count {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Envoy sees {healthy} healthy {cluster} hosts, not {count}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// The gRPC calls a replica has answered for `service` (health checks excluded), from
/// its own Prometheus metrics.
fn calls_answered(stack: &Stack, container: &str, metrics_port: u16, service: &str) -> u64 {
    stack
        .get_inside(container, metrics_port, "/metrics")
        .lines()
        .filter(|line| {
            line.starts_with("grpc_server_handled_total{")
                && line.contains(&format!("service=\"{service}\""))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_compose_serves_the_readme_scaled_keeps_data_and_scopes_secrets() {
    let stack = Stack::new();

    // --- Two replicas of each service start together on one fresh SQLite file each --------
    stack.up(&["--scale", "song-producer=2", "--scale", "cover-designer=2"]);
    wait_for_replicas(&stack, 2);

    // --- The README, through the published port --------------------------------------------
    let album = the_readme_tour();

    // Every replica took traffic: Envoy balances over all of them.
    for (service, port, grpc_service, replicas) in [
        ("song-producer", 9101, "superstar.v1.SongProducer", 2),
        ("cover-designer", 9102, "superstar.v1.CoverDesigner", 2),
    ] {
        let containers = stack.inspect(service);
        assert_eq!(containers.len(), replicas, "{service} replicas");
        for container in containers {
            let name = container["Name"].as_str().unwrap().trim_start_matches('/');
            let answered = calls_answered(&stack, name, port, grpc_service);
            assert!(answered > 0, "{name} answered no {grpc_service} call");
        }
    }

    // --- Secrets: each container holds only its own ------------------------------------------
    check_secrets(&stack);

    // --- down, then up: the albums and covers are still there ------------------------------------
    stack.down();
    assert!(
        stack.containers().is_empty(),
        "docker compose down left containers"
    );
    stack.up(&[]);
    wait_for_replicas(&stack, 1);
    let id = album["id"].as_str().unwrap();
    let (kept, status) = curl(&format!("{KEY} https://localhost:8443/v1/albums/{id}"));
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["songs"], album["songs"]);
    let cover = album["cover"]["id"].as_str().unwrap();
    let (_, status) = curl(&format!("{KEY} https://localhost:8443/v1/covers/{cover}"));
    assert_eq!(status, 200, "the cover survived down and up");

    stack.down();
    assert!(stack.containers().is_empty());
    let networks = run(&mut docker(&[
        "network",
        "ls",
        "--quiet",
        "--filter",
        &format!("label=com.docker.compose.project={PROJECT}"),
    ]));
    assert!(networks.trim().is_empty(), "a network was left: {networks}");
}

/// `docker-compose.postgres.yml`: two replicas of each service on one PostgreSQL server,
/// started together (the migrations take sqlx's advisory lock), each service in its own
/// database with its own role; the README's album made and read back through Envoy;
/// then one replica of each `docker kill`ed under reads that never fail, and started
/// again to rejoin.
#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_compose_on_postgres_with_replicas() {
    let stack = Stack::with_overrides(&["docker-compose.postgres.yml"]);
    stack.up(&["--scale", "song-producer=2", "--scale", "cover-designer=2"]);
    wait_for_replicas(&stack, 2);

    let (album, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": "shared data", "songsCount": 2}}'"#
    ));
    assert_eq!(status, 200, "{album}");
    // Reads go to either replica: each finds what the other stored.
    let id = album["id"].as_str().unwrap();
    let cover = album["cover"]["id"].as_str().unwrap();
    for _ in 0..4 {
        let (read, status) = curl(&format!("{KEY} https://localhost:8443/v1/albums/{id}"));
        assert_eq!((status, &read["songs"]), (200, &album["songs"]));
        let (_, status) = curl(&format!("{KEY} https://localhost:8443/v1/covers/{cover}"));
        assert_eq!(status, 200);
    }
    let count = |role: &str, table: &str| {
        run(&mut stack.compose(&[
            "exec",
            "-T",
            "postgres",
            "psql",
            "--username",
            "postgres",
            "--dbname",
            role,
            "--tuples-only",
            "--no-align",
            "--command",
            &format!("SELECT count(*) FROM {table}"),
        ]))
        .trim()
        .to_owned()
    };
    assert_eq!(count("song_producer", "albums"), "1");
    assert_eq!(count("song_producer", "songs"), "2");
    assert_eq!(count("cover_designer", "covers"), "1");

    // Losing a replica of each: `docker kill` one while reads of the album and its
    // cover keep coming; none fails, and an album is still made (by the others).
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = Arc::clone(&stop);
        let (album, cover) = (id.to_owned(), cover.to_owned());
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                for path in [format!("albums/{album}"), format!("covers/{cover}")] {
                    let (body, status) = curl(&format!("{KEY} https://localhost:8443/v1/{path}"));
                    reads += 1;
                    if status != 200 {
                        failures.push(format!("{path}: {status} {body}"));
                    }
                }
            }
            (reads, failures)
        })
    };
    let mut killed = Vec::new();
    for service in ["song-producer", "cover-designer"] {
        let ids = run(&mut stack.compose(&["ps", "--quiet", service]));
        let victim = ids.split_whitespace().next().unwrap().to_owned();
        run(&mut docker(&["kill", &victim]));
        killed.push(victim);
        let deadline = Instant::now() + Duration::from_secs(10);
        let cluster = service.replace('-', "_");
        while healthy_hosts(&stack, &cluster) != 1 {
            assert!(
                Instant::now() < deadline,
                "the killed {service} stays in rotation"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let (after, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": "one replica down", "songsCount": 1, "requestId": "{}"}}'"#,
        uuid::Uuid::new_v4()
    ));
    assert_eq!(status, 200, "{after}");
    stop.store(true, Ordering::Relaxed);
    let (reads, failures) = reader.join().unwrap();
    assert!(reads > 0);
    assert_eq!(
        failures,
        Vec::<String>::new(),
        "reads failed while replicas were killed"
    );
    // Started again, they rejoin.
    for victim in &killed {
        run(&mut docker(&["start", victim]));
    }
    wait_for_replicas(&stack, 2);
    for service in ["song-producer", "cover-designer"] {
        let files = std::fs::read_dir(stack.data.path().join(service))
            .unwrap()
            .count();
        assert_eq!(
            files, 0,
            "{service} wrote SQLite files instead of using PostgreSQL"
        );
    }
}

/// `docker compose up` before bin/dev_init.sh: one clear line, and nothing started.
#[test]
#[ignore = "needs a Docker engine: bin/test runs this"]
fn docker_compose_up_before_dev_init_says_to_run_it() {
    let fresh = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("docker-compose.yml"),
        fresh.path().join("docker-compose.yml"),
    )
    .unwrap();
    let output: Output = Command::new("docker")
        .args(["compose", "up", "--no-build", "--detach"])
        .current_dir(fresh.path())
        .env("COMPOSE_PROJECT_NAME", "superstar-uninitialised")
        .env_remove("SUPERSTAR_UID")
        .env_remove("SUPERSTAR_GID")
        .env_remove("SUPERSTAR_API_KEYS")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("run bin/dev_init.sh first"), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
}

/// docker compose and our tools (dotenvy) read one `.env` the same way: the example's,
/// and every quoting and comment rule the README tells users about.
#[test]
#[ignore = "needs Docker's compose plugin: bin/test runs this"]
fn docker_compose_reads_env_files_as_dotenvy_does() {
    let project = tempfile::tempdir().unwrap();
    let mut text = std::fs::read_to_string(repo().join(".env.example")).unwrap();
    text.push_str(concat!(
        "PLAIN=value\n",
        "SPACED=\"two words\"\n",
        "LITERAL='a $dollar and # hash'\n",
        "COMMENTED=kept # dropped\n",
        "export EXPORTED=yes\n",
        "EXPANDED=\"${PLAIN}-more\"\n",
        "EMPTY=\n",
    ));
    std::fs::write(project.path().join(".env"), &text).unwrap();
    let ours = superstar_settings::env_file::parse(&text).unwrap();
    assert_eq!(ours["LITERAL"], "a $dollar and # hash");
    assert_eq!(ours["EXPANDED"], "value-more");
    let environment: serde_json::Map<String, Value> = ours
        .keys()
        .map(|name| (name.clone(), Value::String(format!("${{{name}}}"))))
        .collect();
    let compose = serde_json::json!({
        "services": {"probe": {"image": "scratch", "environment": environment}}
    });
    // JSON is YAML.
    std::fs::write(project.path().join("compose.yaml"), compose.to_string()).unwrap();
    // Only .env may speak: the test's own environment would win over it.
    let mut command = docker(&["compose", "config", "--format", "json"]);
    command.current_dir(project.path()).env_clear();
    for kept in ["PATH", "HOME", "DOCKER_CONFIG", "DOCKER_HOST"] {
        if let Some(value) = std::env::var_os(kept) {
            command.env(kept, value);
        }
    }
    let config: Value = serde_json::from_str(&run(&mut command)).unwrap();
    let theirs = &config["services"]["probe"]["environment"];
    for (name, value) in &ours {
        // `config` writes a compose file back, so it escapes each `$` as `$$`.
        let read = theirs[name].as_str().map(|text| text.replace("$$", "$"));
        assert_eq!(read.as_deref(), Some(value.as_str()), "{name}: {theirs}");
    }
}

/// The README's `docker compose --profile tracing up`, as compose reads it: without the
/// profile no Jaeger; with it, Jaeger's UI published on loopback only, and the endpoint
/// the README gives reaching Envoy and both services. (The official image itself cannot
/// be pulled where there is no registry, so the stack is not started here.)
#[test]
#[ignore = "needs the compose plugin: bin/test runs this"]
fn docker_the_tracing_profile_adds_jaeger_and_points_every_hop_at_it() {
    let config = |profile: Option<&str>| -> Value {
        let mut command = docker(&["compose"]);
        if let Some(profile) = profile {
            command.args(["--profile", profile]);
        }
        command
            .args(["config", "--format", "json"])
            .current_dir(repo())
            .env("COMPOSE_PROJECT_NAME", PROJECT)
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://jaeger:4317");
        serde_json::from_str(&run(&mut command)).unwrap()
    };
    let plain = config(None);
    assert!(
        plain["services"].get("jaeger").is_none(),
        "Jaeger only with its profile"
    );
    let traced = config(Some("tracing"));
    let jaeger = &traced["services"]["jaeger"];
    let published: Vec<(String, String)> = jaeger["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|port| {
            (
                port["host_ip"].as_str().unwrap_or_default().to_owned(),
                port["published"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(published, [("127.0.0.1".to_owned(), "16686".to_owned())]);
    for service in ["envoy", "song-producer", "cover-designer"] {
        assert_eq!(
            traced["services"][service]["environment"]["OTEL_EXPORTER_OTLP_ENDPOINT"],
            "http://jaeger:4317",
            "{service}"
        );
    }
}

/// `docker compose --profile monitoring up`: Prometheus on 127.0.0.1:9090 only, with the
/// committed rules loaded, finds Envoy and every replica of both services up.
#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_the_monitoring_profile_runs_prometheus_on_loopback_scraping_every_target() {
    let mut stack = Stack::new();
    stack.profiles.push("monitoring");
    stack.up(&["--scale", "song-producer=2"]);
    let prometheus = stack.inspect("prometheus");
    let bindings = &prometheus[0]["HostConfig"]["PortBindings"]["9090/tcp"];
    assert_eq!(bindings[0]["HostIp"], "127.0.0.1", "{bindings}");
    let api = |path: &str| -> Value {
        let output = Command::new("curl")
            .args(["-sS", "--max-time", "5"])
            .arg(format!("http://127.0.0.1:9090{path}"))
            .output()
            .unwrap();
        serde_json::from_slice(&output.stdout).unwrap_or(Value::Null)
    };
    // Envoy, two song producers and one cover designer, each scraped and up.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let targets = api("/api/v1/targets");
        let up: Vec<String> = targets["data"]["activeTargets"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|target| target["health"] == "up")
            .map(|target| {
                target["labels"]["job"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect();
        let count = |job: &str| up.iter().filter(|name| *name == job).count();
        if (
            count("envoy"),
            count("song-producer"),
            count("cover-designer"),
        ) == (1, 2, 1)
        {
            break;
        }
        assert!(Instant::now() < deadline, "targets up: {up:?}; {targets}");
        std::thread::sleep(Duration::from_millis(500));
    }
    let rules = api("/api/v1/rules");
    let mut groups: Vec<&str> = rules["data"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| group["name"].as_str().unwrap())
        .collect();
    groups.sort_unstable();
    assert_eq!(groups, ["superstar-alerts", "superstar-slis"]);
}
