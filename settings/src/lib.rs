//! Reading Superstar's settings.
//!
//! The services read only their environment ([`env`](mod@env)): compose and `bin/up` hand each
//! process the variables it needs, and no more. The tools that start them (the gateway's
//! config renderer, `bin/up` through the `superstar-env` binary beside this library)
//! read the `.env` file, all by the one reader in [`env_file`], so a value means the
//! same thing wherever it is read.
//!
//! Secrets (API keys, the OpenAI key, database URLs with passwords) are read into
//! [`secrecy::SecretString`]: its `Debug` prints `[REDACTED]`, so neither a log line nor
//! an error can show one, and the one place each is exposed is easy to find.

pub mod env;
pub mod env_file;

/// A setting that is present but unusable.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{name}: {reason}")]
pub struct SettingError {
    /// The variable (or, for a file that cannot be read, the file).
    pub name: String,
    /// What is wrong with its value (never the value itself: it may be a secret).
    pub reason: String,
}

impl SettingError {
    /// A problem with the variable `name`.
    pub fn new(name: &str, reason: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            reason: reason.into(),
        }
    }
}
