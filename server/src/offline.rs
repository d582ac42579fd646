//! Determinism for the offline providers.
//!
//! The offline lyricist and painter must give the same output for the same input on
//! every machine and every release, so they cannot use `rand`'s `StdRng` (whose
//! algorithm may change between versions) or `std`'s `DefaultHasher` (randomly keyed).
//! A fixed FNV-1a hash of the input seeds a SplitMix64 generator: both are a few lines,
//! fully specified and stable forever.

/// FNV-1a (64-bit) over `parts`, each followed by a zero byte so that `("ab", "c")`
/// and `("a", "bc")` differ.
fn fnv1a(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for part in parts {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

/// SplitMix64: a tiny, well-mixed generator, more than enough to pick words and shapes.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator seeded with the hash of `parts`.
    pub fn from_parts(parts: &[&str]) -> Self {
        Self::new(fnv1a(parts))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (`bound` > 0).
    pub fn below(&mut self, bound: usize) -> usize {
        (self.next_u64() % bound as u64) as usize
    }

    /// A number in `0.0..1.0`.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
