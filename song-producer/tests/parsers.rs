//! Every parser of client input, given arbitrary input: it never panics, and whatever
//! it refuses becomes `INVALID_ARGUMENT` with a message naming the field.

use proptest::prelude::*;
use prost_types::FieldMask;
use song_producer::{
    domain::{AlbumPlan, Genre, JamAction, PageSize, ReadMask, SongsCount, Theme},
    error::Error,
    page_token,
};
use superstar_proto::v1::{
    JamRequest, JamRevise, JamStart, MakeMeSuperstarRequest, jam_request::Action,
};
use superstar_server::serve::request_fields::{InvalidField, bounded_text, resource_id};
use tonic::{Code, Status};

/// A refusal, as the client sees it: INVALID_ARGUMENT, naming one of `fields`.
fn names_a_field(refused: InvalidField, fields: &[&str]) -> Result<(), TestCaseError> {
    let status = Status::from(Error::from(refused));
    prop_assert_eq!(status.code(), Code::InvalidArgument);
    prop_assert!(
        fields
            .iter()
            .any(|field| status.message().starts_with(&format!("{field}: "))),
        "{:?} names none of {:?}",
        status.message(),
        fields
    );
    Ok(())
}

/// Text as clients send it: any Unicode, often long, sometimes blank.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![".{0,80}", ".{0,1200}", "\\PC{0,10}", "[ \\t\\n]{0,5}"]
}

proptest! {
    #[test]
    fn page_tokens(token in prop_oneof![".{0,200}", "[A-Za-z0-9_-]{0,120}"], genre in ".{0,20}") {
        if let Err(refused) = page_token::decode(&token, &genre) {
            names_a_field(refused, &["page_token"])?;
        }
    }

    #[test]
    fn page_tokens_issued_for_another_filter_are_refused(seconds in 0i64..4_000_000_000, id in any::<u128>()) {
        let cursor = page_token::Cursor {
            create_time: seconds,
            id: uuid::Uuid::from_u128(id),
        };
        let token = page_token::encode(cursor, "jazz");
        prop_assert_eq!(page_token::decode(&token, "jazz").unwrap(), cursor);
        names_a_field(page_token::decode(&token, "rock").unwrap_err(), &["page_token"])?;
    }

    #[test]
    fn ids(value in prop_oneof![".{0,60}", "[0-9a-fA-F-]{30,40}"]) {
        if let Err(refused) = resource_id("id", &value) {
            names_a_field(refused, &["id"])?;
        }
    }

    #[test]
    fn read_masks(paths in proptest::collection::vec(".{0,30}", 0..6)) {
        if let Err(refused) = ReadMask::parse(Some(FieldMask { paths })) {
            names_a_field(refused, &["read_mask"])?;
        }
    }

    #[test]
    fn numbers(value in any::<i32>()) {
        if let Err(refused) = PageSize::parse(value) {
            names_a_field(refused, &["page_size"])?;
        }
        if let Err(refused) = SongsCount::parse(value) {
            names_a_field(refused, &["songs_count"])?;
        }
    }

    #[test]
    fn text_fields(value in text(), min in 0usize..3, max in 0usize..100) {
        if let Err(refused) = Genre::parse(&value) {
            names_a_field(refused, &["genre"])?;
        }
        if let Err(refused) = Theme::parse(&value) {
            names_a_field(refused, &["theme"])?;
        }
        if let Err(refused) = bounded_text("genre", &value, min, max) {
            names_a_field(refused, &["genre"])?;
        }
    }

    #[test]
    fn album_requests(
        genre in text(),
        theme in text(),
        songs_count in any::<i32>(),
        cover_description in text(),
    ) {
        let request = MakeMeSuperstarRequest { genre, theme, songs_count, cover_description, ..Default::default() };
        if let Err(refused) = AlbumPlan::parse(&request) {
            names_a_field(refused, &["genre", "theme", "songs_count", "cover_description"])?;
        }
    }

    #[test]
    fn jam_requests(kind in 0u8..3, first in text(), second in text()) {
        let action = match kind {
            0 => None,
            1 => Some(Action::Start(JamStart { genre: first, theme: second })),
            _ => Some(Action::Revise(JamRevise { instruction: first })),
        };
        if let Err(refused) = JamAction::parse(JamRequest { action }) {
            names_a_field(refused, &["action", "start.genre", "start.theme", "genre", "theme", "revise.instruction", "instruction"])?;
        }
    }
}
