//! The `.env` file, read by the `dotenvy` crate.
//!
//! The rules are dotenvy's, which docker compose's reader shares for everything
//! `.env.example` uses: `NAME=value` lines, `#` comments (whole lines, or after a space),
//! an optional `export `, values in single quotes taken literally, values in double
//! quotes with `\` escapes and `${NAME}` expansion, unquoted values expanded too. A
//! value holding a `$` or a space belongs in single quotes.
//!
//! A variable set in the environment wins over the file ([`read_with_environment`]),
//! as it does for docker compose.

use std::{collections::BTreeMap, io, path::Path};

use crate::SettingError;

/// The variables `path` sets. A missing file sets none.
pub fn read(path: &Path) -> Result<BTreeMap<String, String>, SettingError> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text).map_err(|reason| SettingError {
            name: path.display().to_string(),
            reason,
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(error) => Err(SettingError {
            name: path.display().to_string(),
            reason: error.to_string(),
        }),
    }
}

/// The variables `path` sets, each of `names` overridden by the environment when set
/// there.
pub fn read_with_environment(
    path: &Path,
    names: &[&str],
) -> Result<BTreeMap<String, String>, SettingError> {
    let mut variables = read(path)?;
    for name in names {
        if let Ok(value) = std::env::var(name) {
            variables.insert((*name).to_owned(), value);
        }
    }
    Ok(variables)
}

/// Parses `.env` text. An error names the line, never its text: the line may hold a key.
pub fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    dotenvy::from_read_iter(text.as_bytes())
        .map(|item| {
            item.map_err(|error| match error {
                dotenvy::Error::LineParse(line, _) => {
                    let number = text
                        .lines()
                        .position(|candidate| candidate.contains(line.trim()))
                        .map_or_else(String::new, |index| format!(" {}", index + 1));
                    format!("line{number} is not NAME=value (quote a value with spaces or $ in single quotes)")
                }
                dotenvy::Error::Io(error) => error.to_string(),
                _ => "cannot be read".to_owned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
