//! Reading the gateway's settings from `.env`: defaults, limits, keys never echoed.

use gateway_config::settings::{Collector, GatewaySettings, Ports, SettingError, TokenBucket};

/// bin/up and bin/dev_init.sh let the environment override `.env` for these names
/// only: a setting read but not listed would silently ignore the environment.
#[test]
fn every_setting_read_is_listed() {
    let source = include_str!("../src/settings.rs");
    let reads = ["number(\"", "replicas(\"", "port(\"", "first_of(\""]
        .into_iter()
        .flat_map(|call| source.split(call).skip(1));
    for read in reads {
        let name = read.split('"').next().unwrap();
        assert!(GatewaySettings::VARIABLES.contains(&name), "{name}");
    }
    assert!(GatewaySettings::VARIABLES.contains(&"SUPERSTAR_API_KEYS"));
}

fn settings(pairs: &[(&str, &str)]) -> Result<GatewaySettings, SettingError> {
    GatewaySettings::from_variables(
        &pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

#[test]
fn defaults_follow_the_spec() {
    let settings = settings(&[("SUPERSTAR_API_KEYS", "dev:0123456789abcdef")]).unwrap();
    assert_eq!(settings.port, 8443);
    assert_eq!(
        settings.model_limit,
        TokenBucket {
            per_second: 2,
            burst: 10
        }
    );
    assert_eq!(
        settings.read_limit,
        TokenBucket {
            per_second: 50,
            burst: 100
        }
    );
    assert_eq!(settings.clients[0].name, "dev");
    assert_eq!(settings.ports, Ports::default());
    assert_eq!((settings.ports.admin, settings.ports.stats), (9901, 9902));
    assert_eq!(
        (settings.ports.song_producer, settings.ports.cover_designer),
        (50051, 50052)
    );
}

#[test]
fn a_port_is_a_port_for_every_replica() {
    let key = ("SUPERSTAR_API_KEYS", "dev:0123456789abcdef");
    let refused = settings(&[key, ("GATEWAY_ADMIN_PORT", "70000")]).unwrap_err();
    assert!(
        refused.to_string().contains("GATEWAY_ADMIN_PORT"),
        "{refused}"
    );
    // Replica 3 would listen on 65535 + 20.
    let refused = settings(&[
        key,
        ("SONG_PRODUCER_PORT", "65535"),
        ("SONG_PRODUCER_REPLICAS", "3"),
    ])
    .unwrap_err();
    assert!(
        refused.to_string().contains("SONG_PRODUCER_PORT")
            && refused.to_string().contains("last replica"),
        "{refused}"
    );
    let one = settings(&[key, ("SONG_PRODUCER_PORT", "65535")]).unwrap();
    assert_eq!(one.ports.song_producer, 65535);
}

#[test]
fn api_keys_are_checked_and_never_echoed() {
    let key = "supersecretkey-supersecretkey";
    let clients = settings(&[(
        "SUPERSTAR_API_KEYS",
        &format!(" web:{key} , cli:0123456789abcdef "),
    )])
    .unwrap()
    .clients;
    assert_eq!(
        clients.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["web", "cli"]
    );
    assert!(!format!("{clients:?}").contains(key));

    for bad in [
        "",
        "web",
        "web:short",
        "we b:0123456789abcdef",
        "a:0123456789abcdef,a:fedcba9876543210",
    ] {
        let error = settings(&[("SUPERSTAR_API_KEYS", bad)]).unwrap_err();
        assert_eq!(error.name, "SUPERSTAR_API_KEYS", "{bad:?}");
        assert!(!error.reason.contains("0123456789abcdef"));
    }
}

#[test]
fn collector_endpoints_parse() {
    let parsed = |endpoint| Collector::parse(endpoint).map(|c| (c.host, c.port));
    assert_eq!(parsed("http://jaeger:4317"), Some(("jaeger".into(), 4317)));
    assert_eq!(
        parsed("http://127.0.0.1:9999/"),
        Some(("127.0.0.1".into(), 9999))
    );
    assert_eq!(parsed("http://collector"), Some(("collector".into(), 4317)));
    assert_eq!(parsed("http://[::1]:4317"), Some(("::1".into(), 4317)));
    for bad in [
        "https://jaeger:4317",
        "jaeger:4317",
        "http://",
        "http://a b:1",
        "http://x:port",
    ] {
        assert_eq!(parsed(bad), None, "{bad}");
    }
}

#[test]
fn numbers_must_be_positive() {
    let keys = ("SUPERSTAR_API_KEYS", "dev:0123456789abcdef");
    assert_eq!(
        settings(&[keys, ("MODEL_BURST", "0")]).unwrap_err().name,
        "MODEL_BURST"
    );
    assert_eq!(
        settings(&[keys, ("GATEWAY_PORT", "70000")])
            .unwrap_err()
            .name,
        "GATEWAY_PORT"
    );
    for bad in ["0", "11", "two"] {
        assert_eq!(
            settings(&[keys, ("COVER_DESIGNER_REPLICAS", bad)])
                .unwrap_err()
                .name,
            "COVER_DESIGNER_REPLICAS"
        );
    }
    assert_eq!(
        settings(&[keys, ("SONG_PRODUCER_REPLICAS", "3")])
            .unwrap()
            .song_producer_replicas,
        3
    );
    assert_eq!(
        settings(&[keys, ("READ_RATE_PER_SECOND", "5")])
            .unwrap()
            .read_limit
            .per_second,
        5
    );
}
