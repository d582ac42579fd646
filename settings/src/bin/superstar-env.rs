//! `superstar-env`: the `.env` file, read as the Rust tools read it, for a shell script.
//!
//! ```text
//! superstar-env [--env-file .env] NAME...
//! ```
//!
//! Prints `NAME='value'` for each NAME that has a value, the environment winning over
//! the file, quoted for `eval` in a POSIX shell. `bin/up` reads its settings this way,
//! so it agrees with the gateway's config renderer on every quote and comment, and
//! hands each process only the variables it names.

use std::{path::PathBuf, process::ExitCode};

use superstar_settings::env_file;

fn main() -> ExitCode {
    let mut env_file = PathBuf::from(".env");
    let mut names = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--env-file" => match args.next() {
                Some(path) => env_file = path.into(),
                None => return usage("--env-file needs a value"),
            },
            "-h" | "--help" => return usage("usage: superstar-env [--env-file .env] NAME..."),
            name if is_name(name) => names.push(arg),
            other => return usage(&format!("{other:?} is not a variable name")),
        }
    }
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    match env_file::read_with_environment(&env_file, &names) {
        Ok(variables) => {
            for name in names {
                if let Some(value) = variables.get(name) {
                    println!("{name}={}", shell_quote(value));
                }
            }
            ExitCode::SUCCESS
        }
        Err(error) => usage(&error.to_string()),
    }
}

fn usage(message: &str) -> ExitCode {
    eprintln!("superstar-env: {message}");
    ExitCode::FAILURE
}

fn is_name(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Single quotes keep everything literal but a single quote, written as `'\''`.
fn shell_quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}
