//! Configuration without ceremony: the CA and the API key are found in the checkout
//! the command runs in (or any folder above it) when not given.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

/// The nearest folder, from the current one up, that holds `relative`.
fn find_up(relative: &str) -> Option<PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .map(|folder| folder.join(relative))
        .find(|path| path.is_file())
}

/// `--ca` or `SUPERSTAR_CA` (clap has read both), else the checkout's `certs/ca.pem`,
/// else none: the public web roots.
pub fn ca(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| find_up("certs/ca.pem"))
}

/// `SUPERSTAR_KEY` (clap has read it), else the first client's key in the checkout's
/// `.env` (`SUPERSTAR_API_KEYS=name:key,…`).
pub fn key(given: Option<String>) -> Option<SecretString> {
    if let Some(key) = given.filter(|key| !key.is_empty()) {
        return Some(key.into());
    }
    key_in(&find_up(".env")?)
}

/// The first client's key in an `.env` file's `SUPERSTAR_API_KEYS`, if any.
pub fn key_in(env_file: &Path) -> Option<SecretString> {
    let variables = superstar_settings::env_file::read(env_file).ok()?;
    let first = variables
        .get("SUPERSTAR_API_KEYS")?
        .split(',')
        .next()?
        .trim();
    let key = first.split_once(':').map_or(first, |(_, key)| key);
    (!key.is_empty()).then(|| key.to_owned().into())
}
