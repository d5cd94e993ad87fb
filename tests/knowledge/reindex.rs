//! Reindexing as a knowledge manager and a running server see it: queries keep being
//! answered during a rebuild, broken files are reported and skipped, a failed rebuild
//! leaves the old index serving, and a server picks up a generation built elsewhere.

use crate::common::{TestKb, copy_dir, fixture, ids, index_dir, ponte, request, run};
use ponte::knowledge::index::rebuild;
use ponte::knowledge::{DocKind, Document, KnowledgeBase, KnowledgeError, Sources};
use ponte::lang::Language;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// The generation directories under an index root.
fn generations(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with("gen-"))
        .collect();
    names.sort();
    names
}

fn current(root: &Path) -> String {
    std::fs::read_to_string(root.join("CURRENT")).unwrap()
}

const PROBES: [(&str, Option<Language>); 5] = [
    ("vpn", None),
    ("senha esquecida", Some(Language::PtBr)),
    ("impresora", Some(Language::Es)),
    ("Reset a forgotten password", Some(Language::En)),
    ("Connect to the office Wi-Fi", None),
];

#[test]
fn queries_from_several_threads_all_succeed_while_rebuilds_run() {
    let fixture = TestKb::bundled();
    let kb = &fixture.kb;
    let root = fixture.index_dir();
    let sources = fixture.sources();
    let expected: Vec<Vec<String>> = PROBES
        .iter()
        .map(|(text, language)| ids(kb, text, *language))
        .collect();
    let rebuilding = AtomicBool::new(true);
    let rebuilds = 4;
    let (answered, seen) = std::thread::scope(|scope| {
        let readers: Vec<_> = (0..3)
            .map(|reader| {
                let expected = &expected;
                let rebuilding = &rebuilding;
                let root = &root;
                scope.spawn(move || {
                    let mut answered = 0;
                    let mut seen = HashSet::new();
                    while rebuilding.load(Ordering::SeqCst) || answered < 30 {
                        let probe = (answered + reader) % PROBES.len();
                        let (text, language) = PROBES[probe];
                        // The shared base, refreshed now and then as the server does...
                        if answered % 7 == 0 {
                            kb.refresh().expect("refresh during a rebuild");
                        }
                        let found = kb
                            .search(&request(text, language, &[]))
                            .expect("a query during a rebuild failed");
                        let found: Vec<String> = found.into_iter().map(|hit| hit.id).collect();
                        assert_eq!(found, expected[probe], "{text:?} changed during a rebuild");
                        seen.insert(kb.generation().name.clone());
                        // ... and one opened afresh, as a process starting now would.
                        if reader == 0 && answered % 10 == 0 {
                            let fresh = KnowledgeBase::open(root, None)
                                .expect("opening the index during a rebuild");
                            assert_eq!(ids(&fresh, text, language), expected[probe]);
                        }
                        answered += 1;
                    }
                    (answered, seen)
                })
            })
            .collect();
        for _ in 0..rebuilds {
            let report = rebuild(&root, &sources, &mut |_| {}).expect("rebuild");
            assert!(report.skipped.is_empty());
        }
        rebuilding.store(false, Ordering::SeqCst);
        readers
            .into_iter()
            .map(|reader| reader.join().expect("a reader thread panicked"))
            .fold((0, HashSet::new()), |(total, mut all), (answered, seen)| {
                all.extend(seen);
                (total + answered, all)
            })
    });
    assert!(answered >= 90, "{answered} queries answered");
    // The readers were served by more than one generation: swaps happened under them.
    assert!(seen.len() >= 2, "generations seen: {seen:?}");
    // Old generations are cleaned up: the current one and one previous are kept.
    let kept = generations(&root);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(kept.contains(&current(&root)));
}

