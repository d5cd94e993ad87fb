//! Equal inputs, equal answers: two data directories built from the same sources, each with
//! its own matcher, rank and decide every query the same way, ties included.

use super::repo;
use crate::common::TestKb;
use ponte::assistant::{MatchInput, Matcher, load_intents};
use ponte::conversation::Expecting;
use ponte::knowledge::SearchRequest;
use ponte::lang::Language;
use std::sync::Arc;

const QUERIES: &[(&str, Language)] = &[
    ("VPN", Language::PtBr),
    ("VPN", Language::En),
    ("vpn", Language::Es),
    ("senha", Language::PtBr),
    ("esqueci minha senha", Language::PtBr),
    ("impresora", Language::Es),
    ("printer", Language::En),
    ("impressora não imprime", Language::PtBr),
    ("e-mail", Language::PtBr),
    ("acesso", Language::PtBr),
    ("access", Language::En),
    ("acceso", Language::Es),
    ("software", Language::En),
    ("wifi", Language::PtBr),
    ("notebook", Language::PtBr),
    ("backup", Language::Es),
    ("my laptop is broken", Language::En),
    ("quiero hablar con alguien", Language::Es),
    ("new equipment", Language::En),
    ("pasta compartilhada", Language::PtBr),
];

#[test]
fn two_fresh_data_directories_rank_and_decide_alike() {
    let intents = load_intents(&repo().join("intents")).unwrap();
    let built: Vec<(TestKb, Matcher)> = (0..2)
        .map(|_| {
            let kb = TestKb::bundled();
            let knowledge = Arc::new(
                ponte::knowledge::KnowledgeBase::open(&kb.index_dir(), Some(kb.sources())).unwrap(),
            );
            let matcher = Matcher::build(&intents, knowledge, Default::default()).unwrap();
            (kb, matcher)
        })
        .collect();
    for (text, language) in QUERIES {
        let mut rankings = Vec::new();
        let mut decisions = Vec::new();
        for (kb, matcher) in &built {
            let mut request = SearchRequest::new(*text);
            request.language = Some(*language);
            request.limit = 10;
            let hits = kb.kb.search(&request).unwrap();
            rankings.push(
                hits.iter()
                    .map(|hit| format!("{} {:.6}", hit.id, hit.score))
                    .collect::<Vec<_>>(),
            );
            for expecting in [
                Expecting::FreeText,
                Expecting::ArticleTitle,
                Expecting::ActivityName,
            ] {
                let decision = matcher
                    .decide(&MatchInput {
                        text,
                        language: *language,
                        groups: &[],
                        expecting,
                    })
                    .unwrap();
                decisions.push(format!("{expecting:?}: {:?}", decision.understanding));
            }
        }
        assert_eq!(rankings[0], rankings[1], "{text:?} ranks differently");
        let half = decisions.len() / 2;
        assert_eq!(
            decisions[..half],
            decisions[half..],
            "{text:?} is decided differently"
        );
    }
}
