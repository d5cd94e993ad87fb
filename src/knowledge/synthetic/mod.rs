//! Synthetic knowledge sources for benchmarks: deterministic article files in the real
//! source format, in the three languages, with titles and bodies drawn from a small
//! service-desk vocabulary.
//!
//! Every article is generated from its own random stream (the seed mixed with its number),
//! so the files can be written by several threads and still come out byte for byte the
//! same for the same seed, whatever the thread count.

mod vocabulary;

use crate::lang::Language;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vocabulary::{Vocabulary, vocabulary};

/// How many activity files a corpus has, whatever its article count.
pub const ACTIVITIES: usize = 30;

/// Groups that restricted documents are visible to.
const GROUPS: [&str; 5] = ["it-staff", "hr", "managers", "security", "finance"];

/// A small, fast, deterministic generator (SplitMix64): benchmarks need reproducible
/// corpora, not statistical quality.
struct Rng(u64);

impl Rng {
    fn new(seed: u64, stream: u64) -> Rng {
        let mut rng = Rng(seed ^ stream.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        rng.next();
        rng
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    fn range(&mut self, low: usize, high: usize) -> usize {
        debug_assert!(low <= high);
        low + (self.next() % (high - low + 1) as u64) as usize
    }

    /// True with probability `percent` / 100.
    fn percent(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// Any element, uniformly.
    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.range(0, words.len() - 1)]
    }

    /// An element with a skew towards the front of the list (the square of a uniform
    /// number), so that, as in real text, a few words are common and most are rare.
    fn pick_skewed<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let unit = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        words[((unit * unit) * words.len() as f64) as usize % words.len()]
    }
}

/// A title of 3 to 7 words: a verb, a noun phrase, and optionally a joined second one.
fn title(rng: &mut Rng, vocabulary: &Vocabulary) -> String {
    let words = rng.range(3, 7);
    let mut parts: Vec<&str> = Vec::with_capacity(words);
    parts.push(rng.pick(vocabulary.title_verbs));
    parts.push(rng.pick(vocabulary.nouns));
    while parts.len() < words {
        let remaining = words - parts.len();
        if remaining >= 2 && rng.percent(60) {
            parts.push(rng.pick(vocabulary.joiners));
            parts.push(rng.pick(vocabulary.nouns));
        } else if rng.percent(50) {
            parts.push(rng.pick(vocabulary.adjectives));
        } else {
            parts.push(rng.pick(vocabulary.nouns));
        }
    }
    parts.join(" ")
}

/// One sentence of 6 to 14 words, capitalised and ended with a full stop.
fn sentence(rng: &mut Rng, vocabulary: &Vocabulary, out: &mut String) -> usize {
    let words = rng.range(6, 14);
    for position in 0..words {
        let word = match (position, rng.range(0, 9)) {
            (0, _) => rng.pick(vocabulary.verbs),
            (_, 0..=3) => rng.pick_skewed(vocabulary.function),
            (_, 4..=6) => rng.pick_skewed(vocabulary.nouns),
            (_, 7) => rng.pick(vocabulary.adjectives),
            _ => rng.pick(vocabulary.verbs),
        };
        if position == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(word);
        }
    }
    out.push('.');
    words
}

fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

fn visibility(rng: &mut Rng, restricted_percent: u64) -> String {
    if !rng.percent(restricted_percent) {
        return quoted("public");
    }
    let first = rng.range(0, GROUPS.len() - 1);
    if rng.percent(25) {
        let second = (first + 1 + rng.range(0, GROUPS.len() - 2)) % GROUPS.len();
        format!("[{}, {}]", quoted(GROUPS[first]), quoted(GROUPS[second]))
    } else {
        format!("[{}]", quoted(GROUPS[first]))
    }
}

/// The language of article number `number`: the three in turn.
fn language_of(number: usize) -> Language {
    Language::ALL[number % Language::ALL.len()]
}

fn article_id(number: usize, language: Language) -> String {
    format!("syn-{number:06}.{}", language.tag())
}

/// The full source text of article number `number`.
fn article(number: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed, number as u64);
    let language = language_of(number);
    let vocabulary = vocabulary(language);
    let id = article_id(number, language);
    let title = title(&mut rng, vocabulary);
    let mut summary = String::new();
    sentence(&mut rng, vocabulary, &mut summary);
    let tags: Vec<String> = (0..rng.range(1, 3))
        .map(|_| quoted(rng.pick(vocabulary.nouns)))
        .collect();
    let visibility = visibility(&mut rng, 10);

    let mut text = String::with_capacity(2_600);
    text.push_str("+++\n");
    let _ = writeln!(text, "id = {}", quoted(&id));
    let _ = writeln!(text, "title = {}", quoted(&title));
    let _ = writeln!(text, "language = {}", quoted(language.tag()));
    let _ = writeln!(text, "summary = {}", quoted(&summary));
    let _ = writeln!(text, "tags = [{}]", tags.join(", "));
    let _ = writeln!(text, "visibility = {visibility}");
    let _ = writeln!(
        text,
        "url = {}",
        quoted(&format!("https://portal.example.com/kb/{id}"))
    );
    text.push_str("+++\n");
    let _ = writeln!(text, "# {title}\n");

    let target_words = rng.range(150, 300);
    let mut words = 0;
    while words < target_words {
        if words > 0 && rng.percent(20) {
            text.push_str("\n\n");
        } else if words > 0 {
            text.push(' ');
        }
        words += sentence(&mut rng, vocabulary, &mut text);
    }
    text.push('\n');
    text
}

