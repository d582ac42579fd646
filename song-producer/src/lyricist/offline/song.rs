//! One take, rendered: rhyming couplets of the genre's flavour, the theme woven in,
//! every choice drawn from a generator seeded by the brief.

use superstar_server::offline::SplitMix64;

use super::{revision::Plan, theme_words::Words};
use crate::lyricist::flavours::Flavour;

pub(super) struct Song<'a> {
    pub(super) flavour: &'static Flavour,
    pub(super) words: &'a Words,
    pub(super) seed: [&'a str; 3],
}

impl Song<'_> {
    pub(super) fn rng(&self, part: &str, salt: &str, attempt: usize) -> SplitMix64 {
        let attempt = attempt.to_string();
        SplitMix64::from_parts(&[
            self.seed[0],
            self.seed[1],
            self.seed[2],
            part,
            salt,
            &attempt,
        ])
    }

    pub(super) fn render(&self, plan: &Plan, attempt: usize) -> String {
        let title = self.fill(
            self.rng("title", "", 0).pick::<&str>(self.flavour.titles),
            &mut self.rng("title words", "", 0),
        );
        let (chorus, chorus_group) = self.chorus(&mut self.rng("chorus", &plan.chorus_salt, 0));
        let mut verses = Groups::new(
            self.rng("verses", &plan.verse_salt, attempt),
            self.flavour.rhymes.len(),
            chorus_group,
        );
        let mut bridges = self.rng("bridges", &plan.verse_salt, attempt);

        let mut sections = vec![(
            "[Verse 1]".to_owned(),
            self.verse(&mut verses, plan.couplets_per_verse),
        )];
        sections.push(("[Chorus]".to_owned(), chorus.clone()));
        if plan.verses > 1 {
            sections.push((
                "[Verse 2]".to_owned(),
                self.verse(&mut verses, plan.couplets_per_verse),
            ));
        }
        for number in 1..=plan.bridges {
            let heading = if number == 1 {
                "[Bridge]".to_owned()
            } else {
                format!("[Bridge {number}]")
            };
            sections.push((heading, self.bridge(&mut bridges)));
        }
        sections.push(("[Chorus]".to_owned(), chorus));

        let body: Vec<String> = sections
            .into_iter()
            .map(|(heading, lines)| format!("{heading}\n{}", lines.join("\n")))
            .collect();
        format!("Title: {title}\n\n{}\n", body.join("\n\n"))
    }

    pub(super) fn verse(&self, groups: &mut Groups, couplets: usize) -> Vec<String> {
        let mut lines = Vec::new();
        for _ in 0..couplets {
            let group = self.flavour.rhymes[groups.next()];
            lines.extend(self.couplet(&mut groups.rng, group));
        }
        lines
    }

    /// The chorus, and the rhyme group it used (the verses keep away from it).
    pub(super) fn chorus(&self, rng: &mut SplitMix64) -> (Vec<String>, usize) {
        let hook = self.fill(rng.pick::<&str>(self.flavour.hooks), rng);
        let group = rng.below(self.flavour.rhymes.len());
        let [first, second] = self.couplet(rng, self.flavour.rhymes[group]);
        (vec![hook.clone(), first, second, hook], group)
    }

    pub(super) fn bridge(&self, rng: &mut SplitMix64) -> Vec<String> {
        let group = rng.pick(self.flavour.bridges);
        self.couplet(rng, group).to_vec()
    }

    /// Two different lines of one rhyme group, the second maybe with an ad-lib.
    pub(super) fn couplet(&self, rng: &mut SplitMix64, group: &[&str]) -> [String; 2] {
        let first = rng.below(group.len());
        let second = (first + 1 + rng.below(group.len() - 1)) % group.len();
        let mut lines = [self.fill(group[first], rng), self.fill(group[second], rng)];
        if !self.flavour.adlibs.is_empty() && rng.below(3) == 0 {
            lines[1] = format!("{} {}", lines[1], rng.pick(self.flavour.adlibs));
        }
        lines
    }

    pub(super) fn fill(&self, pattern: &str, rng: &mut SplitMix64) -> String {
        let keyword = rng.pick(&self.words.keywords);
        pattern
            .replace("{motif}", &self.words.motif)
            .replace("{Motif}", &capitalise_first(&self.words.motif))
            .replace("{kw}", keyword)
            .replace("{Kw}", &capitalise_words(keyword))
            .replace("{genre}", &self.words.genre)
    }
}

/// Deals rhyme groups to the verses without repeats: every group but the chorus's, in
/// an order drawn from the verses' generator, dealt again only when all are used.
pub(super) struct Groups {
    pub(super) rng: SplitMix64,
    pub(super) count: usize,
    pub(super) excluded: usize,
    pub(super) deck: Vec<usize>,
}

impl Groups {
    pub(super) fn new(rng: SplitMix64, count: usize, excluded: usize) -> Self {
        Self {
            rng,
            count,
            excluded,
            deck: Vec::new(),
        }
    }

    pub(super) fn next(&mut self) -> usize {
        if self.deck.is_empty() {
            self.deck = (0..self.count)
                .filter(|group| *group != self.excluded)
                .collect();
            // Fisher–Yates, drawn from the verses' generator.
            for i in (1..self.deck.len()).rev() {
                let j = self.rng.below(i + 1);
                self.deck.swap(i, j);
            }
        }
        self.deck.pop().unwrap_or(self.excluded)
    }
}

pub(super) fn capitalise_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn capitalise_words(text: &str) -> String {
    text.split(' ')
        .map(capitalise_first)
        .collect::<Vec<_>>()
        .join(" ")
}
