//! Quantiles and milliseconds as the report prints them.

use std::time::Duration;

use superstar_bench::stats::{ms, quantile};

#[test]
fn quantiles_pick_the_nearest_rank() {
    let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
    assert_eq!(quantile(&mut samples, 0.5), Duration::from_millis(51));
    assert_eq!(quantile(&mut samples, 0.99), Duration::from_millis(99));
    assert_eq!(quantile(&mut samples, 0.0), Duration::from_millis(1));
    assert_eq!(quantile(&mut [], 0.5), Duration::ZERO);
    assert_eq!(ms(Duration::from_micros(1500)), 1.5);
}
