//! The README's commands, run against the whole system as `bin/up` starts it: Envoy
//! from its PyPI wheel in front of both services, TLS, API keys, rate limits, JSON
//! transcoding, grpcurl over reflection. Then the failures a user can meet, and a clean
//! stop.

use std::{
    net::TcpListener,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{
    up::{KEY, Up, as_a_user, bash, curl, detail, grpcurl, ok, sh, streaming, system},
    *,
};

/// Runs `bin/dev_init.sh` as a user would, without this test's cargo variables, and
/// without its image build (bin/test's Docker stage builds and tests the images).
fn dev_init() -> String {
    let output = as_a_user(repo().join("bin/dev_init.sh"))
        .arg("--no-images")
        .current_dir(repo())
        .output()
        .expect("dev_init runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "needs the release build: bin/test runs this"]
fn dev_init_twice_changes_nothing() {
    // (bin/dev_init.sh renders envoy/generated/ from .env; each test's bin/up renders
    // into a folder of its own, so the two never meet.)
    dev_init();
    let snapshot = || -> Vec<(String, Vec<u8>)> {
        let mut files: Vec<_> = std::fs::read_dir(repo().join("certs"))
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.push(repo().join(".env"));
        files.sort();
        files
            .iter()
            .map(|path| (path.display().to_string(), std::fs::read(path).unwrap()))
            .collect()
    };
    let before = snapshot();
    let said = dev_init();
    assert_eq!(
        snapshot(),
        before,
        "a second run changed certificates or .env"
    );
    assert!(
        !said.contains("made"),
        "a second run made something: {said}"
    );
    assert!(
        before
            .iter()
            .any(|(path, _)| path.ends_with("song-producer-client-key.pem"))
    );
}

#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn the_readme_works_through_envoy() {
    let data = tempfile::tempdir().unwrap();
    // Many Rust users set CARGO_TARGET_DIR: bin/up must run the binaries from there. A
    // link to this checkout's target folder, so nothing is built twice.
    let target = data.path().join("elsewhere");
    std::os::unix::fs::symlink(repo().join("target"), &target).unwrap();
    let target = target.display().to_string();
    let up = Up::start_with(
        data.path(),
        &[
            ("SUPERSTAR_PROVIDER", "offline"),
            ("CARGO_TARGET_DIR", &target),
            // A key exported to bin/up itself must still reach only the services (the
            // providers stay offline: it is never used).
            (
                "OPENAI_API_KEY",
                "sk-exported-to-bin-up-only-for-the-services",
            ),
        ],
    );
    // This system's processes, from the pid files bin/up keeps (other tests' systems
    // run the same binaries).
    let pid = |name: &str| -> String {
        std::fs::read_to_string(up.system.pid_file(name))
            .unwrap()
            .trim()
            .to_owned()
    };
    let folder = profile_folder();
    for service in ["song-producer", "cover-designer"] {
        let command_line = std::fs::read(format!("/proc/{}/cmdline", pid(service))).unwrap();
        assert!(
            command_line.starts_with(format!("{target}/{folder}/{service}").as_bytes()),
            "bin/up did not run {service} from CARGO_TARGET_DIR: {}",
            String::from_utf8_lossy(&command_line)
        );
    }
    // Each process holds only the secrets it needs: the API keys only Envoy's rendered
    // config (not even Envoy's environment), the OpenAI key only the services, whether
    // they came from .env or from bin/up's own environment; the database URLs (the test
    // exports them to bin/up) reach no process under those names.
    let variables = |name: &str| -> Vec<String> {
        let environ = std::fs::read(format!("/proc/{}/environ", pid(name))).unwrap();
        environ
            .split(|byte| *byte == 0)
            .map(|entry| String::from_utf8_lossy(entry).into_owned())
            .filter_map(|entry| Some(entry.split_once('=')?.0.to_owned()))
            .collect()
    };
    let pids = ["song-producer", "cover-designer", "envoy"].map(pid);
    for process in ["song-producer", "cover-designer", "envoy"] {
        let names = variables(process);
        assert!(
            names.iter().any(|name| name == "PATH"),
            "{process}: {names:?}"
        );
        assert!(
            !names.iter().any(|name| name == "SUPERSTAR_API_KEYS"),
            "{process} holds the API keys: {names:?}"
        );
        let holds_openai_key = names.iter().any(|name| name == "OPENAI_API_KEY");
        assert_eq!(holds_openai_key, process != "envoy", "{process}: {names:?}");
        for url in ["SONG_PRODUCER_DATABASE_URL", "COVER_DESIGNER_DATABASE_URL"] {
            assert!(
                !names.iter().any(|name| name == url),
                "{process}: {names:?}"
            );
        }
    }

    // One request id in Envoy's access log and in both services' logs: Envoy made it,
    // the song producer passed it on to the cover designer.
    let headers = ok(&format!(
        r#"curl -sS -o /dev/null -D - --cacert certs/ca.pem {KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": "request ids"}}'"#
    ));
    let request_id = headers
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .expect("the response carries the request id")
        .trim()
        .to_owned();
    let logged = |service: &str| up.system.log(service);
    for service in ["song-producer", "cover-designer"] {
        let log = logged(service);
        let line = log
            .lines()
            .rev()
            .find(|line| line.contains(&request_id))
            .unwrap_or_else(|| panic!("{request_id} in the {service} log"));
        let line: Value = serde_json::from_str(line).expect("JSON log lines");
        assert_eq!(line["span"]["request_id"], request_id, "{line}");
    }
    let key = ok("echo $SUPERSTAR_KEY").trim().to_owned();
    // Envoy flushes its access log every half second (bin/up sets it): poll for the line.
    let deadline = Instant::now() + Duration::from_secs(5);
    let access = loop {
        let found = logged("envoy")
            .lines()
            .rev()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["request_id"] == request_id.as_str());
        match found {
            Some(line) => break line,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            None => panic!("Envoy's JSON access log has no line for {request_id}"),
        }
    };
    assert_eq!(access["path"], "/v1/albums");
    assert_eq!(access["status"], 200);
    assert!(
        !access["client"].as_str().unwrap_or_default().is_empty(),
        "the client's name: {access}"
    );
    for service in ["envoy", "song-producer", "cover-designer"] {
        assert!(
            !logged(service).contains(&key),
            "the API key reached the {service} log"
        );
    }

    the_readme_tour();

    // Each client's spend, on the song producer's metrics port.
    let spend =
        ok(r#"curl -s localhost:9101/metrics | grep 'superstar_model_calls_total{client="dev"'"#);
    let calls: f64 = spend
        .lines()
        .find(|line| line.contains(r#"model="offline""#))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("the dev client's calls: {spend}"));
    assert!(
        calls >= 6.0,
        "the tour's albums and streams wrote songs: {spend}"
    );

    let ports = system().ports;
    for port in [ports.song_producer, ports.cover_designer] {
        let (success, refused) = grpcurl(&format!("localhost:{port} list"));
        assert!(
            !success,
            "a client without a certificate was served on {port}: {refused}"
        );
    }

    // --- A clean stop ------------------------------------------------------------------------
    let status = up.stop();
    assert_eq!(
        status.code(),
        Some(143),
        "bin/up reports the SIGTERM it handled"
    );
    for port in [
        ports.gateway,
        ports.admin,
        ports.stats,
        ports.song_producer,
        ports.cover_designer,
        ports.song_producer_metrics,
        ports.cover_designer_metrics,
    ] {
        assert!(
            TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is still taken after SIGTERM"
        );
    }
    for pid in pids {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} left behind"
        );
    }
}

/// The names of a JSON object's fields, sorted.
fn field_names(object: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = object
        .as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    names
}

/// The README's "Try it" and "When things go wrong" commands, run as written against the
/// gateway on https://localhost:8443, however it was started (`bin/up` or `docker
/// compose up`): a JSON album, a FieldMask, paging, the NDJSON stream, the cover PNG,
/// grpcurl through reflection (list, describe, ListSongs, Jam, health), 401, 400, 404,
/// plaintext refused, and the model bucket's 429 and RESOURCE_EXHAUSTED. Returns the
/// first album it made.
pub(super) fn the_readme_tour() -> Value {
    // A fresh id per run: the compose test runs the tour against volumes that may have
    // seen an earlier run within 24 hours.
    let album_request_id = uuid::Uuid::new_v4();

    // --- The studio: the page and its files, no key needed, under a strict policy ----
    let downloads = tempfile::tempdir().unwrap();
    let config = rendered_gateway();
    let studio_routes = connection_manager(&config)["route_config"]["virtual_hosts"][0]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|route| route.get("direct_response").is_some() && route["name"] != "openapi.json");
    for route in studio_routes {
        let path = route["match"]["path"].as_str().unwrap();
        let file = route["direct_response"]["body"]["filename"]
            .as_str()
            .unwrap()
            .trim_start_matches("studio/");
        let header = |name: &str| {
            route["response_headers_to_add"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["header"]["key"] == name)
                .unwrap()["header"]["value"]
                .as_str()
                .unwrap()
                .to_lowercase()
        };
        let (content_type, policy) = (header("content-type"), header("content-security-policy"));
        let body = downloads.path().join(file);
        let headers = ok(&format!(
            "curl -sS --fail --cacert certs/ca.pem -D - -o {} https://localhost:8443{path}",
            body.display()
        ))
        .to_lowercase();
        assert!(headers.starts_with("http/2 200"), "{path}: {headers}");
        assert!(
            headers.contains(&format!("content-type: {content_type}")),
            "{path}: {headers}"
        );
        assert!(
            headers.contains("x-content-type-options: nosniff"),
            "{headers}"
        );
        assert!(
            headers.contains(&format!("content-security-policy: {policy}")),
            "{headers}"
        );
        assert_eq!(
            std::fs::read(&body).unwrap(),
            std::fs::read(repo().join("studio").join(file)).unwrap(),
            "{path} is studio/{file}"
        );
    }
    let (refused, status) = curl("https://localhost:8443/v1/songs");
    assert_eq!(status, 401, "the API still asks for a key: {refused}");

    // --- JSON, unary ------------------------------------------------------------------
    let (album, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "heavy metal", "theme": "dragons over the city", "songsCount": 2}}'"#
    ));
    assert_eq!(status, 200, "{album}");
    assert_eq!(album["genre"], "heavy metal");
    assert_eq!(album["songs"].as_array().unwrap().len(), 2);
    assert_eq!(
        album["songs"][0]["albumId"], album["id"],
        "lowerCamelCase JSON"
    );
    let cover_id = album["cover"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        album["cover"]["imageUri"],
        format!("/v1/covers/{cover_id}/image")
    );

    // --- A retried create is made once (AIP-155 request_id) ------------------------------
    let retried = format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": "second chances", "requestId": "{album_request_id}"}}'"#
    );
    let (first, status) = curl(&retried);
    assert_eq!(status, 200, "{first}");
    let (again, status) = curl(&retried);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again, first, "the retry is answered with the first album");
    let (body, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": "other chances", "requestId": "{album_request_id}"}}'"#
    ));
    assert_eq!((status, body["code"].as_i64()), (400, Some(3)), "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("request_id: "),
        "{body}"
    );
    // What only the song producer may call is not routed.
    let (success, refused) = grpcurl(&format!(
        r#"{KEY} -d '{{"requestId": "{album_request_id}"}}' localhost:8443 superstar.v1.CoverDesignerInternal/WithdrawCover"#
    ));
    assert!(
        !success && refused.contains("Unimplemented"),
        "the gateway routes no internal call: {refused}"
    );

    let song_id = album["songs"][0]["id"].as_str().unwrap();
    let (song, status) = curl(&format!(
        "{KEY} 'https://localhost:8443/v1/songs/{song_id}?readMask=title,lyrics'"
    ));
    assert_eq!(status, 200);
    assert_eq!(song["title"], album["songs"][0]["title"]);
    assert_eq!(
        field_names(&song),
        ["lyrics", "title"],
        "fields masked out are absent (AIP-157): {song}"
    );
    let (whole, status) = curl(&format!("{KEY} https://localhost:8443/v1/songs/{song_id}"));
    assert_eq!(status, 200);
    assert_eq!(
        field_names(&whole),
        [
            "albumId",
            "createTime",
            "genre",
            "id",
            "lyrics",
            "model",
            "theme",
            "title"
        ],
        "an unmasked song prints every field: {whole}"
    );

    let (page, status) = curl(
        r#"-H "Authorization: Bearer $SUPERSTAR_KEY" 'https://localhost:8443/v1/songs?pageSize=1'"#,
    );
    assert_eq!(status, 200);
    assert_eq!(page["songs"].as_array().unwrap().len(), 1);
    assert!(!page["nextPageToken"].as_str().unwrap().is_empty());
    let (albums, status) = curl(&format!(
        "{KEY} 'https://localhost:8443/v1/albums?pageSize=1'"
    ));
    assert_eq!(status, 200, "{albums}");
    let newest = &albums["albums"][0];
    assert_eq!(
        newest["theme"], "second chances",
        "the newest first: {albums}"
    );
    assert_eq!(
        newest["songs"].as_array().unwrap().len(),
        1,
        "whole albums: {albums}"
    );
    assert!(newest["cover"]["id"].is_string(), "{albums}");
    assert!(!albums["nextPageToken"].as_str().unwrap().is_empty());

    // --- JSON, server stream: one song a line, each as soon as it is written -------------
    let (mut stream, mut lines) = streaming(bash(&format!(
        "exec curl -sS -N --cacert certs/ca.pem {KEY} https://localhost:8443/v1/lyrics:stream \
         -d '{{\"genre\": \"polish disco polo\", \"theme\": \"summer at the lake\", \"songsCount\": 3}}'"
    )));
    let first: Value =
        serde_json::from_str(&lines.next().unwrap().unwrap()).expect("one JSON song per line");
    assert_eq!(first["genre"], "polish disco polo");
    assert_eq!(first["albumId"], "", "a song of no album says so: {first}");
    assert!(
        stream.try_wait().unwrap().is_none(),
        "the first song arrived while the stream was still open"
    );
    let rest: Vec<Value> = lines
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect();
    assert_eq!(rest.len(), 2);
    assert!(stream.wait().unwrap().success());

    // --- JSON, an album streamed: each song as it is written, the cover, the album -------
    let (mut stream, mut lines) = streaming(bash(&format!(
        "exec curl -sS -N --cacert certs/ca.pem {KEY} https://localhost:8443/v1/albums:stream \
         -d '{{\"genre\": \"synthwave\", \"theme\": \"night drive\", \"songsCount\": 2}}'"
    )));
    let first: Value =
        serde_json::from_str(&lines.next().unwrap().unwrap()).expect("one JSON message per line");
    assert_eq!(first["song"]["genre"], "synthwave", "a song first: {first}");
    assert!(first["song"].get("id").is_none(), "not stored yet: {first}");
    assert!(
        stream.try_wait().unwrap().is_none(),
        "the first song arrived while the album was still being made"
    );
    let rest: Vec<Value> = lines
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect();
    assert!(stream.wait().unwrap().success());
    assert_eq!(
        rest.len(),
        3,
        "a second song, the cover, the album: {rest:?}"
    );
    assert!(rest[0]["song"].is_object() && rest[1]["cover"].is_object());
    let streamed = &rest[2]["album"];
    assert_eq!(streamed["songs"][0]["title"], first["song"]["title"]);
    assert_eq!(streamed["cover"], rest[1]["cover"]);
    let (stored, status) = curl(&format!(
        "{KEY} https://localhost:8443/v1/albums/{}",
        streamed["id"].as_str().unwrap()
    ));
    assert_eq!(status, 200);
    assert_eq!(&stored, streamed, "the streamed album is the stored one");

    // --- The cover image -----------------------------------------------------------------
    let downloads = tempfile::tempdir().unwrap();
    let cover = downloads.path().join("cover.png");
    let headers = ok(&format!(
        "curl -sS --cacert certs/ca.pem {KEY} -o {} -D - https://localhost:8443/v1/covers/{cover_id}/image",
        cover.display()
    ));
    assert!(
        headers.to_lowercase().contains("content-type: image/png"),
        "{headers}"
    );
    assert!(
        std::fs::read(&cover)
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );

    // --- grpcurl over TLS, through reflection ------------------------------------------------
    let (success, services) = grpcurl(&format!("{KEY} localhost:8443 list"));
    assert!(success, "{services}");
    for service in [
        "grpc.health.v1.Health",
        "superstar.v1.CoverDesigner",
        "superstar.v1.SongProducer",
    ] {
        assert!(
            services.lines().any(|line| line == service),
            "{service} in {services}"
        );
    }
    let (success, jam) = grpcurl(&format!(
        "{KEY} localhost:8443 describe superstar.v1.SongProducer.Jam"
    ));
    assert!(success && jam.contains("rpc Jam ( stream .superstar.v1.JamRequest ) returns ( stream .superstar.v1.JamReply )"), "{jam}");
    let (success, described) = grpcurl(&format!("{KEY} localhost:8443 describe superstar.v1.Song"));
    assert!(
        success && described.contains("The song's title"),
        "comments reach users: {described}"
    );
    // The README's StreamAlbum over gRPC: each message a JSON object, the album last.
    let (success, streamed) = grpcurl(&format!(
        r#"{KEY} -d '{{"genre": "synthwave", "theme": "night drive", "songs_count": 2}}' localhost:8443 superstar.v1.SongProducer/StreamAlbum"#
    ));
    assert!(success, "{streamed}");
    let messages: Vec<Value> = serde_json::Deserializer::from_str(&streamed)
        .into_iter()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|error| panic!("{error}: {streamed}"));
    let kinds: Vec<&str> = messages
        .iter()
        .map(|message| message.as_object().unwrap().keys().next().unwrap().as_str())
        .collect();
    assert_eq!(kinds, ["song", "song", "cover", "album"], "{streamed}");
    let (success, listed) = grpcurl(&format!(
        r#"{KEY} -d '{{"pageSize": 2}}' localhost:8443 superstar.v1.SongProducer/ListSongs"#
    ));
    assert!(success, "{listed}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(listed["songs"].as_array().unwrap().len(), 2);
    let (success, jammed) = grpcurl(&format!(
        r#"{KEY} -d '{{"start": {{"genre": "jazz", "theme": "late trains"}}}} {{"revise": {{"instruction": "shorter"}}}}' localhost:8443 superstar.v1.SongProducer/Jam"#
    ));
    assert!(success, "{jammed}");
    assert!(
        jammed.contains("\"delta\"") && jammed.matches("\"song\"").count() == 2,
        "two takes: {jammed}"
    );
    let (success, health) = grpcurl(&format!("{KEY} localhost:8443 grpc.health.v1.Health/Check"));
    assert!(success && health.contains("\"SERVING\""), "{health}");

    // --- Failures ----------------------------------------------------------------------------
    let (body, status) = curl("https://localhost:8443/v1/songs");
    assert_eq!((status, body["code"].as_i64()), (401, Some(16)), "{body}");
    let (body, status) = curl("-H 'x-api-key: not-a-key' https://localhost:8443/v1/songs");
    assert_eq!((status, body["code"].as_i64()), (401, Some(16)), "{body}");
    // Envoy's own refusals read as a sentence to a gRPC client, not as JSON.
    let (success, denied) = grpcurl("localhost:8443 list");
    assert!(
        !success
            && denied.contains(
                "code = Unauthenticated desc = missing or unknown API key: send x-api-key or Authorization: Bearer"
            ),
        "{denied}"
    );

    let (body, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": ""}}'"#
    ));
    assert_eq!((status, body["code"].as_i64()), (400, Some(3)), "{body}");
    assert!(
        body["message"].as_str().unwrap().starts_with("theme: "),
        "{body}"
    );
    // The AIP-193 details, as JSON: which field, and why, for a program.
    let bad_request = detail(&body, "google.rpc.BadRequest");
    assert_eq!(
        bad_request["fieldViolations"][0]["field"], "theme",
        "{body}"
    );
    let info = detail(&body, "google.rpc.ErrorInfo");
    assert_eq!(
        (&info["reason"], &info["domain"]),
        (&"INVALID_FIELD".into(), &"superstar.v1".into()),
        "{body}"
    );
    let (body, status) = curl(&format!(
        "{KEY} https://localhost:8443/v1/songs/0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e"
    ));
    assert_eq!((status, body["code"].as_i64()), (404, Some(5)), "{body}");
    assert_eq!(
        detail(&body, "google.rpc.ErrorInfo")["reason"],
        "SONG_NOT_FOUND"
    );
    let (body, status) = curl(&format!("{KEY} https://localhost:8443/v1/nothing-here"));
    assert_eq!((status, body["code"].as_i64()), (404, Some(5)), "{body}");
    // What the transcoder cannot read is JSON too (schemathesis found these text/plain).
    for query in [
        "songs?foo=1",
        "songs?pageSize=null",
        "songs/0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e?readMask=no.such.field",
    ] {
        let (body, status) = curl(&format!("{KEY} 'https://localhost:8443/v1/{query}'"));
        assert_eq!(
            (status, body["code"].as_i64()),
            (400, Some(3)),
            "{query}: {body}"
        );
        assert!(
            !body["message"].as_str().unwrap().is_empty(),
            "{query}: {body}"
        );
    }

    let plaintext = sh("curl -sS http://localhost:8443/v1/songs");
    assert!(!plaintext.status.success(), "plaintext must be refused");
    // The model class: a burst of 10, then 429 (JSON) and RESOURCE_EXHAUSTED (gRPC). The
    // calls go at once: one after another, each would wait for its cover while the
    // bucket refills (2 tokens a second), however slow the machine.
    let bodies = tempfile::tempdir().unwrap();
    let statuses = ok(&format!(
        r#"for i in $(seq 30); do curl -sS --cacert certs/ca.pem {KEY} -o {}/$i.json -w "%{{http_code}} $i\n" https://localhost:8443/v1/covers -d '{{"description": "a red sky"}}' & done; wait"#,
        bodies.path().display()
    ));
    let mut limited = None;
    for line in statuses.lines() {
        let (status, call) = line.split_once(' ').expect("a status and a call");
        let body = std::fs::read_to_string(bodies.path().join(format!("{call}.json"))).unwrap();
        match status {
            "200" => {}
            "429" => limited = Some(body),
            other => panic!("{other}: {body}"),
        }
    }
    let limited: Value = serde_json::from_str(
        &limited.unwrap_or_else(|| panic!("no 429 in a burst of 30: {statuses}")),
    )
    .unwrap();
    assert_eq!(limited["code"], 8, "{limited}");
    // The bucket refills while a grpcurl starts (2 tokens a second), so send a burst.
    let exhausted = ok(&format!(
        r#"for i in $(seq 12); do .venv/bin/grpcurl -cacert certs/ca.pem {KEY} -d '{{"description": "x"}}' localhost:8443 superstar.v1.CoverDesigner/DesignCover 2>&1 & done; wait"#
    ));
    assert!(
        exhausted.contains("Code: ResourceExhausted")
            && exhausted.contains("Message: rate limit exceeded; retry later")
            && !exhausted.contains("{\"code\""),
        "{exhausted}"
    );
    let (body, status) = curl(&format!(
        "{KEY} https://localhost:8443/v1/covers/{cover_id}"
    ));
    assert_eq!(status, 200, "reads have their own bucket: {body}");

    album
}