#[test]
fn two_reindex_processes_and_a_reader_share_a_data_dir_safely() {
    let fixture = TestKb::bundled();
    let cwd = tempfile::tempdir().unwrap();
    let spawn = || {
        ponte(cwd.path())
            .arg("--knowledge-dir")
            .arg(fixture.sources_dir.path())
            .arg("--data-dir")
            .arg(fixture.data_dir.path())
            .args(["reindex", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let expected = ids(&fixture.kb, "vpn", None);
    let children = [spawn(), spawn()];
    let mut queries = 0;
    let mut outputs = Vec::new();
    for mut child in children {
        while child.try_wait().unwrap().is_none() {
            fixture.kb.refresh().unwrap();
            assert_eq!(ids(&fixture.kb, "vpn", None), expected);
            queries += 1;
        }
        outputs.push(child.wait_with_output().unwrap());
    }
    let mut built = HashSet::new();
    for output in &outputs {
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        built.insert(report["generation"].as_str().unwrap().to_string());
    }
    assert_eq!(built.len(), 2, "each process built its own generation");
    assert!(queries > 0);
    // Whichever finished last is current, and the reader ends up on it.
    fixture.kb.refresh().unwrap();
    let serving = fixture.kb.generation().name.clone();
    assert!(built.contains(&serving), "{serving} not in {built:?}");
    assert_eq!(current(&fixture.index_dir()), serving);
    assert_eq!(ids(&fixture.kb, "vpn", None), expected);
}

/// Writes `text` (raw bytes) to `relative` under `root`.
fn write(root: &Path, relative: &str, text: &[u8]) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// One broken source file of each kind, with the line and reason it must be reported with.
fn add_broken_files(root: &Path) -> Vec<(&'static str, Option<usize>, &'static str)> {
    write(
        root,
        "articles/en/malformed.md",
        b"+++\nid = \"malformed.en\"\ntitle = \"Unclosed string\nlanguage = \"en\"\n+++\nBody.\n",
    );
    write(
        root,
        "articles/en/no-title.md",
        b"+++\nid = \"no-title.en\"\ntitle = \"  \"\nlanguage = \"en\"\n+++\nUntitled body.\n",
    );
    write(
        root,
        "articles/en/no-front-matter.md",
        b"# Just Markdown\n\nNo front matter here.\n",
    );
    write(
        root,
        "articles/en/unclosed.md",
        b"+++\nid = \"unclosed.en\"\ntitle = \"Never closed\"\nlanguage = \"en\"\nBody.\n",
    );
    // Latin-1 "é" on line 7.
    write(
        root,
        "articles/en/latin1.md",
        b"+++\nid = \"latin1.en\"\ntitle = \"Latin one\"\nlanguage = \"en\"\n+++\nFirst line.\ncaf\xe9 au lait\n",
    );
    write(
        root,
        "articles/pt-BR/french.md",
        "+++\nid = \"french\"\ntitle = \"Réinitialiser le mot de passe\"\nlanguage = \"fr\"\n+++\nCorps.\n".as_bytes(),
    );
    // Sorts after es/password.md, which defines kb-password.es first.
    write(
        root,
        "articles/es/zz-duplicate.md",
        "+++\nid = \"kb-password.es\"\ntitle = \"Título duplicado\"\nlanguage = \"es\"\n+++\nCuerpo.\n".as_bytes(),
    );
    write(
        root,
        "activities/broken.toml",
        b"id = \"broken-activity\"\n\n[name]\nen = \"Broken\nes = \"Roto\"\n",
    );
    vec![
        ("activities/broken.toml", Some(4), ""),
        ("articles/en/latin1.md", Some(7), "not valid UTF-8"),
        ("articles/en/malformed.md", Some(3), ""),
        (
            "articles/en/no-front-matter.md",
            Some(1),
            "missing front matter",
        ),
        ("articles/en/no-title.md", Some(3), "missing title"),
        ("articles/en/unclosed.md", Some(1), "not closed"),
        (
            "articles/es/zz-duplicate.md",
            None,
            "duplicate id \"kb-password.es\"",
        ),
        (
            "articles/pt-BR/french.md",
            Some(4),
            "unknown language \"fr\"",
        ),
    ]
}

#[test]
fn broken_files_are_reported_with_file_line_and_reason_and_skipped() {
    let sources_dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("kb"), sources_dir.path());
    let expected = add_broken_files(sources_dir.path());
    let data_dir = tempfile::tempdir().unwrap();
    let root = index_dir(data_dir.path());
    let report = rebuild(&root, &Sources::new(sources_dir.path()), &mut |_| {}).unwrap();

    let mut skipped: Vec<_> = report
        .skipped
        .iter()
        .map(|error| {
            let relative = error.file.strip_prefix(sources_dir.path()).unwrap();
            (
                relative.to_string_lossy().into_owned(),
                error.line,
                error.reason.clone(),
            )
        })
        .collect();
    skipped.sort();
    assert_eq!(skipped.len(), expected.len(), "{skipped:#?}");
    for ((file, line, reason), (expected_file, expected_line, expected_reason)) in
        skipped.iter().zip(&expected)
    {
        assert_eq!(file, expected_file);
        assert_eq!(line, expected_line, "{file}: {reason}");
        assert!(!reason.trim().is_empty(), "{file}");
        assert!(reason.contains(expected_reason), "{file}: {reason}");
    }
    let duplicate = &skipped[6].2;
    assert!(
        duplicate.contains("password.md"),
        "names the first file: {duplicate}"
    );

    // Everything else is indexed and served.
    assert_eq!((report.articles, report.activities), (12, 1));
    let kb = KnowledgeBase::open(&root, None).unwrap();
    assert_eq!(
        ids(
            &kb,
            "Restablecer la contraseña olvidada",
            Some(Language::Es)
        )[0],
        "kb-password.es"
    );
    // The duplicate did not replace the first definition.
    match kb.get(DocKind::Article, "kb-password.es").unwrap() {
        Some(Document::Article(article)) => {
            assert_eq!(article.title, "Restablecer la contraseña olvidada")
        }
        other => panic!("{other:?}"),
    }
    for broken_title in [
        "Never closed",
        "Latin one",
        "Réinitialiser le mot de passe",
        "Título duplicado",
    ] {
        assert!(
            kb.search(&request(broken_title, None, &[]))
                .unwrap()
                .iter()
                .all(|hit| hit.title != broken_title),
            "{broken_title} was indexed"
        );
    }
}

#[test]
fn ponte_reindex_prints_each_skipped_file_and_exits_non_zero() {
    let sources_dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture("kb"), sources_dir.path());
    let expected = add_broken_files(sources_dir.path());
    let data_dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = run(ponte(cwd.path())
        .arg("--knowledge-dir")
        .arg(sources_dir.path())
        .arg("--data-dir")
        .arg(data_dir.path())
        .arg("reindex"));
    assert_eq!(output.status.code(), Some(3), "{stdout}{stderr}");
    assert!(
        stdout.contains("indexed 12 articles and 1 activities from 21 files"),
        "{stdout}"
    );
    for (file, line, reason) in &expected {
        let path = sources_dir.path().join(file);
        let prefix = match line {
            Some(line) => format!("skipped {}:{line}: ", path.display()),
            None => format!("skipped {}: ", path.display()),
        };
        let printed = stdout
            .lines()
            .find(|printed| printed.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no line {prefix:?} in:\n{stdout}"));
        assert!(printed.contains(reason), "{printed}");
    }
    assert!(stdout.contains("8 file(s) skipped"), "{stdout}");
    // The index was still built and swapped in.
    let kb = KnowledgeBase::open(&index_dir(data_dir.path()), None).unwrap();
    assert_eq!(
        ids(&kb, "Shared mailbox permissions", Some(Language::En))[0],
        "kb-mailbox.en"
    );

    // With nothing broken, the same command succeeds.
    let clean = tempfile::tempdir().unwrap();
    copy_dir(&fixture("kb"), clean.path());
    let (output, stdout, stderr) = run(ponte(cwd.path())
        .arg("--knowledge-dir")
        .arg(clean.path())
        .arg("--data-dir")
        .arg(data_dir.path())
        .arg("reindex"));
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(!stdout.contains("skipped"), "{stdout}");
}

/// Searches whose results must not change when a rebuild fails.
fn snapshot(kb: &KnowledgeBase) -> Vec<Vec<String>> {
    [
        ("printer", Some(Language::En)),
        ("contraseña", Some(Language::Es)),
        ("configuração", None),
    ]
    .iter()
    .map(|(text, language)| ids(kb, text, *language))
    .collect()
}

#[test]
fn a_failed_rebuild_leaves_the_old_index_serving() {
    let fixture = TestKb::fixture();
    let root = fixture.index_dir();
    let before = snapshot(&fixture.kb);
    assert!(before.iter().all(|found| !found.is_empty()));
    let serving = current(&root);
    let kept = generations(&root);

    // Every file broken: an empty corpus.
    let broken = tempfile::tempdir().unwrap();
    add_broken_files(broken.path());
    std::fs::remove_file(broken.path().join("articles/es/zz-duplicate.md")).unwrap();
    // Nothing at all to read.
    let empty = tempfile::tempdir().unwrap();
    let missing = broken.path().join("does-not-exist");

    let outcomes = [
        rebuild(&root, &Sources::new(broken.path()), &mut |_| {}),
        rebuild(&root, &Sources::new(empty.path()), &mut |_| {}),
        rebuild(&root, &Sources::new(&missing), &mut |_| {}),
    ];
    match &outcomes[0] {
        Err(KnowledgeError::EmptyCorpus { skipped: 7 }) => {}
        other => panic!("all broken: {other:?}"),
    }
    match &outcomes[1] {
        Err(KnowledgeError::EmptyCorpus { skipped: 0 }) => {}
        other => panic!("empty: {other:?}"),
    }
    match &outcomes[2] {
        Err(KnowledgeError::Io { path, .. }) if *path == missing => {}
        other => panic!("missing: {other:?}"),
    }
    // Nothing was swapped in, nothing half-built was left behind.
    assert_eq!(current(&root), serving);
    assert_eq!(generations(&root), kept);
    assert!(!fixture.kb.refresh().unwrap());
    assert_eq!(snapshot(&fixture.kb), before);
    let reopened = KnowledgeBase::open(&root, None).unwrap();
    assert_eq!(snapshot(&reopened), before);

    // The same through the binary: a clear error and a non-zero exit.
    let cwd = tempfile::tempdir().unwrap();
    for knowledge_dir in [broken.path(), missing.as_path()] {
        let (output, stdout, stderr) = run(ponte(cwd.path())
            .arg("--knowledge-dir")
            .arg(knowledge_dir)
            .arg("--data-dir")
            .arg(fixture.data_dir.path())
            .arg("reindex"));
        assert!(!output.status.success(), "{stdout}{stderr}");
        assert!(stderr.contains("previous index"), "{stderr}");
        assert_eq!(current(&root), serving);
    }
    assert_eq!(snapshot(&KnowledgeBase::open(&root, None).unwrap()), before);
}

#[test]
fn a_running_base_picks_up_a_generation_built_by_another_process() {
    let fixture = TestKb::fixture();
    let kb = &fixture.kb;
    let first = kb.generation().name.clone();
    let title = "Renew the Wi-Fi certificate on a laptop";
    std::fs::write(
        fixture.sources_dir.path().join("articles/en/wifi-certificate.md"),
        format!("+++\nid = \"kb-wifi-cert.en\"\ntitle = \"{title}\"\nlanguage = \"en\"\n+++\nOpen the certificate manager and renew it.\n"),
    )
    .unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let (output, stdout, stderr) = run(ponte(cwd.path())
        .arg("--knowledge-dir")
        .arg(fixture.sources_dir.path())
        .arg("--data-dir")
        .arg(fixture.data_dir.path())
        .arg("reindex"));
    assert!(output.status.success(), "{stdout}{stderr}");
    // Until it refreshes, the base serves the generation it opened.
    assert_eq!(kb.generation().name, first);
    assert!(!ids(kb, title, Some(Language::En)).contains(&"kb-wifi-cert.en".to_string()));
    assert!(kb.refresh().unwrap());
    assert_ne!(kb.generation().name, first);
    assert_eq!(ids(kb, title, Some(Language::En))[0], "kb-wifi-cert.en");
    assert!(!kb.refresh().unwrap(), "nothing new the second time");
}
