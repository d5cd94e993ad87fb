//! Unit tests of the intent evaluation: reading labelled rows, the threshold sweep and
//! pick, the operating curve, percentiles and the report of a small trained classifier.

use super::*;

fn row(intent: &str, text: &str) -> LabeledRow {
    LabeledRow {
        text: text.to_string(),
        intent: intent.to_string(),
    }
}

fn outcome_of(confidence: f32, kind: &str) -> Outcome {
    Outcome {
        confidence,
        oos: kind == "oos",
        correct: kind == "right",
        forced_fallback: false,
    }
}

/// Four in-scope rows (three right) and three oos rows; figures worked out by hand:
///
/// | threshold | falls back      | in-scope acc | oos recall | sum   |
/// |-----------|-----------------|--------------|------------|-------|
/// | 0         | -               | 3/4          | 0          | 0.75  |
/// | 0.25      | G               | 3/4          | 1/3        | 1.083 |
/// | 0.35      | G F             | 3/4          | 2/3        | 1.417 |
/// | 0.45      | G F E           | 2/4          | 2/3        | 1.167 |
/// | 0.55      | G F E D         | 2/4          | 3/3        | 1.5   |
/// | 0.7       | ... C (wrong)   | 2/4          | 3/3        | 1.5   |
/// | 0.85      | ... B           | 1/4          | 3/3        | 1.25  |
/// | 0.95      | everything      | 0            | 3/3        | 1.0   |
fn hand_made() -> Vec<Outcome> {
    vec![
        outcome_of(0.9, "right"), // A
        outcome_of(0.8, "right"), // B
        outcome_of(0.6, "wrong"), // C
        outcome_of(0.5, "oos"),   // D
        outcome_of(0.4, "right"), // E
        outcome_of(0.3, "oos"),   // F
        outcome_of(0.2, "oos"),   // G
    ]
}

#[test]
fn picks_the_lowest_threshold_with_the_best_sum() {
    let threshold = pick_threshold(&hand_made());
    // 1.5 is reached at 0.55 and again at 0.7; the lower one wins.
    assert!((threshold - 0.55).abs() < 1e-6, "{threshold}");
    let tally = tally_at(&hand_made(), threshold);
    assert_eq!(tally.in_scope_right, 2);
    assert_eq!(tally.oos_fallen, 3);
    // G, F, E and D fell back, three of them oos: hand-off precision 3/4.
    assert_eq!(tally.fallen, 4);
    assert_eq!(ratio(tally.oos_fallen, tally.fallen), Some(0.75));
}

#[test]
fn operating_curve_takes_the_first_threshold_reaching_each_recall() {
    let curve = operating_curve(&hand_made());
    // recall 1/3 >= 0.3 at 0.25; 2/3 >= 0.5 at 0.35; 0.7 needs 3/3, at 0.55.
    assert_eq!(curve["0.3"], Some(0.75));
    assert_eq!(curve["0.5"], Some(0.75));
    assert_eq!(curve["0.7"], Some(0.5));
}

#[test]
fn without_oos_rows_the_threshold_keeps_every_right_answer() {
    let outcomes = vec![
        outcome_of(0.9, "right"),
        outcome_of(0.2, "wrong"),
        outcome_of(0.1, "right"),
    ];
    assert_eq!(pick_threshold(&outcomes), 0.0);
    let curve = operating_curve(&outcomes);
    assert!(curve.values().all(Option::is_none));
}

#[test]
fn a_predicted_oos_class_falls_back_at_any_threshold() {
    let mut forced = outcome_of(0.99, "oos");
    forced.forced_fallback = true;
    let outcomes = vec![forced, outcome_of(0.9, "right"), outcome_of(0.2, "oos")];
    let tally = tally_at(&outcomes, 0.0);
    assert_eq!((tally.oos_fallen, tally.fallen), (1, 1));
    // Recall 1/2 already at threshold 0; 0.7 needs the 0.2 row too.
    let curve = operating_curve(&outcomes);
    assert_eq!(curve["0.5"], Some(1.0));
    assert_eq!(curve["0.7"], Some(1.0));
    assert!((pick_threshold(&outcomes) - 0.55).abs() < 1e-6);
}

#[test]
fn percentiles_use_the_nearest_rank() {
    let nanos: Vec<u128> = (1..=100).map(|i| i * 1000).collect();
    assert_eq!(percentile_us(&nanos, 50), 50);
    assert_eq!(percentile_us(&nanos, 99), 99);
    assert_eq!(percentile_us(&[1500], 99), 2);
    assert_eq!(percentile_us(&[], 99), 0);
}

