//! The query path over 5,000 generated articles: `KnowledgeBase::search` (query building,
//! BM25 over the per-language fields, fuzzy title terms, re-ranking, loading the hits'
//! documents) for a part of a title, a title with a typo and a long sentence, each with and
//! without the requester's language, and with groups.
//!
//! `cargo bench --bench query`

use criterion::{Criterion, criterion_group, criterion_main};
use ponte::knowledge::index::rebuild;
use ponte::knowledge::synthetic::write_corpus;
use ponte::knowledge::{Article, Document, KnowledgeBase, SearchRequest, Sources, Visibility};
use ponte::lang::Language;
use std::hint::black_box;
use std::time::Duration;

const ARTICLES: usize = 5_000;

/// A public English article with a title of at least five words, from the generated corpus.
fn pick_article(sources: &Sources) -> Article {
    let scan = sources.scan(&mut |_| {}).expect("scanning the corpus");
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    scan.documents
        .into_iter()
        .filter_map(|document| match document {
            Document::Article(article) => Some(article),
            Document::Activity(_) => None,
        })
        .filter(|article| {
            article.language == Language::En
                && article.visibility == Visibility::Public
                && article.title.split(' ').count() >= 5
        })
        .nth(100)
        .expect("the corpus has such articles")
}

/// The title with one letter replaced in the middle of its longest word.
fn typo(title: &str) -> String {
    let mut words: Vec<String> = title.split(' ').map(str::to_string).collect();
    let longest = (0..words.len())
        .max_by_key(|&i| words[i].len())
        .expect("a word");
    let mut chars: Vec<char> = words[longest].chars().collect();
    let middle = chars.len() / 2;
    chars[middle] = if chars[middle] == 'x' { 'z' } else { 'x' };
    words[longest] = chars.into_iter().collect();
    words.join(" ")
}

fn search_benchmarks(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sources = Sources::new(dir.path().join("sources"));
    write_corpus(&sources.root, ARTICLES, 7).expect("writing the corpus");
    let root = dir.path().join("data").join("index");
    let report = rebuild(&root, &sources, &mut |_| {}).expect("building the index");
    assert_eq!(report.articles, ARTICLES);
    let kb = KnowledgeBase::open(&root, None).expect("opening the index");

    let article = pick_article(&sources);
    let words: Vec<&str> = article.title.split(' ').collect();
    let partial = words[1..words.len() - 1].join(" ");
    let typo = typo(&article.title);
    let sentence: String = article
        .body
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .flat_map(|line| line.split_whitespace())
        .take(30)
        .collect::<Vec<_>>()
        .join(" ");
    // The queries must find what they are meant to find, or the timings mean little.
    for text in [&article.title, &typo] {
        let mut request = SearchRequest::new(text.as_str());
        request.language = Some(Language::En);
        let hits = kb.search(&request).expect("search");
        assert_eq!(hits[0].id, article.id, "{text:?}");
    }

    let shapes = [
        ("partial title", partial.as_str()),
        ("typo title", typo.as_str()),
        ("long sentence", sentence.as_str()),
    ];
    let mut group = c.benchmark_group(format!("search {ARTICLES} articles"));
    for (shape, text) in shapes {
        for (variant, language, groups) in [
            ("en", Some(Language::En), vec![]),
            ("no language", None, vec![]),
            (
                "en + groups",
                Some(Language::En),
                vec!["it-staff".to_string(), "hr".to_string()],
            ),
        ] {
            let mut request = SearchRequest::new(text);
            request.language = language;
            request.groups = groups;
            group.bench_function(format!("{shape} / {variant}"), |b| {
                b.iter(|| kb.search(black_box(&request)).expect("search"))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(50)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = search_benchmarks
}
criterion_main!(benches);
