//! The song contract's readers: JSON under the schema, or text, fed piece by piece as a
//! model streams it, become the song's text line by line.

use std::collections::BTreeSet;

use proptest::prelude::*;
use serde_json::{Value, json};
use song_producer::{
    domain::WrittenSong,
    lyricist::contract::{Contract, HEADINGS, LINE_CHARS, SongReader, schema, to_json},
};

const SONG_TEXT: &str = "Title: The \"Neon\" Nights\n\n[Verse 1]\nCity lights are burning bright\nWe ride the neon through the night\n\n[Chorus]\nNeon nights, café lights\nHold me close in neon lights\n";

fn song_json() -> String {
    to_json(&WrittenSong::parse(SONG_TEXT).unwrap()).to_string()
}

/// Feeds `pieces` to a reader; returns what each piece released and the end's result.
fn read(contract: Contract, pieces: &[&str]) -> (Vec<String>, Result<String, String>) {
    let mut reader = SongReader::new(contract);
    let mut released = Vec::new();
    for piece in pieces {
        match reader.push(piece) {
            Ok(text) => released.push(text),
            Err(error) => return (released, Err(error)),
        }
    }
    let end = reader.finish();
    (released, end)
}

fn whole(contract: Contract, reply: &str) -> Result<String, String> {
    let (released, end) = read(contract, &[reply]);
    Ok(released.concat() + &end?)
}

#[test]
fn a_json_song_becomes_the_text_format() {
    let text = whole(Contract::JsonSchema, &song_json()).unwrap();
    assert_eq!(text, SONG_TEXT);
    assert_eq!(
        WrittenSong::parse(&text).unwrap(),
        WrittenSong::parse(SONG_TEXT).unwrap()
    );
}

#[test]
fn each_line_goes_out_once_its_closing_quote_has_come() {
    let json = song_json();
    let first_line = "City lights are burning bright";
    let end_of_line = json.find(first_line).unwrap() + first_line.len();
    // Up to the line's last letter: the title and the heading are out, the line not.
    let (released, _) = read(Contract::JsonSchema, &[&json[..end_of_line]]);
    assert_eq!(
        released.concat(),
        "Title: The \"Neon\" Nights\n\n[Verse 1]\n"
    );
    // Its closing quote releases it.
    let (released, _) = read(
        Contract::JsonSchema,
        &[&json[..end_of_line], &json[end_of_line..=end_of_line]],
    );
    assert_eq!(released[1], format!("{first_line}\n"));
}

#[test]
fn lines_written_before_their_heading_follow_it() {
    let json = json!({"title": "Fire", "sections": [
        {"lines": ["Burn", "Burn again"], "heading": "Chorus"},
    ]});
    let text = whole(Contract::JsonSchema, &json.to_string()).unwrap();
    assert_eq!(text, "Title: Fire\n\n[Chorus]\nBurn\nBurn again\n");
}

#[test]
fn line_breaks_inside_a_string_do_not_start_lines_or_headings() {
    let json = json!({"title": "Fire\n[Bridge]", "sections": [
        {"heading": "Verse 1", "lines": ["one\ntwo", "   ", "three"]},
    ]});
    let text = whole(Contract::JsonSchema, &json.to_string()).unwrap();
    assert_eq!(text, "Title: Fire [Bridge]\n\n[Verse 1]\none two\nthree\n");
}

/// A reply asked for as JSON that is not JSON (a server that ignored `response_format`
/// this once) is read as the text format, decided per reply by its first character.
#[test]
fn a_reply_that_is_not_json_is_read_as_text() {
    let text = whole(Contract::JsonSchema, "  Title: Fire\n\n[Verse 1]\nburn\n").unwrap();
    let song = WrittenSong::parse(&text).unwrap();
    assert_eq!(song.title, "Fire");
    assert!(song.lyrics.contains("burn"), "{}", song.lyrics);
    // Prose is still no song.
    let text = whole(Contract::JsonSchema, "Sure! Here is a song about fire.").unwrap_or_default();
    assert!(WrittenSong::parse(&text).is_err(), "{text}");
}

