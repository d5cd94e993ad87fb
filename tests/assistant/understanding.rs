//! `eval understanding` on `fixtures/understanding/requests.jsonl`: the first answer of the
//! real matcher decision on 30 requests per language written for the bundled catalogue,
//! printed per language and held to a floor per language.

use super::*;
use ponte::eval::understanding::{evaluate, read_cases};
use ponte::lang::Language;

/// The fewest right first answers (of 30) accepted in each language. Every miss above this
/// floor is one a requester would notice, so a change that loses a case fails here.
const FLOOR: [(Language, u32); 3] = [(Language::PtBr, 29), (Language::Es, 30), (Language::En, 27)];

#[test]
fn first_answers_on_the_understanding_fixture_reach_the_floor_in_each_language() {
    let cases = read_cases(&repo().join("fixtures/understanding/requests.jsonl")).unwrap();
    for language in Language::ALL {
        let count = cases
            .iter()
            .filter(|case| case.language == language)
            .count();
        assert_eq!(count, 30, "{language:?}");
    }
    let report = evaluate(&shared().matcher, &cases).unwrap();
    println!("{}", report.render());
    for (language, right) in FLOOR {
        let floor = f64::from(right) / 30.0;
        let accuracy = report.accuracy_in(language);
        assert!(
            accuracy >= floor,
            "{}: first-answer accuracy {accuracy:.4} below {floor}\n{}",
            language.tag(),
            report.render()
        );
    }
}
