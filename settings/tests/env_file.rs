//! .env files, read as Docker Compose reads them.

use std::path::Path;

use superstar_settings::env_file::*;

#[test]
fn env_files_parse_as_compose_reads_them() {
    let env = parse(
        "# comment\nA=1\nexport B=\"two words\"\nC='x=y'\n\nD=\nE=plain # note\nF='$NOT_EXPANDED'\n",
    )
    .unwrap();
    assert_eq!(env["A"], "1");
    assert_eq!(env["B"], "two words");
    assert_eq!(env["C"], "x=y");
    assert_eq!(env["D"], "");
    assert_eq!(env["E"], "plain");
    assert_eq!(env["F"], "$NOT_EXPANDED");
}

#[test]
fn a_bad_line_is_named_by_number_and_never_shown() {
    let secret = "sk-this-is-a-secret";
    let error = parse(&format!("A=1\nOPENAI_API_KEY=two {secret}\n")).unwrap_err();
    assert!(error.contains("line 2"), "{error}");
    assert!(!error.contains(secret), "{error}");
}

#[test]
fn the_environment_wins_and_a_missing_file_sets_nothing() {
    let folder = tempfile::tempdir().unwrap();
    assert!(read(&folder.path().join("absent")).unwrap().is_empty());
    let file = folder.path().join(".env");
    std::fs::write(&file, "PATH=from-the-file\nOTHER=kept\n").unwrap();
    let variables = read_with_environment(&file, &["PATH"]).unwrap();
    assert_eq!(variables["PATH"], std::env::var("PATH").unwrap());
    assert_eq!(variables["OTHER"], "kept");
}

#[test]
fn the_example_env_file_parses() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.env.example");
    let variables = read(&example).unwrap();
    assert_eq!(variables["GATEWAY_PORT"], "8443");
    assert_eq!(variables["OPENAI_API_KEY"], "");
}
