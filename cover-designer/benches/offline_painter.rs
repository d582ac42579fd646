//! How long the offline painter takes for one 512×512 cover, PNG included.
//! `cargo bench -p cover-designer`; the target is 20 ms per cover.

use std::hint::black_box;

use cover_designer::{domain::CoverBrief, painter::OfflinePainter};
use criterion::{Criterion, criterion_group, criterion_main};
use superstar_proto::v1::DesignCoverRequest;

fn paint(c: &mut Criterion) {
    let painter = OfflinePainter::default();
    let mut group = c.benchmark_group("offline painter");
    for (genre, description) in [
        ("polish disco polo", "a neon dragon over Warsaw at midnight"),
        ("heavy metal", "dragons over the city"),
        ("jazz", "a rainy Tuesday in Paris"),
    ] {
        let brief = CoverBrief::parse(DesignCoverRequest {
            description: description.into(),
            title: String::new(),
            genre: genre.into(),
            ..Default::default()
        })
        .expect("a valid brief");
        group.bench_function(genre, |b| {
            b.iter(|| painter.paint_now(black_box(&brief)).expect("a cover"))
        });
    }
    group.finish();
}

criterion_group!(benches, paint);
criterion_main!(benches);
