//! The Jam protocol: each message a client sends in a Jam session, parsed.

use superstar_proto::v1::{JamRequest, jam_request::Action};
use superstar_server::serve::request_fields::{InvalidField, bounded_text};

use super::{Genre, Theme};

/// A Jam revision request: 1 to 500 characters, e.g. `shorter` or `add a bridge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction(String);

impl Instruction {
    /// Parses the `instruction` field.
    pub fn parse(value: &str) -> Result<Self, InvalidField> {
        bounded_text("instruction", value, 1, 500).map(Self)
    }

    /// The instruction as the client wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One parsed message of a Jam session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JamAction {
    /// The first take of a new song.
    Start(Genre, Theme),
    /// A new take of the current song.
    Revise(Instruction),
}

impl JamAction {
    /// Parses a `JamRequest`; exactly one of `start` and `revise` must be set.
    pub fn parse(request: JamRequest) -> Result<Self, InvalidField> {
        match request.action {
            Some(Action::Start(start)) => Ok(Self::Start(
                Genre::parse(&start.genre)?,
                Theme::parse(&start.theme)?,
            )),
            Some(Action::Revise(revise)) => {
                Ok(Self::Revise(Instruction::parse(&revise.instruction)?))
            }
            None => Err(InvalidField::new(
                "action",
                "is required: send start or revise",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use superstar_proto::v1::{JamRevise, JamStart};

    use super::*;

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
}