/// The full source text of activity number `number`.
fn activity(number: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed ^ 0xac71_7171, number as u64);
    let mut text = String::with_capacity(2_000);
    let _ = writeln!(
        text,
        "id = {}",
        quoted(&format!("syn-activity-{number:02}"))
    );
    let _ = writeln!(
        text,
        "category = {}",
        quoted(rng.pick(&["access", "hardware", "software", "network", "security"]))
    );
    let _ = writeln!(text, "contract = {}", quoted("default"));
    let _ = writeln!(text, "group = {}", quoted("service-desk"));
    let _ = writeln!(text, "visibility = {}", visibility(&mut rng, 10));
    let mut names = String::from("\n[name]\n");
    let mut descriptions = String::from("\n[description]\n");
    let mut examples = String::from("\n[examples]\n");
    for language in Language::ALL {
        let vocabulary = vocabulary(language);
        let key = quoted(language.tag());
        let _ = writeln!(names, "{key} = {}", quoted(&title(&mut rng, vocabulary)));
        let mut description = String::new();
        sentence(&mut rng, vocabulary, &mut description);
        let _ = writeln!(descriptions, "{key} = {}", quoted(&description));
        let phrases: Vec<String> = (0..rng.range(3, 6))
            .map(|_| {
                let mut phrase = String::new();
                sentence(&mut rng, vocabulary, &mut phrase);
                quoted(phrase.trim_end_matches('.'))
            })
            .collect();
        let _ = writeln!(examples, "{key} = [{}]", phrases.join(", "));
    }
    text.push_str(&names);
    text.push_str(&descriptions);
    text.push_str(&examples);
    text
}

/// Writes `count` synthetic article files under `dir/articles/<lang>/` (and a few activity
/// files under `dir/activities/`), deterministically from `seed`. Returns the number of
/// article files written.
pub fn write_corpus(dir: &Path, count: usize, seed: u64) -> std::io::Result<usize> {
    let articles = dir.join("articles");
    for language in Language::ALL {
        std::fs::create_dir_all(articles.join(language.tag()))?;
    }
    let activities = dir.join("activities");
    std::fs::create_dir_all(&activities)?;
    for number in 0..ACTIVITIES {
        std::fs::write(
            activities.join(format!("syn-activity-{number:02}.toml")),
            activity(number, seed),
        )?;
    }

    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8);
    let path_of = |number: usize| -> PathBuf {
        let language = language_of(number);
        articles
            .join(language.tag())
            .join(format!("{}.md", article_id(number, language)))
    };
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let path_of = &path_of;
                scope.spawn(move || -> std::io::Result<()> {
                    for number in (worker..count).step_by(threads) {
                        std::fs::write(path_of(number), article(number, seed))?;
                    }
                    Ok(())
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .map_err(|_| std::io::Error::other("a corpus writer thread panicked"))??;
        }
        Ok::<(), std::io::Error>(())
    })?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::{Document, Sources, Visibility};

    #[test]
    fn writes_a_corpus_that_scans_without_errors() {
        let dir = tempfile::tempdir().unwrap();
        let written = write_corpus(dir.path(), 300, 7).unwrap();
        assert_eq!(written, 300);
        let scan = Sources::new(dir.path()).scan(&mut |_| {}).unwrap();
        assert!(scan.errors.is_empty(), "{:?}", scan.errors);
        assert_eq!(scan.articles(), 300);
        assert_eq!(scan.activities(), ACTIVITIES);

        let mut per_language = [0usize; 3];
        let mut restricted = 0;
        for document in &scan.documents {
            let Document::Article(article) = document else {
                continue;
            };
            per_language[Language::ALL
                .iter()
                .position(|l| *l == article.language)
                .unwrap()] += 1;
            let title_words = article.title.split_whitespace().count();
            assert!((3..=7).contains(&title_words), "{:?}", article.title);
            // The body starts with the title as a heading, then 150-300 words of text
            // (the last sentence may run over by up to 13 words).
            let body_words = article.body.split_whitespace().count() - title_words - 1;
            assert!((150..=313).contains(&body_words), "{body_words} words");
            if matches!(article.visibility, Visibility::Groups(_)) {
                restricted += 1;
            }
        }
        assert_eq!(per_language, [100, 100, 100]);
        // About 10% of 300, with room for chance.
        assert!((10..=55).contains(&restricted), "{restricted} restricted");
    }

    #[test]
    fn same_seed_same_files_other_seed_other_files() {
        let first = tempfile::tempdir().unwrap();
        let second = tempfile::tempdir().unwrap();
        let third = tempfile::tempdir().unwrap();
        write_corpus(first.path(), 20, 1).unwrap();
        write_corpus(second.path(), 20, 1).unwrap();
        write_corpus(third.path(), 20, 2).unwrap();
        let read = |dir: &Path| {
            let files = Sources::new(dir).files().unwrap();
            files
                .iter()
                .map(|path| {
                    (
                        path.strip_prefix(dir).unwrap().to_path_buf(),
                        std::fs::read(path).unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(read(first.path()), read(second.path()));
        assert_ne!(read(first.path()), read(third.path()));
    }
}
