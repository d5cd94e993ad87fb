//! `ponte eval retrieval` on `fixtures/eval/`, whose figures are worked out by hand.
//!
//! Articles: pw-reset "Reset your password", pw-reset-phone "Reset your password from your
//! phone", vpn-connect, impressora-rede (pt-BR), correo-movil (es).
//!
//! | # | query                              | lang  | kind         | expected (acceptable)  | rank |
//! |---|------------------------------------|-------|--------------|------------------------|------|
//! | 1 | Connect to the VPN                 | en    | title        | vpn-connect            | 1    |
//! | 2 | impressora de rede                 | pt-BR | partial      | impressora-rede        | 1    |
//! | 3 | Configurar el coreo en el móvil    | es    | typo         | correo-movil           | 1    |
//! | 4 | Reset your password                | en    | title        | pw-reset-phone (pw-reset) | 1 |
//! | 5 | Reset your password                | en    | title        | pw-reset-phone         | 2    |
//! | 6 | quantum entanglement               | en    | unanswerable | vpn-connect            | miss |
//!
//! Query 5: both password articles match every word, but "Reset your password" *is* the
//! title of pw-reset (shorter field, whole-title similarity 1), so pw-reset-phone comes
//! second. Query 4 is the same search, where pw-reset is acceptable: a hit at rank 1.
//!
//! Overall (6 queries): hit@1 = 4/6 = 0.6667; hit@5 = 5/6 = 0.8333;
//! MRR@10 = (1 + 1 + 1 + 1 + 1/2 + 0) / 6 = 4.5/6 = 0.75.
//! Per language: en (1, 4, 5, 6): hit@1 2/4 = 0.5, hit@5 3/4 = 0.75,
//! MRR (1 + 1 + 0.5 + 0)/4 = 0.625; pt-BR and es: one query each, all 1.
//! Per kind: title (1, 4, 5): 2/3 = 0.6667, 3/3 = 1, (1 + 1 + 0.5)/3 = 0.8333;
//! partial, typo: 1, 1, 1; unanswerable: 0, 0, 0.

use crate::common::{fixture, ponte, run};
use std::path::Path;

fn eval(articles: &Path, queries: &Path, extra: &[&str]) -> (std::process::Output, String, String) {
    let cwd = tempfile::tempdir().unwrap();
    let mut command = ponte(cwd.path());
    command
        .args(["eval", "retrieval", "--articles"])
        .arg(articles)
        .arg("--queries")
        .arg(queries)
        .args(extra);
    run(&mut command)
}

/// The figures of a table row such as `lang en   4  0.5000  0.7500  0.6250`.
fn row(stdout: &str, name: &str) -> (usize, f64, f64, f64) {
    let line = stdout
        .lines()
        .find(|line| line.starts_with(name) && line[name.len()..].starts_with(char::is_whitespace))
        .unwrap_or_else(|| panic!("no row {name:?} in:\n{stdout}"));
    let numbers: Vec<&str> = line[name.len()..].split_whitespace().collect();
    assert_eq!(numbers.len(), 4, "{line}");
    (
        numbers[0].parse().unwrap(),
        numbers[1].parse().unwrap(),
        numbers[2].parse().unwrap(),
        numbers[3].parse().unwrap(),
    )
}

#[test]
fn json_last_line_has_the_figures_worked_out_by_hand() {
    let (output, stdout, stderr) = eval(
        &fixture("eval/articles.jsonl"),
        &fixture("eval/queries.jsonl"),
        &["--json"],
    );
    assert!(output.status.success(), "{stderr}");
    let last = stdout.lines().last().unwrap();
    let json: serde_json::Value = serde_json::from_str(last).unwrap();
    let mut keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "hit_at_1",
            "hit_at_5",
            "mrr_at_10",
            "p50_us",
            "p99_us",
            "queries"
        ],
        "{last}"
    );
    assert_eq!(json["queries"], 6);
    assert_eq!(json["hit_at_1"].as_f64(), Some(0.6667), "{last}");
    assert_eq!(json["hit_at_5"].as_f64(), Some(0.8333), "{last}");
    assert_eq!(json["mrr_at_10"].as_f64(), Some(0.75), "{last}");
    let p50 = json["p50_us"].as_u64().unwrap();
    let p99 = json["p99_us"].as_u64().unwrap();
    assert!(p50 <= p99, "{last}");
}

#[test]
fn text_output_breaks_the_figures_down_by_language_and_kind() {
    let (output, stdout, stderr) = eval(
        &fixture("eval/articles.jsonl"),
        &fixture("eval/queries.jsonl"),
        &["--misses"],
    );
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("articles indexed: 5"), "{stdout}");
    assert_eq!(row(&stdout, "overall"), (6, 0.6667, 0.8333, 0.75));
    assert_eq!(row(&stdout, "lang en"), (4, 0.5, 0.75, 0.625));
    assert_eq!(row(&stdout, "lang pt-BR"), (1, 1.0, 1.0, 1.0));
    assert_eq!(row(&stdout, "lang es"), (1, 1.0, 1.0, 1.0));
    assert_eq!(row(&stdout, "kind title"), (3, 0.6667, 1.0, 0.8333));
    assert_eq!(row(&stdout, "kind partial"), (1, 1.0, 1.0, 1.0));
    assert_eq!(row(&stdout, "kind typo"), (1, 1.0, 1.0, 1.0));
    assert_eq!(row(&stdout, "kind unanswerable"), (1, 0.0, 0.0, 0.0));
    assert!(stdout.contains("p50") && stdout.contains("p99"), "{stdout}");
    // Without --json no JSON line; --misses names the two queries not ranked first.
    assert!(
        !stdout.lines().any(|line| line.starts_with('{')),
        "{stdout}"
    );
    let misses: Vec<&str> = stdout
        .lines()
        .filter(|line| line.starts_with("miss"))
        .collect();
    assert_eq!(misses.len(), 2, "{stdout}");
    assert!(misses[0].contains("expected pw-reset-phone"), "{misses:?}");
    assert!(misses[0].contains("pw-reset"), "{misses:?}");
    assert!(misses[1].contains("quantum entanglement"), "{misses:?}");
}

#[test]
fn bad_rows_are_named_by_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    // An article row in an unknown language is skipped and reported; the rest is evaluated.
    let articles = dir.path().join("articles.jsonl");
    let mut text = std::fs::read_to_string(fixture("eval/articles.jsonl")).unwrap();
    text.push_str("{\"id\": \"fr\", \"title\": \"Réinitialiser\", \"language\": \"fr\"}\n");
    std::fs::write(&articles, text).unwrap();
    let (output, stdout, stderr) = eval(&articles, &fixture("eval/queries.jsonl"), &["--json"]);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("articles indexed: 5"), "{stdout}");
    let skipped = format!("skipped {}:6: unknown language", articles.display());
    assert!(stdout.contains(&skipped), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap()
            .contains("\"mrr_at_10\":0.75"),
        "{stdout}"
    );

    // A malformed query row stops the run with its line.
    let queries = dir.path().join("queries.jsonl");
    std::fs::write(
        &queries,
        "{\"query\": \"vpn\", \"expected_id\": \"vpn-connect\"}\n{\"query\": \"no id\"}\n",
    )
    .unwrap();
    let (output, _, stderr) = eval(&fixture("eval/articles.jsonl"), &queries, &["--json"]);
    assert!(!output.status.success());
    assert!(
        stderr.contains(&format!("{}:2:", queries.display())),
        "{stderr}"
    );
}
