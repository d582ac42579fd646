//! `--name value` flags.

use std::{collections::HashMap, str::FromStr, time::Duration};

/// The flags of one subcommand.
pub struct Args(HashMap<String, String>);

impl Args {
    /// Reads `--name value` pairs.
    pub fn parse(raw: &[String]) -> Result<Self, String> {
        let mut flags = HashMap::new();
        let mut raw = raw.iter();
        while let Some(flag) = raw.next() {
            let name = flag
                .strip_prefix("--")
                .ok_or_else(|| format!("expected a --flag, got {flag}"))?;
            let value = raw
                .next()
                .ok_or_else(|| format!("--{name} needs a value"))?;
            flags.insert(name.to_owned(), value.clone());
        }
        Ok(Self(flags))
    }

    /// A flag that must be given.
    pub fn text(&self, name: &str) -> Result<&str, String> {
        self.0
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| format!("--{name} is required"))
    }

    /// A flag, if given.
    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// A flag parsed as `T`, or `default`.
    pub fn number<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.0.get(name) {
            None => Ok(default),
            Some(value) => value
                .parse()
                .map_err(|_| format!("--{name} {value} is not a number")),
        }
    }

    /// A flag in milliseconds, or `default`.
    pub fn millis(&self, name: &str, default: u64) -> Result<Duration, String> {
        self.number(name, default).map(Duration::from_millis)
    }
}
