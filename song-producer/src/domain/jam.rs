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
