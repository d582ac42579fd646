//! `ListSongs`' `page_size`.

use superstar_server::request_fields::InvalidField;

/// A `ListSongs` page size: 1 to 100, 0 meaning 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(usize);

impl PageSize {
    /// Parses the `page_size` field.
    pub fn parse(value: i32) -> Result<Self, InvalidField> {
        match value {
            0 => Ok(Self(20)),
            1..=100 => Ok(Self(value as usize)),
            _ => Err(InvalidField::new(
                "page_size",
                format!("must be between 0 and 100, got {value}"),
            )),
        }
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
