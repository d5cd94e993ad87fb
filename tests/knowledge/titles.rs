//! "A title or part of a title finds the article", and so does a title with a typo: every
//! public article of the bundled knowledge base, and hand-picked cases on the fixture, must
//! come first (among articles), with and without the requester's language.

use crate::common::{TestKb, hits, request};
use ponte::knowledge::{DocKind, Document, KnowledgeBase, Visibility};
use ponte::lang::Language;

/// The four one-letter typos.
#[derive(Debug, Clone, Copy)]
enum Typo {
    Deleted,
    Swapped,
    Doubled,
    Replaced,
}

const TYPOS: [Typo; 4] = [Typo::Deleted, Typo::Swapped, Typo::Doubled, Typo::Replaced];

/// `title` with one typo in the middle of its longest word (the first of equal length).
fn with_typo(title: &str, typo: Typo) -> String {
    let mut words: Vec<String> = title.split(' ').map(str::to_string).collect();
    let longest = (0..words.len())
        .filter(|&i| words[i].chars().all(char::is_alphabetic))
        .max_by_key(|&i| (words[i].chars().count(), std::cmp::Reverse(i)))
        .expect("a title has a word");
    let mut chars: Vec<char> = words[longest].chars().collect();
    let middle = chars.len() / 2;
    match typo {
        Typo::Deleted => {
            chars.remove(middle);
        }
        Typo::Swapped => {
            // Two different letters, or the swap would change nothing ("Connect").
            let at = (middle..chars.len())
                .find(|&i| chars[i - 1] != chars[i])
                .expect("a word of one repeated letter");
            chars.swap(at - 1, at);
        }
        Typo::Doubled => chars.insert(middle, chars[middle]),
        Typo::Replaced => chars[middle] = if chars[middle] == 'x' { 'z' } else { 'x' },
    }
    let changed: String = chars.into_iter().collect();
    assert_ne!(changed, words[longest], "{typo:?} left {title:?} unchanged");
    words[longest] = changed;
    words.join(" ")
}

/// The rank (1-based) of `expected` among the articles found for `text`.
fn article_rank(
    kb: &KnowledgeBase,
    text: &str,
    language: Option<Language>,
    expected: &str,
) -> Option<usize> {
    let mut articles = request(text, language, &[]);
    articles.kind = Some(DocKind::Article);
    hits(kb, &articles)
        .iter()
        .position(|hit| hit.id == expected)
        .map(|index| index + 1)
}

fn public_bundled_articles(fixture: &TestKb) -> Vec<ponte::knowledge::Article> {
    let scan = fixture.sources().scan(&mut |_| {}).unwrap();
    let articles: Vec<_> = scan
        .documents
        .into_iter()
        .filter_map(|document| match document {
            Document::Article(article) if article.visibility == Visibility::Public => Some(article),
            _ => None,
        })
        .collect();
    assert!(articles.len() >= 60, "only {} articles", articles.len());
    articles
}

/// Runs every query and fails with the full list of those not ranked first.
fn assert_all_first(kb: &KnowledgeBase, cases: &[(String, String, Language)]) {
    let mut misses = Vec::new();
    for (query, expected, language) in cases {
        for stated in [Some(*language), None] {
            let rank = article_rank(kb, query, stated, expected);
            if rank != Some(1) {
                misses.push(format!("{query:?} ({stated:?}) → {expected} at {rank:?}"));
            }
        }
    }
    assert!(
        misses.is_empty(),
        "{} of {} queries missed:\n{}",
        misses.len(),
        cases.len() * 2,
        misses.join("\n")
    );
}

#[test]
fn every_bundled_title_with_a_typo_finds_its_article_first() {
    let fixture = TestKb::bundled();
    let mut cases = Vec::new();
    for article in public_bundled_articles(&fixture) {
        for typo in TYPOS {
            cases.push((
                with_typo(&article.title, typo),
                article.id.clone(),
                article.language,
            ));
        }
    }
    assert_all_first(&fixture.kb, &cases);
}

