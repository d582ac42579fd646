//! A jam's takes and revisions.

use song_producer::domain::jam::*;
use superstar_proto::v1::{JamRequest, JamRevise, JamStart, jam_request::Action};

#[test]
fn jam_messages_need_an_action() {
    let start = JamRequest {
        action: Some(Action::Start(JamStart {
            genre: "jazz".into(),
            theme: String::new(),
        })),
    };
    assert_eq!(JamAction::parse(start).unwrap_err().field, "theme");
    let revise = JamRequest {
        action: Some(Action::Revise(JamRevise {
            instruction: "shorter".into(),
        })),
    };
    assert!(matches!(
        JamAction::parse(revise).unwrap(),
        JamAction::Revise(_)
    ));
    assert_eq!(
        JamAction::parse(JamRequest { action: None })
            .unwrap_err()
            .field,
        "action"
    );
}

#[test]
fn instructions_name_themselves() {
    assert_eq!(Instruction::parse("").unwrap_err().field, "instruction");
}
