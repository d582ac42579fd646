//! The offline lyricist: songs in the contract's shape, different per track, revised as asked.

use futures::TryStreamExt;

use song_producer::{
    domain::{Genre, Instruction, Revision, SongBrief, SongsCount, Theme, WrittenSong},
    lyricist::{Lyricist, OfflineLyricist, compose},
};
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
    let tracks = SongBrief::tracks(&genre, &theme, SongsCount::parse(3).unwrap());
    let songs: Vec<String> = tracks.iter().map(compose).collect();
    assert_eq!(songs[0], compose(&brief("jazz", "rain")));
    assert!(songs[0] != songs[1] && songs[1] != songs[2] && songs[0] != songs[2]);
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
        let groups = song_producer::lyricist::flavours::METAL
            .rhymes
            .iter()
            .enumerate();
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
