//! Envoy itself accepts both rendered profiles.

use std::{collections::BTreeMap, process::Command};

use gateway_config::{GatewaySettings, Profile};

use super::*;

#[test]
#[ignore = "needs Envoy: bin/test installs it and runs this"]
fn envoy_validates_both_profiles() {
    let envoy = tool("ENVOY");
    let variables: BTreeMap<String, String> = [(
        "SUPERSTAR_API_KEYS".to_owned(),
        "check:0123456789abcdef0123".to_owned(),
    )]
    .into();
    let settings = GatewaySettings::from_variables(&variables).unwrap();
    for profile in [Profile::Local, Profile::Compose] {
        let folder = tempfile::tempdir().unwrap();
        gateway_config::write(&settings, profile, folder.path()).unwrap();
        let config = folder.path().join(format!("envoy-{}.yaml", profile.name()));
        // Validation opens the files the config names, relative to the working
        // directory: give it the descriptor set, the certificates and the studio's
        // files where it looks.
        let root = tempfile::tempdir().unwrap();
        let text = std::fs::read_to_string(&config)
            .unwrap()
            .replace(
                profile.certs_dir(),
                &root.path().join("certs").display().to_string(),
            )
            .replace(
                profile.descriptor_path(),
                &folder.path().join("superstar.pb").display().to_string(),
            )
            .replace(
                &format!("filename: {}/", profile.studio_dir()),
                &format!("filename: {}/", repo().join("studio").display()),
            );
        std::fs::write(&config, text).unwrap();
        let ca = superstar_testkit::TestCa::new("validate");
        std::fs::create_dir_all(root.path().join("certs")).unwrap();
        for name in ["envoy", "envoy-client"] {
            let files = ca.issue(name);
            std::fs::copy(&files.cert, root.path().join(format!("certs/{name}.pem"))).unwrap();
            std::fs::copy(
                &files.key,
                root.path().join(format!("certs/{name}-key.pem")),
            )
            .unwrap();
        }
        std::fs::copy(ca.ca_path(), root.path().join("certs/ca.pem")).unwrap();

        let output = Command::new(&envoy)
            .args(["--mode", "validate", "--log-level", "error", "-c"])
            .arg(&config)
            .output()
            .expect("envoy runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{profile:?}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(stdout.contains("OK"), "{stdout}");
    }
}

/// What Envoy lets through in a JSON body, and assembles from a response, is what the
/// services accept and send: a body Envoy passes is never refused for its size behind it.
#[test]
fn the_gateway_and_the_services_agree_on_message_sizes() {
    use gateway_config::envoy::{MAX_JSON_REQUEST_BYTES, MAX_JSON_RESPONSE_BYTES};
    use superstar_server::grpc_server::{MAX_REQUEST_MESSAGE_BYTES, MAX_RESPONSE_MESSAGE_BYTES};
    assert_eq!(MAX_JSON_REQUEST_BYTES as usize, MAX_REQUEST_MESSAGE_BYTES);
    assert_eq!(MAX_JSON_RESPONSE_BYTES as usize, MAX_RESPONSE_MESSAGE_BYTES);
}
