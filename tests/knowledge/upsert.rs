//! Single-article changes (the library calls the HTTP API will use): an upsert is
//! searchable at once and written to the sources so that a full rebuild keeps it; a delete
//! removes it from both; an unknown id is an error.

use crate::common::{TestKb, ids, request};
use ponte::knowledge::index::rebuild;
use ponte::knowledge::ingest::read_article;
use ponte::knowledge::{
    Activity, Article, DocKind, Document, KnowledgeBase, KnowledgeError, PerLanguage, Visibility,
};
use ponte::lang::Language;
use std::path::Path;

fn article(id: &str, title: &str, visibility: Visibility) -> Article {
    Article {
        id: id.to_string(),
        topic: None,
        title: title.to_string(),
        language: Language::En,
        summary: "Certificates expire every year.".to_string(),
        body: "Open the certificate manager, select the expired one and renew it.".to_string(),
        tags: vec!["certificate".to_string()],
        visibility,
        url: Some(format!("https://portal.example.com/kb/{id}")),
        source_path: None,
    }
}

/// A full rebuild from the sources, swapped into `kb`.
fn full_rebuild(fixture: &TestKb) {
    let report = rebuild(&fixture.index_dir(), &fixture.sources(), &mut |_| {}).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert!(fixture.kb.refresh().unwrap());
}

fn first(kb: &KnowledgeBase, text: &str) -> Option<String> {
    ids(kb, text, Some(Language::En)).into_iter().next()
}

#[test]
fn an_upserted_article_is_searchable_at_once_and_survives_a_rebuild() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    let title = "Renew an expired certificate";
    assert_ne!(first(kb, title).as_deref(), Some("kb-cert.en"));
    let before = kb.generation().num_docs();

    let stored = kb
        .upsert(Document::Article(article(
            "kb-cert.en",
            title,
            Visibility::Public,
        )))
        .unwrap();
    assert_eq!(first(kb, title).as_deref(), Some("kb-cert.en"));
    assert_eq!(
        first(kb, "expired certificate").as_deref(),
        Some("kb-cert.en")
    );
    assert_eq!(kb.generation().num_docs(), before + 1);

    // Its source file is where a knowledge manager would put it, and reads back the same.
    let relative = stored.source_path().unwrap().clone();
    assert_eq!(relative, Path::new("articles/en/kb-cert.en.md"));
    let path = fixture.sources_dir.path().join(&relative);
    let on_disk = read_article(&path, &relative).unwrap();
    assert_eq!(Document::Article(on_disk), stored);

    full_rebuild(&fixture);
    assert_eq!(first(kb, title).as_deref(), Some("kb-cert.en"));
    assert_eq!(kb.generation().num_docs(), before + 1);
}

#[test]
fn upserting_an_existing_article_replaces_it_in_place() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    let before = kb.generation().num_docs();
    assert_eq!(
        first(kb, "Connecting printers to your laptop").as_deref(),
        Some("kb-printer.en")
    );

    let mut changed = article("kb-printer.en", "Print from a tablet", Visibility::Public);
    changed.body = "Install the print app on the tablet and pick the queue.".to_string();
    let stored = kb.upsert(Document::Article(changed)).unwrap();
    // The existing file is rewritten, not a second one added.
    assert_eq!(
        stored.source_path().unwrap(),
        Path::new("articles/en/printer.md")
    );
    assert!(
        !fixture
            .sources_dir
            .path()
            .join("articles/en/kb-printer.en.md")
            .exists()
    );
    assert_eq!(kb.generation().num_docs(), before);
    assert_eq!(
        first(kb, "Print from a tablet").as_deref(),
        Some("kb-printer.en")
    );
    assert!(!ids(kb, "laptop", Some(Language::En)).contains(&"kb-printer.en".to_string()));

    full_rebuild(&fixture);
    assert_eq!(kb.generation().num_docs(), before);
    assert_eq!(
        first(kb, "Print from a tablet").as_deref(),
        Some("kb-printer.en")
    );
}

#[test]
fn an_upserted_group_only_article_stays_within_its_group() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    let title = "Quarterly budget spreadsheet template";
    kb.upsert(Document::Article(article(
        "kb-budget.en",
        title,
        Visibility::Groups(vec!["finance".to_string()]),
    )))
    .unwrap();
    for groups in [&[][..], &["hr"][..]] {
        let found = kb
            .search(&request(title, Some(Language::En), groups))
            .unwrap();
        assert!(
            found.iter().all(|hit| hit.id != "kb-budget.en"),
            "{groups:?}"
        );
    }
    let found = kb
        .search(&request(title, Some(Language::En), &["finance"]))
        .unwrap();
    assert_eq!(found[0].id, "kb-budget.en");
}

