//! RPC labels: every path is counted under a known service and method, or as unknown; latency buckets.

use std::time::Duration;

use superstar_server::serve::metrics::*;

#[test]
fn paths_split_into_service_and_method() {
    let rpc = RpcLabels::from_path("/superstar.v1.SongProducer/GetSong");
    assert_eq!(rpc.service, "superstar.v1.SongProducer");
    assert_eq!(rpc.method, "GetSong");
    let health = RpcLabels::from_path("/grpc.health.v1.Health/Watch");
    assert_eq!(
        (health.service, health.method),
        ("grpc.health.v1.Health", "Watch")
    );
    let reflection =
        RpcLabels::from_path("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
    assert_eq!(reflection.method, "ServerReflectionInfo");
}

#[test]
fn unknown_paths_are_labelled_unknown() {
    for (path, service) in [
        (
            "/superstar.v1.SongProducer/Nope",
            "superstar.v1.SongProducer",
        ),
        ("/made.up.Service/GetSong", UNKNOWN),
        ("/superstar.v1.SongProducer", "superstar.v1.SongProducer"),
        ("", UNKNOWN),
        ("//superstar.v1.SongProducer/GetSong", UNKNOWN),
    ] {
        let rpc = RpcLabels::from_path(path);
        assert_eq!(rpc.service, service, "{path}");
        assert_eq!(rpc.method, UNKNOWN, "{path}");
    }
}

proptest::proptest! {
    #[test]
    fn any_path_gets_a_label_from_the_known_set(path in ".{0,200}") {
        let rpc = RpcLabels::from_path(&path);
        let known = known_rpcs();
        proptest::prop_assert!(rpc.service == UNKNOWN || known.contains_key(rpc.service));
        proptest::prop_assert!(
            rpc.method == UNKNOWN
                || known.get(rpc.service).is_some_and(|methods| methods.iter().any(|m| m == rpc.method))
        );
    }
}

#[test]
fn latency_buckets_reach_five_minutes() {
    let metrics = Metrics::new();
    let rpc = RpcLabels::from_path("/superstar.v1.SongProducer/MakeMeSuperstar");
    metrics.handled(&rpc, tonic::Code::Ok, Duration::from_secs(170));
    let text = metrics.render();
    let bucket = |le: &str| {
        text.lines()
            .find(|line| {
                line.starts_with(&format!("grpc_server_handling_seconds_bucket{{le=\"{le}\""))
            })
            .and_then(|line| line.rsplit(' ').next())
            .unwrap_or_else(|| panic!("no bucket {le}: {text}"))
            .to_owned()
    };
    assert_eq!(bucket("300.0"), "1");
    assert_eq!(bucket("262.144"), "1");
    assert_eq!(bucket("131.072"), "0");
}

#[test]
fn handled_rpcs_are_rendered_with_their_code() {
    let metrics = Metrics::new();
    let rpc = RpcLabels::from_path("/superstar.v1.SongProducer/GetSong");
    metrics.started(&rpc);
    metrics.handled(&rpc, tonic::Code::NotFound, Duration::from_millis(3));
    let text = metrics.render();
    assert!(
        text.contains(
            r#"grpc_server_started_total{service="superstar.v1.SongProducer",method="GetSong"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(
        r#"grpc_server_handled_total{service="superstar.v1.SongProducer",method="GetSong",code="NotFound"} 1"#
    ), "{text}");
    assert!(
        text.contains("grpc_server_handling_seconds_bucket"),
        "{text}"
    );
}
