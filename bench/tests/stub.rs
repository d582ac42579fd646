//! The stub's song, as text and as JSON, token by token.

use serde_json::Value;
use superstar_bench::stub::{SONG, tokens};

#[test]
fn the_first_token_is_the_title_line_and_the_tokens_make_the_song() {
    let tokens = tokens(false);
    assert_eq!(tokens[0], "Title: Benchmark Nights\n");
    assert_eq!(tokens.concat(), SONG);
    assert!(tokens.len() > 30);
}

#[test]
fn as_json_the_first_token_completes_the_title_and_the_tokens_make_the_song() {
    let tokens = tokens(true);
    assert_eq!(tokens[0], r#"{"title":"Benchmark Nights","sections":["#);
    let song: Value = serde_json::from_str(&tokens.concat()).unwrap();
    assert_eq!(song["sections"][1]["heading"], "Chorus");
    assert_eq!(
        song["sections"][0]["lines"][0],
        "Neon on the water, engines in the rain"
    );
    assert!(tokens.len() > 20);
}
