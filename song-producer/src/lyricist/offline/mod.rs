//! The offline lyricist: real, deterministic songs from a songbook, no model needed.
//!
//! A song is a title and five sections, `[Verse 1]`, `[Chorus]`, `[Verse 2]`,
//! `[Bridge]`, `[Chorus]`, built from rhyming couplets of the genre's
//! [flavour](super::flavours) with the theme woven in. The same genre and theme
//! always give the same song: every choice comes from a generator seeded with them.
//!
//! A revision keeps what it was not asked to change and changes what it was:
//! `shorter` drops couplets (then the second verse), `longer` adds them, `bridge` adds a
//! bridge, `chorus` or `hook` writes a new chorus, and anything else rewrites the
//! verses. A new take is never the same as the one it revises.
//!
//! The text is streamed a few words at a time, as a model would stream it.

mod revision;
mod song;
mod theme_words;

use std::time::Duration;

use futures::StreamExt;
use superstar_server::serve::usage::Meter;
use tokio::time::Instant;

use self::{revision::Plan, song::Song, theme_words::Words};
use super::{Deltas, Lyricist, flavours};
use crate::domain::{SongBrief, genre_key};

/// Writes songs without a model. See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineLyricist {
    typing_delay: Duration,
}

impl OfflineLyricist {
    /// A lyricist that waits `typing_delay` before each delta, as a model takes time to
    /// write (`OFFLINE_TYPING_DELAY_MS`; zero, the default, streams at once). A delay
    /// makes streaming visible in a demo and lets tests watch it.
    pub fn with_typing_delay(typing_delay: Duration) -> Self {
        Self { typing_delay }
    }
}

impl Lyricist for OfflineLyricist {
    fn model(&self) -> &str {
        "offline"
    }

    fn write(&self, brief: &SongBrief, _deadline: Option<Instant>, meter: &Meter) -> Deltas {
        meter.called().answered();
        let deltas = futures::stream::iter(split_into_deltas(&compose(brief)));
        if self.typing_delay.is_zero() {
            return Box::pin(deltas.map(Ok));
        }
        let delay = self.typing_delay;
        Box::pin(deltas.then(move |delta| async move {
            tokio::time::sleep(delay).await;
            Ok(delta)
        }))
    }
}

/// The whole text of one take.
pub fn compose(brief: &SongBrief) -> String {
    let key = genre_key(brief.genre.as_str());
    let words = Words::from_theme(brief.theme.as_str(), brief.genre.as_str());
    let plan = Plan::for_brief(brief);
    let mut attempt = 0;
    loop {
        // Track 1 is the song the theme gives on its own; later tracks are other songs.
        let track = if brief.track > 1 {
            format!("track {}", brief.track)
        } else {
            String::new()
        };
        let text = Song {
            flavour: flavours::for_genre(&key),
            words: &words,
            seed: [&key, brief.theme.as_str(), &track],
        }
        .render(&plan, attempt);
        let same_as_before = brief
            .revision
            .as_ref()
            .is_some_and(|revision| revision.previous.to_text() == text);
        if !same_as_before || attempt > 16 {
            return text;
        }
        attempt += 1;
    }
}

