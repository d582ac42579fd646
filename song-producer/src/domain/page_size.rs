//! `ListSongs`' `page_size`.

use superstar_server::serve::request_fields::{InvalidField, bounded_count};

/// A `ListSongs` page size: 1 to 100, 0 meaning 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(usize);

impl PageSize {
    /// Parses the `page_size` field.
    pub fn parse(value: i32) -> Result<Self, InvalidField> {
        bounded_count("page_size", value, 20, 100).map(Self)
    }

    /// The size.
    pub fn get(self) -> usize {
        self.0
    }
}
