//! What reading a streamed song costs: the song contract's JSON reader against the text
//! reader, for a long song (8 sections of 8 lines) fed as a model streams it, a few
//! characters at a time. `cargo bench -p song-producer --bench song_reader`.
//!
//! The reader's CPU is microseconds a song; the delay users feel is that a line goes
//! out when its closing quote arrives, the time the model takes to write one line.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use song_producer::{
    domain::WrittenSong,
    lyricist::contract::{Contract, HEADINGS, SongReader, to_json},
};

fn long_song() -> WrittenSong {
    let mut text = String::from("Title: The Longest Song\n");
    for heading in &HEADINGS[..8] {
        text.push_str(&format!("\n[{heading}]\n"));
        for line in 0..8 {
            text.push_str(&format!(
                "This is line {line} of the {heading}, sung out loud\n"
            ));
        }
    }
    WrittenSong::parse(&text).unwrap()
}

/// `text` in pieces of 4 characters, as a model streams tokens.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(4)
        .map(|piece| piece.iter().collect())
        .collect()
}

fn read(contract: Contract, pieces: &[String]) -> usize {
    let mut reader = SongReader::new(contract);
    let mut released = 0;
    for piece in pieces {
        released += reader.push(piece).unwrap().len();
    }
    released + reader.finish().unwrap().len()
}

fn readers(c: &mut Criterion) {
    let song = long_song();
    let json = pieces(&to_json(&song).to_string());
    let text = pieces(&song.to_text());
    let mut group = c.benchmark_group("song reader, 64 lines in 4-character pieces");
    group.bench_function("json_schema", |b| {
        b.iter(|| read(Contract::JsonSchema, black_box(&json)))
    });
    group.bench_function("text", |b| {
        b.iter(|| read(Contract::Text, black_box(&text)))
    });
    group.finish();
}

criterion_group!(benches, readers);
criterion_main!(benches);
