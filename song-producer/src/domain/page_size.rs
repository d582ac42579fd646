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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_sizes_default_to_twenty() {
        assert_eq!(PageSize::parse(0).unwrap().get(), 20);
        assert_eq!(PageSize::parse(100).unwrap().get(), 100);
        assert_eq!(PageSize::parse(101).unwrap_err().field, "page_size");
        assert_eq!(PageSize::parse(-1).unwrap_err().field, "page_size");
    }
}