#[test]
fn json_that_is_not_a_whole_song_is_refused() {
    let json = song_json();
    for (reply, why) in [
        (&json[..json.len() - 3], "ends before its JSON does"),
        (
            r#"{"sections": [{"heading": "Verse 1", "lines": ["a"]}], "title": "x"}"#,
            "before the title",
        ),
        (
            r#"{"title": "x", "sections": [{"lines": ["a"]}]}"#,
            "no heading",
        ),
        (
            r#"{"title": "x", "sections": [{"heading": " ", "lines": ["a"]}]}"#,
            "empty heading",
        ),
    ] {
        let error = whole(Contract::JsonSchema, reply).unwrap_err();
        assert!(error.contains(why), "{reply}: {error}");
    }
    // Valid JSON, but no section: the text it makes is not a song.
    let text = whole(Contract::JsonSchema, r#"{"title": "x", "sections": []}"#).unwrap();
    assert!(WrittenSong::parse(&text).is_err());
}

#[test]
fn the_schema_is_strict_mode_json_schema() {
    // OpenAI's strict mode: every object lists each property as required and allows
    // no others. Checked at every depth.
    fn check(node: &Value) {
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            let names: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
            let required: BTreeSet<&str> = node["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|name| name.as_str().unwrap())
                .collect();
            assert_eq!(names, required);
            assert_eq!(node["additionalProperties"], false);
            properties.values().for_each(check);
        }
        if let Some(items) = node.get("items") {
            check(items);
        }
    }
    for bounded in [false, true] {
        check(&schema(bounded));
    }
    let bounded = schema(true);
    let line = &bounded["properties"]["sections"]["items"]["properties"]["lines"]["items"];
    assert_eq!(line["maxLength"], LINE_CHARS);
    assert!(!schema(false).to_string().contains("maxLength"));
    let headings = &bounded["properties"]["sections"]["items"]["properties"]["heading"]["enum"];
    assert_eq!(headings.as_array().unwrap().len(), HEADINGS.len());
}

#[test]
fn the_text_reader_forgives_what_small_models_add_around_a_song() {
    let reply = "Sure! Here is your song:\n```\n**Title: Neon Nights**\n\n**[Verse 1]**\nCity lights\n\n[Chorus]\nNeon nights\n```\n";
    let text = whole(Contract::Text, reply).unwrap();
    assert_eq!(
        text,
        "Title: Neon Nights\n\n[Verse 1]\nCity lights\n\n[Chorus]\nNeon nights\n"
    );
    assert_eq!(WrittenSong::parse(&text).unwrap().title, "Neon Nights");
}

#[test]
fn the_text_reader_refuses_what_is_not_a_song() {
    let rambling = "I love songs.\nLet me think.\nHere goes.\nTitle: Late\n[Verse 1]\nla\n";
    assert!(
        whole(Contract::Text, rambling)
            .unwrap_err()
            .contains("Here goes")
    );
    assert!(whole(Contract::Text, "no title at all").is_err());
    // The format's own placeholders are never taken for lyrics.
    let echoed = "Title: Fire\n\n[Verse 1]\n<lines>\n";
    let text = whole(Contract::Text, echoed).unwrap();
    assert!(WrittenSong::parse(&text).unwrap_err().contains("<lines>"));
}

proptest! {
    /// However a reply is cut into pieces, the readers release the same text as for
    /// the whole reply.
    #[test]
    fn any_cut_of_a_reply_reads_the_same(cuts in proptest::collection::vec(0usize..400, 0..12)) {
        for (contract, reply) in [
            (Contract::JsonSchema, song_json()),
            (Contract::Text, format!("Here it is:\n```\n**{SONG_TEXT}```")),
        ] {
            let mut at: Vec<usize> = cuts
                .iter()
                .map(|cut| cut % (reply.len() + 1))
                .filter(|cut| reply.is_char_boundary(*cut))
                .collect();
            at.sort_unstable();
            at.dedup();
            let mut pieces = Vec::new();
            let mut start = 0;
            for cut in at {
                pieces.push(&reply[start..cut]);
                start = cut;
            }
            pieces.push(&reply[start..]);
            let (released, end) = read(contract, &pieces);
            let text = released.concat() + &end.unwrap();
            prop_assert_eq!(&text, &whole(contract, &reply).unwrap());
            prop_assert_eq!(
                WrittenSong::parse(&text).unwrap(),
                WrittenSong::parse(SONG_TEXT).unwrap()
            );
        }
    }
}
