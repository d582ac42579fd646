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

fn key_in(env_file: &Path) -> Option<SecretString> {
    let variables = superstar_settings::env_file::read(env_file).ok()?;
    let first = variables
        .get("SUPERSTAR_API_KEYS")?
        .split(',')
        .next()?
        .trim();
    let key = first.split_once(':').map_or(first, |(_, key)| key);
    (!key.is_empty()).then(|| key.to_owned().into())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn the_first_clients_key_is_read_from_dot_env() {
        let folder = tempfile_dir();
        let path = folder.join(".env");
        std::fs::write(
            &path,
            "OTHER=1\nSUPERSTAR_API_KEYS=web:first-key,cli:second-key\n",
        )
        .unwrap();
        assert_eq!(key_in(&path).unwrap().expose_secret(), "first-key");
        std::fs::write(&path, "OTHER=1\n").unwrap();
        assert!(key_in(&path).is_none());
        std::fs::remove_dir_all(folder).unwrap();
    }

    fn tempfile_dir() -> PathBuf {
        let folder = std::env::temp_dir().join(format!("superstar-cli-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir(&folder).unwrap();
        folder
    }
}