#[test]
fn part_of_every_bundled_title_finds_its_article_first() {
    let fixture = TestKb::bundled();
    let mut cases = Vec::new();
    for article in public_bundled_articles(&fixture) {
        let words: Vec<&str> = article.title.split(' ').collect();
        if words.len() < 4 {
            continue;
        }
        // Without the first word, without the last one, and the second half.
        for part in [
            &words[1..],
            &words[..words.len() - 1],
            &words[words.len() / 2..],
        ] {
            cases.push((part.join(" "), article.id.clone(), article.language));
        }
    }
    assert!(cases.len() > 150, "{} cases", cases.len());
    assert_all_first(&fixture.kb, &cases);
}

#[test]
fn hand_picked_parts_of_titles() {
    let fixture = TestKb::bundled();
    let cases = [
        (
            "forgotten password",
            "reset-forgotten-password.en",
            Language::En,
        ),
        ("multi-factor authentication", "mfa-setup.en", Language::En),
        ("spam and phishing", "report-phishing.en", Language::En),
        (
            "senha esquecida",
            "reset-forgotten-password.pt-BR",
            Language::PtBr,
        ),
        ("autenticação multifator", "mfa-setup.pt-BR", Language::PtBr),
        ("Wi-Fi do escritório", "office-wifi.pt-BR", Language::PtBr),
        (
            "contraseña olvidada",
            "reset-forgotten-password.es",
            Language::Es,
        ),
        ("buzón compartido", "shared-mailbox-access.es", Language::Es),
        (
            "correo corporativo en el móvil",
            "mobile-email-setup.es",
            Language::Es,
        ),
    ]
    .map(|(query, id, language)| (query.to_string(), id.to_string(), language));
    assert_all_first(&fixture.kb, &cases);
}

#[test]
fn fixture_titles_with_typos_and_in_part() {
    let fixture = TestKb::fixture();
    let cases = [
        // Typos: deleted, swapped, doubled, replaced letter.
        (
            "Permisões de acesso",
            "kb-permissions.pt-BR",
            Language::PtBr,
        ),
        ("Restablecer la contarseña", "kb-password.es", Language::Es),
        ("Connecting printters", "kb-printer.en", Language::En),
        ("Shared mailbax permissions", "kb-mailbox.en", Language::En),
        ("Conexion a la red inalambrixa", "kb-wifi.es", Language::Es),
        // Parts of titles.
        (
            "pastas compartilhadas",
            "kb-permissions.pt-BR",
            Language::PtBr,
        ),
        ("e-mail no celular", "kb-email.pt-BR", Language::PtBr),
        ("red inalámbrica", "kb-wifi.es", Language::Es),
        ("forgotten password", "kb-password.en", Language::En),
    ]
    .map(|(query, id, language)| (query.to_string(), id.to_string(), language));
    assert_all_first(&fixture.kb, &cases);
}

#[test]
fn typo_helper_makes_one_letter_typos() {
    let title = "Reset a forgotten password";
    assert_eq!(with_typo(title, Typo::Deleted), "Reset a forgtten password");
    assert_eq!(
        with_typo(title, Typo::Swapped),
        "Reset a forogtten password"
    );
    assert_eq!(
        with_typo(title, Typo::Doubled),
        "Reset a forgootten password"
    );
    assert_eq!(
        with_typo(title, Typo::Replaced),
        "Reset a forgxtten password"
    );
    assert_eq!(
        with_typo("Connect to the office", Typo::Swapped),
        "Conenct to the office"
    );
}

#[test]
fn a_single_misspelled_word_still_finds_its_article() {
    // Nothing else in these queries matches: only typo tolerance can find the article.
    let fixture = TestKb::fixture();
    let cases = [
        ("pasword", "kb-password.en", Language::En),
        ("contarseña", "kb-password.es", Language::Es),
        ("maillbox", "kb-mailbox.en", Language::En),
        ("inalambrixa", "kb-wifi.es", Language::Es),
        ("permisoes", "kb-permissions.pt-BR", Language::PtBr),
        ("impressoraz", "kb-printer.pt-BR", Language::PtBr),
    ]
    .map(|(query, id, language)| (query.to_string(), id.to_string(), language));
    assert_all_first(&fixture.kb, &cases);
}
