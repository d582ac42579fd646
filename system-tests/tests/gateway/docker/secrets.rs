//! Secrets: each container holds only its own, no image layer and no build context
//! holds any.

use super::*;

/// Which files of certs/ a container has mounted, by name.
fn mounted_certs(container: &Value) -> BTreeSet<String> {
    let certs = repo().join("certs");
    container["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|mount| {
            let source = PathBuf::from(mount["Source"].as_str()?);
            (source.parent()? == certs)
                .then(|| source.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect()
}

pub(super) fn check_secrets(stack: &Stack) {
    let api_key = dot_env("SUPERSTAR_API_KEYS");
    let expected: [(&str, &[&str], bool, bool); 3] = [
        (
            "envoy",
            &[
                "ca.pem",
                "envoy.pem",
                "envoy-key.pem",
                "envoy-client.pem",
                "envoy-client-key.pem",
            ],
            false,
            true,
        ),
        (
            "song-producer",
            &[
                "ca.pem",
                "song-producer.pem",
                "song-producer-key.pem",
                "song-producer-client.pem",
                "song-producer-client-key.pem",
            ],
            true,
            false,
        ),
        (
            "cover-designer",
            &["ca.pem", "cover-designer.pem", "cover-designer-key.pem"],
            true,
            false,
        ),
    ];
    for (service, certs, has_openai_key, has_api_keys) in expected {
        for container in stack.inspect(service) {
            let name = container["Name"].as_str().unwrap();
            let user = container["Config"]["User"].as_str().unwrap_or_default();
            let uid = user.split(':').next().unwrap_or_default();
            assert!(
                !uid.is_empty() && uid != "0" && uid != "root",
                "{name} runs as {user:?}"
            );
            let wanted: BTreeSet<String> = certs.iter().map(|file| (*file).to_owned()).collect();
            assert_eq!(mounted_certs(&container), wanted, "{name}'s certificates");
            let sources: Vec<&str> = container["Mounts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|mount| mount["Source"].as_str())
                .collect();
            assert!(
                !sources
                    .iter()
                    .any(|source| source.ends_with("/.env") || source.ends_with("ca-key.pem")),
                "{name} mounts {sources:?}"
            );
            let environment = container["Config"]["Env"].to_string();
            assert_eq!(
                environment.contains(&stack.openai_key),
                has_openai_key,
                "{name}: the OpenAI key"
            );
            assert_eq!(
                environment.contains(&api_key),
                has_api_keys,
                "{name}: the API keys"
            );
        }
    }
    // Inside the gateway: its own five files, nothing else.
    let listed = stack.in_envoy("ls /etc/superstar/certs");
    let listed: BTreeSet<&str> = listed.split_whitespace().collect();
    assert_eq!(
        listed,
        BTreeSet::from([
            "ca.pem",
            "envoy-client-key.pem",
            "envoy-client.pem",
            "envoy-key.pem",
            "envoy.pem"
        ])
    );
    assert_ne!(stack.in_envoy("id -u").trim(), "0", "Envoy runs as root");
}

/// The images as built: no layer holds .env, a private key, the API key or any key
/// from certs/.
#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_images_hold_no_secret() {
    let work = tempfile::tempdir().unwrap();
    let saved = work.path().join("images.tar");
    let images = [
        "superstar/song-producer",
        "superstar/cover-designer",
        "superstar/envoy",
    ];
    let mut args = vec!["save", "--output", saved.to_str().unwrap()];
    args.extend(images);
    run(&mut docker(&args));
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&saved)
        .arg("-C")
        .arg(&unpacked));
    std::fs::remove_file(&saved).unwrap();

    // What must appear nowhere: the API key and a line of each private key's body.
    let mut secrets = vec![dot_env("SUPERSTAR_API_KEYS")];
    for entry in std::fs::read_dir(repo().join("certs")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with("-key.pem") {
            let key = std::fs::read_to_string(&path).unwrap();
            secrets.push(key.lines().nth(1).expect("a PEM body").to_owned());
        }
    }
    let patterns = work.path().join("secrets");
    std::fs::write(&patterns, secrets.join("\n")).unwrap();

    let mut layers = 0;
    for layer in files_below(&unpacked) {
        let listing = Command::new("tar").arg("-tf").arg(&layer).output().unwrap();
        if !listing.status.success() {
            continue; // a manifest or a config, not a layer
        }
        layers += 1;
        for name in String::from_utf8_lossy(&listing.stdout).lines() {
            let file = name
                .rsplit('/')
                .find(|part| !part.is_empty())
                .unwrap_or(name);
            assert!(
                file != ".env" && !file.ends_with("-key.pem") && file != "ca-key.pem",
                "{} holds {name}",
                layer.display()
            );
        }
        let found = Command::new("grep")
            .args(["--count", "--fixed-strings", "--file"])
            .arg(&patterns)
            .arg(&layer)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&found.stdout).trim(),
            "0",
            "{} holds a secret",
            layer.display()
        );
    }
    assert!(layers >= 3, "found {layers} layers");
}

fn files_below(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The build context the Dockerfile sees: the sources, and none of the secrets or the
/// large folders (.dockerignore).
#[test]
#[ignore = "needs a Docker engine: bin/test runs this"]
fn docker_build_context_holds_no_secret() {
    let tag = "superstar-test/context";
    let mut build = Command::new("docker");
    build
        .args(["build", "--quiet", "--tag", tag, "--file", "-", "."])
        .current_dir(repo())
        .env("DOCKER_BUILDKIT", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = build.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM scratch\nCOPY . /context/\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let container = run(&mut docker(&["create", tag, "none"]));
    let exported = Command::new("bash")
        .args([
            "-c",
            &format!("docker export {} | tar -t", container.trim()),
        ])
        .output()
        .unwrap();
    run(&mut docker(&["rm", container.trim()]));
    run(&mut docker(&["rmi", tag]));
    let files = String::from_utf8_lossy(&exported.stdout);
    assert!(
        files.lines().any(|file| file == "context/Cargo.lock"),
        "{files}"
    );
    assert!(
        files
            .lines()
            .any(|file| file == "context/song-producer/src/main.rs")
    );
    for file in files.lines() {
        let inside = file.trim_start_matches("context/");
        for left_out in [
            ".git/",
            "target/",
            ".venv/",
            "data/",
            "certs/",
            "envoy/generated/",
        ] {
            assert!(!inside.starts_with(left_out), "{file} is in the context");
        }
        assert!(
            !inside.ends_with(".pem") && !inside.ends_with(".env") && inside != ".env",
            "{file} is in the context"
        );
    }
}