#[test]
fn a_deleted_article_is_gone_from_search_and_sources() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    let before = kb.generation().num_docs();
    let title = "Shared mailbox permissions";
    assert_eq!(first(kb, title).as_deref(), Some("kb-mailbox.en"));
    let path = fixture.sources_dir.path().join("articles/en/mailbox.md");
    assert!(path.is_file());

    let deleted = kb.delete(DocKind::Article, "kb-mailbox.en").unwrap();
    assert_eq!(deleted.id(), "kb-mailbox.en");
    assert!(!ids(kb, title, Some(Language::En)).contains(&"kb-mailbox.en".to_string()));
    assert!(!path.exists());
    assert_eq!(kb.generation().num_docs(), before - 1);

    full_rebuild(&fixture);
    assert!(!ids(kb, title, Some(Language::En)).contains(&"kb-mailbox.en".to_string()));
    assert_eq!(kb.generation().num_docs(), before - 1);
    // The other languages' mailbox article is untouched.
    assert_eq!(
        ids(kb, "Buzones compartidos", Some(Language::Es))[0],
        "kb-mailbox.es"
    );
}

#[test]
fn deleting_an_unknown_id_is_an_error_and_changes_nothing() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    let before = kb.generation().num_docs();
    for (kind, id) in [
        (DocKind::Article, "no-such-article"),
        // An id that exists, but as another kind.
        (DocKind::Activity, "kb-mailbox.en"),
        (DocKind::Article, "kb-badge-replacement"),
    ] {
        match kb.delete(kind, id) {
            Err(KnowledgeError::UnknownId(unknown)) => assert_eq!(unknown, id),
            other => panic!("{kind:?} {id}: {other:?}"),
        }
    }
    assert_eq!(kb.generation().num_docs(), before);
    assert_eq!(
        first(kb, "Shared mailbox permissions").as_deref(),
        Some("kb-mailbox.en")
    );
}

#[test]
fn an_upsert_the_next_rebuild_would_skip_is_refused() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    let before = kb.generation().num_docs();
    for (id, title) in [
        ("kb-untitled.en", "   "),
        ("", "No id"),
        ("has space.en", "Spaced id"),
    ] {
        match kb.upsert(Document::Article(article(id, title, Visibility::Public))) {
            Err(KnowledgeError::Invalid(reason)) => assert!(!reason.is_empty()),
            other => panic!("{id:?} / {title:?}: {other:?}"),
        }
    }
    assert_eq!(kb.generation().num_docs(), before);
    // No source file was written, so the next rebuild reports nothing.
    let report = rebuild(&fixture.index_dir(), &fixture.sources(), &mut |_| {}).unwrap();
    assert!(report.skipped.is_empty(), "{:?}", report.skipped);
    assert_eq!(report.articles + report.activities, before as usize);
}

fn activity(id: &str, english_name: Option<&str>) -> Activity {
    Activity {
        id: id.to_string(),
        name: PerLanguage {
            pt_br: english_name.map(|_| "Troca de monitor".to_string()),
            es: None,
            en: english_name.map(str::to_string),
        },
        description: PerLanguage::default(),
        examples: PerLanguage {
            pt_br: None,
            es: None,
            en: Some(vec!["my screen flickers".to_string()]),
        },
        category: Some("hardware".to_string()),
        contract: None,
        group: Some("field-support".to_string()),
        visibility: Visibility::Public,
        source_path: None,
    }
}

#[test]
fn an_upserted_activity_is_searchable_and_survives_a_rebuild() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    match kb.upsert(Document::Activity(activity("kb-monitor-swap", None))) {
        Err(KnowledgeError::Invalid(reason)) => assert!(reason.contains("name"), "{reason}"),
        other => panic!("an activity without a name: {other:?}"),
    }
    let stored = kb
        .upsert(Document::Activity(activity(
            "kb-monitor-swap",
            Some("Monitor replacement"),
        )))
        .unwrap();
    assert_eq!(
        stored.source_path().unwrap(),
        Path::new("activities/kb-monitor-swap.toml")
    );
    let mut activities = request("monitor replacement", Some(Language::En), &[]);
    activities.kind = Some(DocKind::Activity);
    assert_eq!(kb.search(&activities).unwrap()[0].id, "kb-monitor-swap");
    full_rebuild(&fixture);
    let found = kb.search(&activities).unwrap();
    assert_eq!(found[0].id, "kb-monitor-swap");
    assert_eq!(found[0].document.as_ref(), Some(&stored));
}
