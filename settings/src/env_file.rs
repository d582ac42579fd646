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
