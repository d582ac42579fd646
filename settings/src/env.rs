//! Settings from the process environment.
//!
//! Every setting has a default that works on a developer's machine, so a service starts
//! with no configuration at all; `.env.example` documents each variable. A value that is
//! present but does not parse stops the service at start, naming the variable, rather
//! than being silently replaced by the default.

use std::{env, str::FromStr};

use secrecy::SecretString;

use crate::SettingError;

/// The variable's value, or `None` when it is unset or empty.
pub fn var(name: &str) -> Option<String> {
    env::var(name).ok().filter(|value| !value.trim().is_empty())
}

/// The variable's value, or `default` when it is unset or empty.
pub fn string_or(name: &str, default: &str) -> String {
    var(name).unwrap_or_else(|| default.to_owned())
}

/// A secret variable's value, or `default` when it is unset or empty.
pub fn secret_or(name: &str, default: &str) -> SecretString {
    SecretString::from(string_or(name, default))
}

/// The variable parsed as `T`, or `default` when it is unset or empty.
pub fn parse_or<T>(name: &str, default: T) -> Result<T, SettingError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    parse_value(name, var(name), default)
}

/// `value` (of the variable `name`) parsed as `T`, or `default` when there is none.
pub fn parse_value<T>(name: &str, value: Option<String>, default: T) -> Result<T, SettingError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match value {
        None => Ok(default),
        Some(value) => value
            .trim()
            .parse()
            .map_err(|error| SettingError::new(name, format!("cannot be parsed: {error}"))),
    }
}
