//! The command line itself, as a user meets it: every command's help (clap checks
//! each command's consistency as it builds it), the exit codes listed, and a bad
//! command line refused with the usage code before anything is sent.

use std::process::{Command, Output};

fn superstar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_superstar"))
        .args(args)
        .env_remove("SUPERSTAR_KEY")
        .output()
        .expect("the binary runs")
}

#[test]
fn every_commands_help_is_shown_and_the_exit_codes_are_listed() {
    let commands: [&[&str]; 10] = [
        &[],
        &["album"],
        &["lyrics"],
        &["jam"],
        &["songs", "list"],
        &["songs", "get"],
        &["albums", "get"],
        &["cover", "get"],
        &["health"],
        &["songs"],
    ];
    for command in commands {
        let output = superstar(&[command, &["--help"]].concat());
        let help = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{command:?}: {output:?}");
        assert!(help.contains("Usage: superstar"), "{command:?}: {help}");
        if command.is_empty() {
            assert!(help.contains("3  auth"), "{help}");
        }
    }
}

#[test]
fn a_bad_command_line_exits_with_the_usage_code() {
    for args in [
        &["album", "--genre", "rock"][..],
        &["songs", "get"],
        &[
            "album",
            "--genre",
            "rock",
            "--theme",
            "sea",
            "--timeout",
            "0",
        ],
        &["no-such-command"],
    ] {
        let output = superstar(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {output:?}");
        assert!(!output.stderr.is_empty(), "{args:?} says why");
    }
}