fn report() -> IntentReport {
    IntentReport {
        in_scope_accuracy: Some(0.5),
        oos_recall: None,
        threshold: 0.25,
        handoff_precision: Some(0.75),
        raw_accuracy: Some(1.0),
        in_scope_at_oos_recall: CURVE_POINTS
            .iter()
            .map(|&(key, _)| (key.to_string(), None))
            .collect(),
        p50_us: 3,
        p99_us: 12,
        val_in_scope_accuracy: Some(0.5),
        val_oos_recall: None,
        val_raw_accuracy: Some(0.75),
        val_in_scope_at_oos_recall: CURVE_POINTS
            .iter()
            .map(|&(key, _)| (key.to_string(), Some(0.625)))
            .collect(),
        train_ms: 1,
        temperature: 1.0,
        feature_count: 10,
        oos_train: false,
        counts: ReportCounts::default(),
    }
}

#[test]
fn json_line_is_the_design_object() {
    assert_eq!(
        report().to_json_line(),
        r#"{"in_scope_accuracy":0.5,"oos_recall":null,"threshold":0.25,"handoff_precision":0.75,"raw_accuracy":1.0,"in_scope_at_oos_recall":{"0.3":null,"0.5":null,"0.7":null},"p99_us":12}"#
    );
    let text = report().render_text();
    assert!(text.contains("oos recall           n/a"), "{text}");
    assert!(text.contains("p99 12 us"), "{text}");
    // Validation and test figures are told apart.
    let (validation, test) = text.split_once("test (report only)").unwrap();
    assert!(validation.contains("raw accuracy         0.7500"), "{text}");
    assert!(
        validation.contains("in-scope at oos recall 0.5: 0.6250"),
        "{text}"
    );
    assert!(test.contains("raw accuracy         1.0000"), "{text}");
    assert!(test.contains("in-scope at oos recall 0.5: n/a"), "{text}");
}

#[test]
fn read_jsonl_ignores_extra_fields_and_names_bad_lines() {
    let directory = std::env::temp_dir().join(format!("ponte-intent-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let good = directory.join("good.jsonl");
    std::fs::write(
        &good,
        "{\"text\": \"oi\", \"intent\": \"greeting\", \"orig_intent\": \"x\"}\n\n{\"text\": \"?\", \"intent\": \"oos\"}\n",
    )
    .unwrap();
    let rows = read_jsonl(&good).unwrap();
    assert_eq!(rows, vec![row("greeting", "oi"), row("oos", "?")]);

    let bad = directory.join("bad.jsonl");
    std::fs::write(
        &bad,
        "{\"text\": \"oi\", \"intent\": \"greeting\"}\n{\"text\": \"no intent\"}\n",
    )
    .unwrap();
    let message = read_jsonl(&bad).unwrap_err().to_string();
    assert!(message.contains("bad.jsonl:2:"), "{message}");
    assert!(message.contains("intent"), "{message}");

    let missing = read_jsonl(&directory.join("missing.jsonl")).unwrap_err();
    assert!(matches!(missing, IntentError::Io { .. }));
    std::fs::remove_dir_all(&directory).unwrap();
}

fn tiny_train() -> Vec<LabeledRow> {
    vec![
        row("password", "i forgot my password"),
        row("password", "reset my password"),
        row("password", "esqueci minha senha"),
        row("printer", "the printer is jammed"),
        row("printer", "printer out of paper"),
        row("printer", "a impressora travou"),
        row("oos", "what is the weather like"),
    ]
}

#[test]
fn evaluates_end_to_end_on_tiny_files() {
    let val = vec![
        row("password", "forgot password"),
        row("printer", "printer jammed"),
        row("oos", "tell me a joke about cats"),
    ];
    let test = vec![
        row("password", "password reset please"),
        row("printer", "impressora sem papel"),
        row("oos", "who won the football match"),
        row("oos", "recommend a pizza place"),
    ];
    let mut messages = Vec::new();
    let report = evaluate(&tiny_train(), &val, &test, false, &mut |m| {
        messages.push(m.to_string())
    })
    .unwrap();
    assert!(!messages.is_empty());
    assert_eq!(report.counts.train_examples, 6);
    assert_eq!(report.counts.labels, 2);
    assert_eq!(
        (report.counts.test_in_scope, report.counts.test_oos),
        (2, 2)
    );
    assert_eq!(report.raw_accuracy, Some(1.0));
    assert!(report.oos_recall.is_some());
    assert!(report.in_scope_at_oos_recall.values().all(Option::is_some));

    let with_oos_class = evaluate(&tiny_train(), &val, &test, true, &mut |_| {}).unwrap();
    assert_eq!(with_oos_class.counts.labels, 3);

    let in_scope_only: Vec<LabeledRow> =
        test.iter().filter(|r| r.intent != "oos").cloned().collect();
    let no_oos = evaluate(
        &tiny_train(),
        &in_scope_only,
        &in_scope_only,
        false,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(no_oos.oos_recall, None);
    assert_eq!(no_oos.threshold, 0.0);
    assert_eq!(no_oos.handoff_precision, None);
    assert!(no_oos.to_json_line().contains("\"oos_recall\":null"));
}

#[test]
fn only_oos_training_rows_is_an_error() {
    let train = vec![row("oos", "anything")];
    let result = evaluate(&train, &[], &[], false, &mut |_| {});
    assert!(matches!(result, Err(IntentError::NoTrainingData)));
}
