//! What each client spends, as Prometheus reads it.

use prometheus_client::encoding::text::encode;

use prometheus_client::registry::Registry;
use superstar_server::serve::usage::{MAX_CLIENTS, Usage};

#[test]
fn usage_is_counted_per_client_and_model_with_bounded_labels() {
    let mut registry = Registry::default();
    let usage = Usage::register(&mut registry);
    let alice = usage.meter("alice", "gpt-5-mini");
    alice.called().answered();
    alice.tokens(120, 800);
    alice.called().answered();
    alice.tokens(100, 700);
    // A call dropped unanswered (refused, unreachable, timed out) failed.
    drop(alice.called());
    usage.set_budget(2);
    usage.meter("bob", "gpt-image-1").painted(1);
    usage.meter("", "offline").called();
    for n in 0..MAX_CLIENTS + 10 {
        usage.meter(&format!("made-up-{n}"), "offline").called();
    }
    let mut text = String::new();
    encode(&mut text, &registry).unwrap();
    assert!(
        text.contains(r#"superstar_model_calls_total{client="alice",model="gpt-5-mini"} 3"#),
        "{text}"
    );
    assert!(
        text.contains(r#"superstar_model_failures_total{client="alice",model="gpt-5-mini"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("superstar_model_budget_calls_per_second 2"),
        "{text}"
    );
    assert!(
        text.contains(
            r#"superstar_model_prompt_tokens_total{client="alice",model="gpt-5-mini"} 220"#
        )
    );
    assert!(text.contains(
        r#"superstar_model_completion_tokens_total{client="alice",model="gpt-5-mini"} 1500"#
    ));
    assert!(text.contains(r#"superstar_images_total{client="bob",model="gpt-image-1"} 1"#));
    assert!(text.contains(r#"superstar_model_calls_total{client="direct",model="offline"} 1"#));
    // alice and bob took two of the labels: 62 made-up names get theirs, 12 are other.
    assert!(
        text.contains(r#"superstar_model_calls_total{client="other",model="offline"} 12"#),
        "{text}"
    );
    let series = text
        .lines()
        .filter(|line| line.starts_with("superstar_model_calls_total{"))
        .count();
    assert_eq!(
        series,
        MAX_CLIENTS + 1,
        "alice, {} made up, other and direct",
        MAX_CLIENTS - 2
    );
}
