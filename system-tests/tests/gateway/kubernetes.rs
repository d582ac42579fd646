//! `deploy/kubernetes/`: every manifest (and the Secrets `bin/kube-secrets` prints)
//! valid against Kubernetes' own schemas, strictly (no field Kubernetes would drop),
//! and in agreement with `docker-compose.yml`: the same names, ports, settings and
//! certificate files. There is no cluster here; the schemas come with
//! `kubernetes-validate` (bin/test installs it).

use std::{
    collections::{BTreeMap, BTreeSet},
    process::Command,
};

use serde_json::Value;

use super::{up::as_a_user, *};

fn folder() -> PathBuf {
    repo().join("deploy/kubernetes")
}

/// The manifests' file names, as the kustomization lists them.
fn manifest_files() -> Vec<String> {
    read_yaml(&folder().join("kustomization.yaml"))["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|file| file.as_str().unwrap().to_owned())
        .collect()
}

/// Every document of a multi-document YAML text (split on `---` lines).
fn documents(text: &str) -> Vec<Value> {
    format!("\n{text}")
        .split("\n---")
        .map(|document| {
            serde_yaml_ng::from_str::<serde_yaml_ng::Value>(document).expect("valid YAML")
        })
        .map(|value| serde_json::to_value(value).unwrap())
        .filter(|value| !value.is_null())
        .collect()
}

fn resources() -> Vec<Value> {
    manifest_files()
        .iter()
        .flat_map(|file| documents(&std::fs::read_to_string(folder().join(file)).unwrap()))
        .collect()
}

fn find<'a>(resources: &'a [Value], kind: &str, name: &str) -> &'a Value {
    resources
        .iter()
        .find(|resource| resource["kind"] == kind && resource["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

/// What `bin/kube-secrets` prints for a checkout with PostgreSQL URLs set.
fn kube_secrets() -> String {
    let output = as_a_user(repo().join("bin/kube-secrets"))
        .current_dir(repo())
        .env(
            "SONG_PRODUCER_DATABASE_URL",
            "postgres://songs:songs-password@db/songs",
        )
        .env(
            "COVER_DESIGNER_DATABASE_URL",
            "postgres://covers:covers-password@db/covers",
        )
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
#[ignore = "needs kubernetes-validate and the certificates: bin/test runs this"]
fn the_manifests_and_the_secrets_validate_against_the_kubernetes_schemas() {
    let listed: BTreeSet<String> = manifest_files().into_iter().collect();
    let present: BTreeSet<String> = std::fs::read_dir(folder())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.ends_with(".yaml") && name != "kustomization.yaml")
        .collect();
    assert_eq!(listed, present, "the kustomization lists every manifest");

    let secrets = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(secrets.path(), kube_secrets()).unwrap();
    let mut command = Command::new(tool("KUBERNETES_VALIDATE"));
    command.args(["--strict", "--no-warn"]);
    command.args(listed.iter().map(|file| folder().join(file)));
    command.arg(secrets.path());
    let output = command.output().unwrap();
    let said = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{said}");
    let resources =
        resources().len() + documents(&std::fs::read_to_string(secrets.path()).unwrap()).len();
    assert_eq!(said.matches(" passed ").count(), resources, "{said}");
}

#[test]
#[ignore = "needs the certificates (bin/dev_init.sh): bin/test runs this"]
fn the_manifests_agree_with_compose() {
    let compose = read_yaml(&repo().join("docker-compose.yml"));
    let resources = resources();
    let secrets = documents(&kube_secrets());
    let secret_keys = |name: &str| -> BTreeSet<String> {
        let secret = find(&secrets, "Secret", name);
        secret["data"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    for secret in &secrets {
        let keys = secret["data"].as_object().unwrap();
        assert!(
            !keys.contains_key("ca-key.pem"),
            "the CA's key stays out of the cluster"
        );
    }
    let settings = find(&resources, "ConfigMap", "gateway-settings")["data"].clone();

    for service in ["cover-designer", "song-producer", "envoy"] {
        let composed = &compose["services"][service];
        let deployment = find(&resources, "Deployment", service);
        let pod = &deployment["spec"]["template"]["spec"];
        let container = &pod["containers"][0];

        // The same settings, with compose's defaults as the values.
        let compose_env: BTreeMap<String, String> = composed["environment"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(name, value)| (name.clone(), compose_default(value.as_str().unwrap())))
            .collect();
        let kube_env: BTreeMap<String, &Value> = container["env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|variable| (variable["name"].as_str().unwrap().to_owned(), variable))
            .collect();
        assert_eq!(
            kube_env.keys().collect::<Vec<_>>(),
            compose_env.keys().collect::<Vec<_>>(),
            "{service}: the same variables"
        );
        for (name, variable) in &kube_env {
            let value = if let Some(value) = variable["value"].as_str() {
                value.to_owned()
            } else if let Some(reference) = variable["valueFrom"]["configMapKeyRef"].as_object() {
                assert_eq!(reference["name"], "gateway-settings");
                settings[reference["key"].as_str().unwrap()]
                    .as_str()
                    .unwrap()
                    .to_owned()
            } else {
                // A secret: the Secret bin/kube-secrets prints holds that key.
                let reference = &variable["valueFrom"]["secretKeyRef"];
                let secret = reference["name"].as_str().unwrap();
                if reference["optional"] != true {
                    assert!(
                        secret_keys(secret).contains(reference["key"].as_str().unwrap()),
                        "{service}: {name} from {secret}"
                    );
                }
                continue;
            };
            assert_eq!(value, compose_env[name], "{service}: {name}");
        }

        // The same ports.
        let kube_ports: BTreeSet<u64> = container["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|port| port["containerPort"].as_u64().unwrap())
            .collect();
        let compose_ports: BTreeSet<u64> = match composed["expose"].as_array() {
            Some(exposed) => exposed
                .iter()
                .map(|port| port.as_str().unwrap().parse().unwrap())
                .collect(),
            None => BTreeSet::from([settings["GATEWAY_PORT"].as_str().unwrap().parse().unwrap()]),
        };
        assert_eq!(kube_ports, compose_ports, "{service}: ports");
        let service_object = find(&resources, "Service", service);
        let service_ports: BTreeSet<u64> = service_object["spec"]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|port| port["port"].as_u64().unwrap())
            .collect();
        assert_eq!(
            service_ports, compose_ports,
            "{service}: the Service's ports"
        );

        // The same certificate files, from Secrets bin/kube-secrets makes.
        let compose_files: BTreeSet<String> = ["configs", "secrets"]
            .iter()
            .flat_map(|kind| composed[kind].as_array().unwrap())
            .map(|mount| {
                mount["target"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let volume = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|volume| volume["name"] == "certs")
            .unwrap();
        let kube_files: BTreeSet<String> = volume["projected"]["sources"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|source| secret_keys(source["secret"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(kube_files, compose_files, "{service}: certificate files");

        // Probes, a disruption budget, requests, no root.
        assert!(
            container["readinessProbe"].is_object(),
            "{service}: readiness"
        );
        assert!(
            container["livenessProbe"].is_object(),
            "{service}: liveness"
        );
        assert!(
            container["resources"]["requests"]["cpu"].is_string(),
            "{service}: requests"
        );
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
        assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
        let budget = find(&resources, "PodDisruptionBudget", service);
        assert_eq!(budget["spec"]["selector"], deployment["spec"]["selector"]);
    }

    // Envoy resolves the services by the names compose uses: headless Services.
    for service in ["cover-designer", "song-producer"] {
        assert_eq!(
            find(&resources, "Service", service)["spec"]["clusterIP"],
            "None"
        );
    }
    // Only Envoy reaches the song producer; Envoy and the song producer the cover designer.
    let callers = |policy: &str| -> BTreeSet<String> {
        find(&resources, "NetworkPolicy", policy)["spec"]["ingress"][0]["from"]
            .as_array()
            .unwrap()
            .iter()
            .map(|peer| {
                peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    };
    assert_eq!(
        callers("song-producer"),
        BTreeSet::from(["envoy".to_owned()])
    );
    assert_eq!(
        callers("cover-designer"),
        BTreeSet::from(["envoy".to_owned(), "song-producer".to_owned()])
    );
    assert_eq!(
        find(&resources, "NetworkPolicy", "default-deny-ingress")["spec"]["podSelector"],
        serde_json::json!({})
    );
}

/// The value compose uses when the variable is unset: `${NAME:-default}` → default,
/// `${NAME:?message}` → (required), anything else as written.
fn compose_default(value: &str) -> String {
    match value
        .strip_prefix("${")
        .and_then(|rest| rest.strip_suffix('}'))
    {
        Some(inner) => match inner.split_once(":-") {
            Some((_, default)) => default.to_owned(),
            None => "(required)".to_owned(),
        },
        None => value.to_owned(),
    }
}
