//! The images: the renderer runs in Envoy's image, the base images hold what the
//! Dockerfile relies on, and a missing one is named with what to run.

use super::*;

/// gateway-config runs inside the Envoy image whatever C library it has: it is static
/// (no ELF interpreter), and it renders the compose profile there.
#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_gateway_config_runs_in_the_envoy_image() {
    let rendered = run(&mut docker(&[
        "run",
        "--rm",
        "--env",
        "SUPERSTAR_API_KEYS=check:0123456789abcdef0123",
        "--entrypoint",
        "gateway-config",
        "superstar/envoy",
        "--profile",
        "compose",
        "--env-file",
        "/dev/null",
        "--out",
        "/tmp/rendered",
    ]));
    assert!(rendered.contains("envoy-compose.yaml"), "{rendered}");

    let bytes = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "cat",
        "superstar/envoy",
        "/usr/local/bin/gateway-config",
    ])
    .output()
    .unwrap()
    .stdout;
    assert!(bytes.starts_with(b"\x7fELF"), "an ELF binary");
    assert!(
        !has_interpreter(&bytes),
        "gateway-config is dynamically linked"
    );
}

/// Whether a 64-bit little-endian ELF file asks for a dynamic loader (PT_INTERP).
fn has_interpreter(elf: &[u8]) -> bool {
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let header_at = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|index| {
        let at = header_at + index * size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3
    })
}

/// Without the base images, and no registry to pull them from, bin/base-images --check
/// (which bin/dev_init.sh runs before building) names them and says what to run.
#[test]
#[ignore = "needs a Docker engine: bin/test runs this"]
fn docker_missing_base_images_are_named_with_what_to_run() {
    let copy = tempfile::tempdir().unwrap();
    std::fs::create_dir(copy.path().join("bin")).unwrap();
    std::fs::copy(
        repo().join("bin/base-images"),
        copy.path().join("bin/base-images"),
    )
    .unwrap();
    std::fs::write(
        copy.path().join("Dockerfile"),
        "FROM superstar-test/not-anywhere:1 AS base\nFROM base AS final\n",
    )
    .unwrap();
    // A service behind a profile is an extra pulled when asked for: no base image.
    std::fs::write(
        copy.path().join("docker-compose.yml"),
        "services:\n  needed:\n    image: superstar-test/needed:1\n  \
         extra:\n    profiles: [extra]\n    image: superstar-test/optional:1\n",
    )
    .unwrap();
    let output = Command::new("bash")
        .arg(copy.path().join("bin/base-images"))
        .arg("--check")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        said.contains("superstar-test/not-anywhere:1")
            && said.contains("superstar-test/needed:1")
            && said.contains("run bin/base-images"),
        "{said}"
    );
    assert!(!said.contains("optional"), "{said}");
    let listed = run(Command::new("bash")
        .arg(copy.path().join("bin/base-images"))
        .arg("--list"));
    assert_eq!(
        listed.trim(),
        "superstar-test/needed:1\nsuperstar-test/not-anywhere:1",
        "stages are not images, nor are extras behind a profile"
    );
}

/// What the Dockerfile relies on in each base image, checked on the images present (real
/// or made by bin/base-images): distroless runs as 65532 and has no shell; the Envoy
/// image has /usr/local/bin/envoy of its tag's version, an `envoy` user and bash; the
/// Rust image's cargo is of its tag's version.
#[test]
#[ignore = "needs a Docker engine and the base images: bin/test runs this"]
fn docker_base_images_have_what_the_dockerfile_relies_on() {
    let listed = run(Command::new("bash")
        .arg(repo().join("bin/base-images"))
        .arg("--list"));
    for image in listed.lines() {
        let in_image = |entrypoint: &str, args: &[&str]| {
            let mut all = vec!["run", "--rm", "--entrypoint", entrypoint, image];
            all.extend_from_slice(args);
            docker(&all).output().unwrap()
        };
        if image.starts_with("gcr.io/distroless/") {
            let user = run(&mut docker(&[
                "image",
                "inspect",
                "--format",
                "{{.Config.User}}",
                image,
            ]));
            assert!(
                matches!(user.trim(), "65532" | "nonroot" | "65532:65532"),
                "{image}: {user}"
            );
            assert!(
                !in_image("/bin/sh", &["-c", "true"]).status.success(),
                "{image} has a shell"
            );
        } else if let Some(version) = image.strip_prefix("envoyproxy/envoy:v") {
            let said = in_image(
                "bash",
                &["-c", "id -u envoy && /usr/local/bin/envoy --version"],
            );
            let said = String::from_utf8_lossy(&said.stdout);
            assert!(said.contains(&format!("/{version}/")), "{image}: {said}");
        } else if let Some(tag) = image.strip_prefix("rust:") {
            let version = tag.trim_end_matches("-bookworm");
            let said = in_image("cargo", &["--version"]);
            let said = String::from_utf8_lossy(&said.stdout);
            assert!(
                said.starts_with(&format!("cargo {version}.")),
                "{image}: {said}"
            );
        }
    }
}
