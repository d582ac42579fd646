//! How long the offline lyricist takes to write one song, first takes and revisions.
//! `cargo bench -p song-producer`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use song_producer::{
    domain::{Genre, Instruction, Revision, SongBrief, Theme, WrittenSong},
    lyricist::compose,
};

fn brief(genre: &str, theme: &str) -> SongBrief {
    SongBrief::new(Genre::parse(genre).unwrap(), Theme::parse(theme).unwrap())
}

fn write(c: &mut Criterion) {
    let mut group = c.benchmark_group("offline lyricist");
    for (genre, theme) in [
        ("gangsta rap", "money and fast cars"),
        ("heavy metal", "dragons over the city"),
        ("polish disco polo", "summer at the lake"),
    ] {
        let first = brief(genre, theme);
        group.bench_function(format!("{genre}: first take"), |b| {
            b.iter(|| compose(black_box(&first)))
        });
        let revision = SongBrief {
            revision: Some(Revision {
                previous: WrittenSong::parse(&compose(&first)).unwrap(),
                instruction: Instruction::parse("shorter, with a new chorus").unwrap(),
                take: 2,
            }),
            ..first.clone()
        };
        group.bench_function(format!("{genre}: revision"), |b| {
            b.iter(|| compose(black_box(&revision)))
        });
    }
    group.finish();
}

criterion_group!(benches, write);
criterion_main!(benches);
