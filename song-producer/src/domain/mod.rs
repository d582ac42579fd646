//! The song producer's domain: requests parsed into types that cannot be invalid.
//!
//! Handlers turn every request into these types first; from then on a `Theme` is
//! known to be 1 to 500 characters, a `SongsCount` 1 to 10, an `AlbumPlan` 1 to 10
//! tracks, and nothing downstream checks again. Each parse error names the proto
//! field. One concept per file:
//!
//! - [`song_idea`]: a genre and a theme, what every song starts from;
//! - [`album_plan`]: an album's tracks and its cover, from `MakeMeSuperstar` or from
//!   the ideas of a `CompileAlbum` stream;
//! - [`jam`]: the messages of a Jam session;
//! - [`brief`]: what a lyricist is asked to write, a first take or a revision;
//! - [`written_song`]: the text format lyricists write in;
//! - [`read_mask`] and [`page_size`]: how `GetSong` and `ListSongs` answer.

pub mod album_plan;
pub mod brief;
pub mod jam;
pub mod page_size;
pub mod read_mask;
pub mod song_idea;
pub mod written_song;

pub use album_plan::{AlbumPlan, CoverDescription, SongsCount};
pub use brief::{Revision, SongBrief};
pub use jam::{Instruction, JamAction};
pub use page_size::PageSize;
pub use read_mask::ReadMask;
pub use song_idea::{Genre, Theme, genre_key};
pub use written_song::WrittenSong;
