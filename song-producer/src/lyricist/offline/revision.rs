//! What a take looks like, and how a revision changes the take it revises.

use crate::domain::SongBrief;

/// What a take looks like: its sections' sizes and which parts are written anew.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    pub(super) verses: usize,
    pub(super) couplets_per_verse: usize,
    pub(super) bridges: usize,
    /// Salts mixed into the seeds of the parts a revision rewrites.
    pub(super) verse_salt: String,
    pub(super) chorus_salt: String,
}

impl Plan {
    pub(super) const FIRST_TAKE: Plan = Plan {
        verses: 2,
        couplets_per_verse: 2,
        bridges: 1,
        verse_salt: String::new(),
        chorus_salt: String::new(),
    };

    pub(super) fn for_brief(brief: &SongBrief) -> Self {
        let Some(revision) = &brief.revision else {
            return Self::FIRST_TAKE;
        };
        let mut plan = Self::of(&revision.previous.lyrics);
        let instruction = revision.instruction.as_str().to_lowercase();
        let asks = |words: &[&str]| words.iter().any(|word| instruction.contains(word));
        let salt = format!("take {}: {instruction}", revision.take);
        let mut understood = false;

        if asks(&["short", "less", "cut", "trim", "krót"]) {
            understood = true;
            if plan.couplets_per_verse > 1 {
                plan.couplets_per_verse -= 1;
            } else if plan.verses > 1 {
                plan.verses -= 1;
            } else {
                plan.bridges = plan.bridges.saturating_sub(1);
            }
        }
        if asks(&["long", "more", "extend", "dłuż"]) {
            understood = true;
            plan.couplets_per_verse = (plan.couplets_per_verse + 1).min(4);
            plan.verses = plan.verses.max(2);
        }
        if asks(&["bridge", "most"]) {
            understood = true;
            plan.bridges = (plan.bridges + 1).min(3);
        }
        if asks(&["chorus", "hook", "refren"]) {
            understood = true;
            plan.chorus_salt = salt.clone();
        }
        if !understood {
            plan.verse_salt = salt;
        }
        plan
    }

    /// Reads the shape of an earlier take from its lyrics.
    pub(super) fn of(lyrics: &str) -> Self {
        let mut plan = Self {
            verses: 0,
            couplets_per_verse: 0,
            bridges: 0,
            ..Self::FIRST_TAKE
        };
        let mut in_first_verse = false;
        let mut first_verse_lines = 0;
        for line in lyrics
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
        {
            if line.starts_with('[') {
                in_first_verse = line == "[Verse 1]";
                plan.verses += usize::from(line.starts_with("[Verse"));
                plan.bridges += usize::from(line.starts_with("[Bridge"));
            } else if in_first_verse {
                first_verse_lines += 1;
            }
        }
        plan.verses = plan.verses.clamp(1, 2);
        plan.couplets_per_verse = (first_verse_lines / 2).clamp(1, 4);
        plan
    }
}
