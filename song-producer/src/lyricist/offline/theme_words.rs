//! The theme's words, ready to be sung: the motif, and its key words without the
//! small ones.

use crate::domain::genre_key;

/// The theme's words, ready to be sung.
pub(super) struct Words {
    pub(super) motif: String,
    pub(super) keywords: Vec<String>,
    pub(super) genre: String,
}

pub(super) const MAX_KEYWORD: usize = 24;

/// Words too small to sing about, in English and Polish.
pub(super) const STOPWORDS: &[&str] = &[
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "about", "my",
    "your", "our", "is", "are", "be", "it", "its", "this", "that", "from", "by", "as", "i", "we",
    "you", "me", "song", "i'm", "over", "under", "into", "through", "after", "before", "when",
    "where", "what", "who", "all", "some", "just", "very", "like", "than", "then", "them", "they",
    "their", "his", "her", "was", "were", "has", "have", "had", "not", "but", "out", "off", "only",
    "down", "every", "more", "most", "how", "why", "w", "z", "na", "do", "o", "się", "jest", "mój",
    "moja", "nad", "pod", "przy", "dla", "bez",
];

impl Words {
    pub(super) fn from_theme(theme: &str, genre: &str) -> Self {
        // Words keep the client's capitals (a theme about Paris sings "Paris"), except
        // the sentence capital of the first word.
        let words: Vec<String> = theme
            .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
            .filter(|word| !word.is_empty())
            .enumerate()
            .map(|(index, word)| {
                let acronym = word.chars().all(|c| !c.is_lowercase());
                if index == 0 && !acronym {
                    word.to_lowercase()
                } else {
                    word.to_owned()
                }
            })
            .collect();
        let mut keywords: Vec<String> = Vec::new();
        for word in &words {
            let lower = word.to_lowercase();
            let seen = keywords
                .iter()
                .any(|keyword| keyword.to_lowercase() == lower);
            if word.chars().count() > 2 && !STOPWORDS.contains(&lower.as_str()) && !seen {
                // A 500-letter "word" would make a 500-letter title.
                keywords.push(word.chars().take(MAX_KEYWORD).collect());
            }
        }
        if keywords.is_empty() {
            keywords = words
                .iter()
                .map(|word| word.chars().take(MAX_KEYWORD).collect())
                .collect();
        }
        if keywords.is_empty() {
            keywords.push(genre_key(genre));
        }
        keywords.truncate(6);
        // A short theme is sung whole; a long one by its first key words.
        let motif = if theme.chars().count() <= 32 && !words.is_empty() {
            words.join(" ")
        } else {
            keywords
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(" ")
        };
        Self {
            motif,
            keywords,
            genre: genre.trim().to_lowercase(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_words_are_not_sung_as_key_words() {
        let words = Words::from_theme("dragons over the city", "metal");
        assert_eq!(words.keywords, ["dragons", "city"]);
        assert_eq!(words.motif, "dragons over the city");
    }
}
