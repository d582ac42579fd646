//! What a model is asked: the persona, the contract, the brief and, for a revision, the
//! conversation so far, read from the request body the lyricist sends.

use serde_json::{Value, json};
use song_producer::{
    domain::{Genre, Instruction, Revision, SongBrief, Theme, WrittenSong},
    lyricist::{OpenAiLyricist, SongRequest, contract::Contract},
};
use superstar_openai::OpenAiSettings;

fn brief() -> SongBrief {
    SongBrief::new(
        Genre::parse("heavy metal").unwrap(),
        Theme::parse("dragons over the city").unwrap(),
    )
}

/// The messages of a take of `brief` under `contract`.
fn messages(brief: &SongBrief, contract: Contract) -> Value {
    let base_url = "http://127.0.0.1:9/v1";
    let song = SongRequest {
        contract,
        ..SongRequest::for_server(base_url)
    };
    let lyricist = OpenAiLyricist::new(OpenAiSettings::new("", base_url, "m"), song);
    let body = lyricist.request_body(brief, false);
    assert_eq!(
        body.get("response_format").is_some(),
        contract == Contract::JsonSchema
    );
    body["messages"].clone()
}

#[test]
fn a_first_take_is_a_persona_and_the_brief() {
    let messages = messages(&brief(), Contract::Text);
    assert_eq!(messages[0]["role"], "system");
    assert!(
        messages[0]["content"]
            .as_str()
            .unwrap()
            .contains("Title: <the song's title>")
    );
    let structured = self::messages(&brief(), Contract::JsonSchema);
    assert!(
        !structured[0]["content"]
            .as_str()
            .unwrap()
            .contains("<the song's title>")
    );
    assert_eq!(messages[1]["role"], "user");
    assert_eq!(
        messages[1]["content"],
        "Write a heavy metal song about: dragons over the city"
    );
    assert_eq!(messages.as_array().unwrap().len(), 2);
}

#[test]
fn later_tracks_are_asked_to_differ() {
    let third = SongBrief {
        track: 3,
        ..brief()
    };
    let messages = messages(&third, Contract::JsonSchema);
    assert!(messages[1]["content"].as_str().unwrap().contains("track 3"));
}

#[test]
fn a_revision_continues_the_conversation() {
    let previous = WrittenSong::parse("Title: Fire\n\n[Verse 1]\nBurn").unwrap();
    let revision = SongBrief {
        revision: Some(Revision {
            previous,
            instruction: Instruction::parse("add a bridge").unwrap(),
            take: 2,
        }),
        ..brief()
    };
    let messages = messages(&revision, Contract::Text);
    let roles: Vec<&str> = messages
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    assert_eq!(messages[2]["content"], "Title: Fire\n\n[Verse 1]\nBurn");
    assert!(
        messages[3]["content"]
            .as_str()
            .unwrap()
            .starts_with("Revise the song: add a bridge")
    );
    // Under the JSON contract the model sees its previous take as JSON.
    let structured = self::messages(&revision, Contract::JsonSchema);
    let previous: Value = serde_json::from_str(structured[2]["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        previous,
        json!({"title": "Fire", "sections": [{"heading": "Verse 1", "lines": ["Burn"]}]})
    );
}
