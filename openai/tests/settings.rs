//! Which provider the environment chooses, and its settings.

use std::time::Duration;

use tokio::time::Instant;

use superstar_openai::{DEFAULT_BUDGET, OPENAI_API_BASE, OpenAiSettings, Provider, RetryPolicy};
use superstar_settings::SettingError;

#[test]
fn settings_never_print_the_key() {
    let settings = OpenAiSettings::new("sk-very-secret", "http://127.0.0.1:1/v1/", "m");
    let printed = format!("{settings:?}");
    assert!(!printed.contains("sk-very-secret"), "{printed}");
    assert!(printed.contains("[REDACTED]"));
    assert_eq!(settings.base_url, "http://127.0.0.1:1/v1");
}

fn provider(vars: &[(&str, &str)]) -> Result<Provider, SettingError> {
    let lookup = |name: &str| {
        vars.iter()
            .find(|(key, value)| *key == name && !value.is_empty())
            .map(|(_, value)| (*value).to_owned())
    };
    Provider::from_lookup(lookup, "OPENAI_CHAT_MODEL", "default-model")
}

fn openai(vars: &[(&str, &str)]) -> OpenAiSettings {
    match provider(vars) {
        Ok(Provider::OpenAi(settings)) => settings,
        other => panic!("expected OpenAI, got {other:?}"),
    }
}

#[test]
fn a_key_chooses_openai_and_no_key_offline() {
    assert!(matches!(provider(&[]), Ok(Provider::Offline)));
    assert!(matches!(
        provider(&[("OPENAI_API_KEY", "")]),
        Ok(Provider::Offline)
    ));
    let settings = openai(&[("OPENAI_API_KEY", "sk-1")]);
    assert_eq!(settings.base_url, OPENAI_API_BASE);
    assert_eq!(settings.model, "default-model");
    assert_eq!(settings.retry, RetryPolicy::default());
    assert_eq!(settings.budget, DEFAULT_BUDGET);
}

#[test]
fn superstar_provider_forces_the_choice() {
    let forced = [
        ("OPENAI_API_KEY", "sk-1"),
        ("SUPERSTAR_PROVIDER", "offline"),
    ];
    assert!(matches!(provider(&forced), Ok(Provider::Offline)));
    // A local server that wants no key.
    let local = openai(&[
        ("SUPERSTAR_PROVIDER", "OpenAI"),
        ("OPENAI_BASE_URL", "http://localhost:11434/v1/"),
        ("OPENAI_CHAT_MODEL", "llama3.2"),
    ]);
    assert_eq!(
        (local.base_url.as_str(), local.model.as_str()),
        ("http://localhost:11434/v1", "llama3.2")
    );
    let error = provider(&[("SUPERSTAR_PROVIDER", "openai")]).unwrap_err();
    assert_eq!(error.name, "SUPERSTAR_PROVIDER");
    let error = provider(&[("SUPERSTAR_PROVIDER", "anthropic")]).unwrap_err();
    assert_eq!(error.name, "SUPERSTAR_PROVIDER");
}

#[test]
fn the_model_offline_keeps_one_service_offline() {
    let vars = [("OPENAI_API_KEY", "sk-1"), ("OPENAI_CHAT_MODEL", "offline")];
    assert!(matches!(provider(&vars), Ok(Provider::Offline)));
}

#[test]
fn bad_values_name_their_variable_and_never_echo_the_key() {
    for (name, value) in [
        ("OPENAI_BASE_URL", "localhost:11434"),
        ("OPENAI_MAX_ATTEMPTS", "0"),
        ("OPENAI_MAX_ATTEMPTS", "many"),
        ("OPENAI_TIMEOUT_SECS", "-3"),
    ] {
        let error = provider(&[("OPENAI_API_KEY", "sk-secret-1"), (name, value)]).unwrap_err();
        assert_eq!(error.name, name);
        assert!(!error.to_string().contains("sk-secret-1"));
    }
    let tuned = openai(&[
        ("OPENAI_API_KEY", "sk-1"),
        ("OPENAI_MAX_ATTEMPTS", "2"),
        ("OPENAI_TIMEOUT_SECS", "30"),
    ]);
    assert_eq!(
        (tuned.retry.attempts, tuned.budget),
        (2, Duration::from_secs(30))
    );
}

#[test]
fn without_a_deadline_a_call_gets_the_budget() {
    let mut settings = OpenAiSettings::new("", "http://127.0.0.1:1", "m");
    settings.budget = Duration::from_secs(7);
    let deadline = settings.deadline(None);
    let left = deadline - Instant::now();
    assert!(left <= Duration::from_secs(7) && left > Duration::from_secs(6));
    let sooner = Instant::now() + Duration::from_millis(10);
    assert_eq!(settings.deadline(Some(sooner)), sooner);
}