/// Splits text into deltas of about three words, keeping every character, so the
/// deltas concatenate back to the text exactly.
fn split_into_deltas(text: &str) -> Vec<String> {
    let mut deltas = Vec::new();
    let mut current = String::new();
    let mut words = 0;
    for (index, c) in text.char_indices() {
        current.push(c);
        let ends_word =
            c.is_whitespace() && !text[index + c.len_utf8()..].starts_with(char::is_whitespace);
        if ends_word {
            words += 1;
            if words == 3 || c == '\n' {
                deltas.push(std::mem::take(&mut current));
                words = 0;
            }
        }
    }
    if !current.is_empty() {
        deltas.push(current);
    }
    deltas
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;
    use crate::domain::{Genre, Instruction, Revision, Theme, WrittenSong};
    use superstar_server::serve::usage::Usage;

    fn brief(genre: &str, theme: &str) -> SongBrief {
        SongBrief::new(Genre::parse(genre).unwrap(), Theme::parse(theme).unwrap())
    }

    fn revise(brief: &SongBrief, previous: &str, instruction: &str, take: u32) -> SongBrief {
        SongBrief {
            revision: Some(Revision {
                previous: WrittenSong::parse(previous).unwrap(),
                instruction: Instruction::parse(instruction).unwrap(),
                take,
            }),
            ..brief.clone()
        }
    }

    fn headings(text: &str) -> Vec<&str> {
        text.lines().filter(|line| line.starts_with('[')).collect()
    }

    #[test]
    fn a_song_has_a_title_and_the_five_sections() {
        let text = compose(&brief("heavy metal", "dragons over the city"));
        let song = WrittenSong::parse(&text).unwrap();
        assert!(!song.title.is_empty());
        assert_eq!(
            headings(&text),
            ["[Verse 1]", "[Chorus]", "[Verse 2]", "[Bridge]", "[Chorus]"]
        );
        assert!(text.contains("dragons"), "the theme is sung:\n{text}");
    }

    #[test]
    fn tracks_of_one_album_differ() {
        let genre = Genre::parse("jazz").unwrap();
        let theme = Theme::parse("rain").unwrap();
        let tracks =
            SongBrief::tracks(&genre, &theme, crate::domain::SongsCount::parse(3).unwrap());
        let songs: Vec<String> = tracks.iter().map(compose).collect();
        assert_eq!(songs[0], compose(&brief("jazz", "rain")));
        assert!(songs[0] != songs[1] && songs[1] != songs[2] && songs[0] != songs[2]);
    }

    #[test]
    fn small_words_are_not_sung_as_key_words() {
        let words = Words::from_theme("dragons over the city", "metal");
        assert_eq!(words.keywords, ["dragons", "city"]);
        assert_eq!(words.motif, "dragons over the city");
    }

    #[test]
    fn the_longest_themes_still_make_songs() {
        for theme in [
            "ł".repeat(500),
            "a ".repeat(250),
            format!("{} {}", "x".repeat(300), "y".repeat(199)),
        ] {
            let text = compose(&brief("jazz", &theme));
            assert!(WrittenSong::parse(&text).is_ok(), "{text}");
        }
    }

    #[test]
    fn the_same_brief_writes_the_same_song() {
        let a = compose(&brief("gangsta rap", "money and fast cars"));
        assert_eq!(a, compose(&brief("gangsta rap", "money and fast cars")));
        assert_ne!(a, compose(&brief("gangsta rap", "money and slow cars")));
    }

    #[test]
    fn each_genre_has_its_own_flavour() {
        let rap = compose(&brief("gangsta rap", "summer"));
        let metal = compose(&brief("heavy metal", "summer"));
        let disco = compose(&brief("polish disco polo", "summer"));
        let jazz = compose(&brief("jazz", "summer"));
        let all = [&rap, &metal, &disco, &jazz];
        for (i, a) in all.iter().enumerate() {
            for b in &all[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let polish = ["ą", "ę", "ł", "ś", "ż", "ó", "ń", "ć"];
        assert!(
            polish.iter().any(|letter| disco.contains(letter)),
            "disco polo is sung in Polish:\n{disco}"
        );
        for song in all {
            assert!(
                !song.contains(['{', '}']),
                "a placeholder was left unfilled:\n{song}"
            );
        }
    }

    #[test]
    fn no_line_is_sung_twice_outside_the_chorus() {
        for (genre, theme) in [
            ("heavy metal", "dragons over the city"),
            ("gangsta rap", "money"),
            ("jazz", "rain"),
        ] {
            let text = compose(&brief(genre, theme));
            let mut seen = std::collections::HashSet::new();
            let verses = text
                .split("\n\n")
                .filter(|section| section.starts_with("[Verse"));
            let chorus = text
                .split("\n\n")
                .find(|section| section.starts_with("[Chorus]"))
                .unwrap();
            for line in verses.flat_map(|section| section.lines().skip(1)) {
                assert!(seen.insert(line), "{line:?} twice in\n{text}");
                assert!(
                    !chorus.contains(line),
                    "{line:?} is also in the chorus\n{text}"
                );
            }
        }
    }

    #[test]
    fn verse_couplets_rhyme() {
        let last_word = |line: &str| {
            let line = line.split(" (").next().unwrap_or(line);
            line.rsplit(' ')
                .next()
                .unwrap()
                .trim_matches(|c: char| !c.is_alphabetic())
                .to_owned()
        };
        let groups_of = |word: &str| -> Vec<usize> {
            let groups = flavours::METAL.rhymes.iter().enumerate();
            groups
                .filter(|(_, group)| group.iter().any(|line| last_word(line) == word))
                .map(|(i, _)| i)
                .collect()
        };
        for theme in ["winter", "the last ride of the iron horse", "fire"] {
            let text = compose(&brief("heavy metal", theme));
            let verse: Vec<&str> = text
                .lines()
                .skip_while(|line| *line != "[Verse 1]")
                .skip(1)
                .take(4)
                .collect();
            for couplet in verse.chunks(2) {
                let (a, b) = (
                    groups_of(&last_word(couplet[0])),
                    groups_of(&last_word(couplet[1])),
                );
                assert!(
                    a.iter().any(|group| b.contains(group)),
                    "{couplet:?} do not rhyme"
                );
            }
        }
    }

    #[test]
    fn revisions_go_where_they_are_asked() {
        let first = brief("pop", "late trains");
        let take1 = compose(&first);

        let shorter = compose(&revise(&first, &take1, "make it shorter", 2));
        assert!(shorter.lines().count() < take1.lines().count());

        let bridged = compose(&revise(&first, &take1, "add a bridge", 2));
        assert_eq!(
            headings(&bridged)
                .iter()
                .filter(|h| h.starts_with("[Bridge"))
                .count(),
            2
        );

        let chorus = |text: &str| {
            text.lines()
                .skip_while(|l| *l != "[Chorus]")
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        };
        let new_chorus = compose(&revise(&first, &take1, "new chorus please", 2));
        assert_ne!(chorus(&new_chorus), chorus(&take1));

        let other = compose(&revise(&first, &take1, "more melancholy", 2));
        assert_ne!(other, take1);
    }

    #[test]
    fn a_revision_is_never_the_previous_take() {
        let first = brief("jazz", "rain");
        let mut previous = compose(&first);
        for take in 2..8 {
            for instruction in ["shorter", "add a bridge", "new chorus", "whatever"] {
                let next = compose(&revise(&first, &previous, instruction, take));
                assert_ne!(next, previous, "take {take}, {instruction}");
                previous = next;
            }
        }
    }

    #[tokio::test]
    async fn deltas_concatenate_to_the_song() {
        let brief = brief("polish disco polo", "wakacje nad morzem");
        let deltas: Vec<String> = OfflineLyricist::default()
            .write(&brief, None, &Usage::unwatched())
            .try_collect()
            .await
            .unwrap();
        assert!(deltas.len() > 20);
        assert_eq!(deltas.concat(), compose(&brief));
    }
}
