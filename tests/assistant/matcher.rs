//! The matcher on the bundled intents and catalogue: what each kind of text becomes.

use super::*;
use ponte::assistant::MatchInput;
use ponte::conversation::{Candidate, ControlIntent, Expecting, Understanding};
use ponte::lang::Language;

fn decide(
    text: &str,
    language: Language,
    groups: &[String],
    expecting: Expecting,
) -> Understanding {
    shared()
        .matcher
        .decide(&MatchInput {
            text,
            language,
            groups,
            expecting,
        })
        .unwrap()
        .understanding
}

fn free(text: &str, language: Language) -> Understanding {
    decide(text, language, &[], Expecting::FreeText)
}

#[test]
fn control_intents_are_recognised_in_the_three_languages() {
    let cases = [
        (
            "quero abrir um chamado",
            Language::PtBr,
            ControlIntent::CreateTicket,
        ),
        (
            "quiero abrir un ticket nuevo",
            Language::Es,
            ControlIntent::CreateTicket,
        ),
        (
            "i want to open a ticket",
            Language::En,
            ControlIntent::CreateTicket,
        ),
        (
            "quero falar com um atendente",
            Language::PtBr,
            ControlIntent::TalkToAttendant,
        ),
        (
            "quiero hablar con una persona",
            Language::Es,
            ControlIntent::TalkToAttendant,
        ),
        (
            "let me talk to a human",
            Language::En,
            ControlIntent::TalkToAttendant,
        ),
        ("obrigado", Language::PtBr, ControlIntent::Thanks),
        ("muchas gracias", Language::Es, ControlIntent::Thanks),
        ("cancel", Language::En, ControlIntent::Cancel),
    ];
    for (text, language, expected) in cases {
        match free(text, language) {
            Understanding::Control { intent, confidence } => {
                assert_eq!(intent, expected, "{text:?}");
                assert!(confidence >= 0.6, "{text:?}: {confidence}");
            }
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn yes_and_no_while_confirming() {
    for (text, expected) in [
        ("sim", ControlIntent::Yes),
        ("pode ser", ControlIntent::Yes),
        ("sí, claro", ControlIntent::Yes),
        ("yes please", ControlIntent::Yes),
        ("não", ControlIntent::No),
        ("no gracias", ControlIntent::No),
        ("nope", ControlIntent::No),
    ] {
        match decide(text, Language::PtBr, &[], Expecting::Confirmation) {
            Understanding::Control { intent, .. } => assert_eq!(intent, expected, "{text:?}"),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn problem_descriptions_find_their_activity() {
    for (text, language, expected) in [
        ("esqueci minha senha", Language::PtBr, "password-reset"),
        (
            "minha impressora não imprime",
            Language::PtBr,
            "printer-problem",
        ),
        ("olvidé mi contraseña", Language::Es, "password-reset"),
        ("my laptop battery is dead", Language::En, "laptop-repair"),
    ] {
        match free(text, language) {
            Understanding::Activities { hits } => assert_eq!(hits[0].id, expected, "{text:?}"),
            Understanding::Ambiguous { candidates } => assert!(
                candidates.iter().any(
                    |c| matches!(c, Candidate::Activity { activity } if activity.id == expected)
                ),
                "{text:?}: {candidates:?}"
            ),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn a_typed_title_finds_its_article() {
    for (text, language, expected) in [
        (
            "Conectar-se à VPN corporativa",
            Language::PtBr,
            "vpn-connect.pt-BR",
        ),
        (
            "conectarse a la vpn corporativa",
            Language::Es,
            "vpn-connect.es",
        ),
        (
            "Connect to the corprate VPN",
            Language::En,
            "vpn-connect.en",
        ),
    ] {
        match free(text, language) {
            Understanding::Articles { hits } => assert_eq!(hits[0].id, expected, "{text:?}"),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn out_of_scope_text_falls_back() {
    for (text, language) in [
        ("qual vai ser o placar do jogo de domingo", Language::PtBr),
        ("quiero reservar una mesa para dos esta noche", Language::Es),
        ("what's the weather like in lisbon tomorrow", Language::En),
    ] {
        assert_eq!(free(text, language), Understanding::Fallback, "{text:?}");
    }
}

#[test]
fn mixed_languages_still_find_the_activity() {
    match free("hello, esqueci minha senha", Language::En) {
        Understanding::Activities { hits } => assert_eq!(hits[0].id, "password-reset"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn restricted_activities_and_articles_reach_only_their_groups() {
    let outsider: Vec<String> = vec!["finance".into()];
    let staff: Vec<String> = vec!["it-staff".into()];
    let text = "preciso de acesso à sala de servidores";
    let mentions_restricted = |understanding: &Understanding| {
        let json = serde_json::to_string(understanding).unwrap();
        json.contains("server-access") || json.contains("server-room-access")
    };
    for groups in [&[][..], &outsider[..]] {
        let decision = shared()
            .matcher
            .decide(&MatchInput {
                text,
                language: Language::PtBr,
                groups,
                expecting: Expecting::FreeText,
            })
            .unwrap();
        assert!(
            !mentions_restricted(&decision.understanding),
            "{decision:?}"
        );
        // Not even the signals shown by `ponte ask` name it.
        let signals = serde_json::to_string(&decision.signals).unwrap();
        assert!(!signals.contains("server-access"), "{signals}");
    }
    let understanding = decide(text, Language::PtBr, &staff, Expecting::FreeText);
    assert!(mentions_restricted(&understanding), "{understanding:?}");
}

#[test]
fn ambiguity_asks_at_most_three_and_is_not_a_guess() {
    // Whatever the catalogue makes ambiguous, a question never offers more than three.
    for text in ["acesso", "vpn", "impressora", "email", "senha"] {
        if let Understanding::Ambiguous { candidates } = free(text, Language::PtBr) {
            assert!(
                (2..=3).contains(&candidates.len()),
                "{text:?}: {candidates:?}"
            );
        }
    }
    // And a clear text is never turned into a question.
    assert!(!matches!(
        free("esqueci minha senha", Language::PtBr),
        Understanding::Ambiguous { .. }
    ));
}

/// The first thing the requester is shown: the first activity, the first article listed or
/// the first option of a question.
fn first_shown(understanding: &Understanding) -> Option<String> {
    match understanding {
        Understanding::Activities { hits } => hits.first().map(|hit| hit.id.clone()),
        Understanding::Articles { hits } => hits.first().map(|hit| hit.id.clone()),
        Understanding::Ambiguous { candidates } => candidates.first().map(|c| match c {
            Candidate::Activity { activity } => activity.id.clone(),
            Candidate::Article { article } => article.id.clone(),
            Candidate::Intent { intent } => format!("{intent:?}"),
        }),
        Understanding::Control { intent, .. } => Some(format!("{intent:?}")),
        Understanding::Fallback => None,
    }
}

#[test]
fn how_do_i_questions_show_the_how_to_article_first() {
    for (text, language, article) in [
        (
            "cómo configuro la vpn en mi portátil",
            Language::Es,
            "vpn-connect.es",
        ),
        (
            "how do I add a printer",
            Language::En,
            "add-network-printer.en",
        ),
        (
            "como faço pra conectar na vpn de casa?",
            Language::PtBr,
            "vpn-connect.pt-BR",
        ),
    ] {
        let understanding = free(text, language);
        assert_eq!(
            first_shown(&understanding).as_deref(),
            Some(article),
            "{text:?}: {understanding:?}"
        );
        // An activity that is also likely stays on offer, after the article.
        if let Understanding::Ambiguous { candidates } = &understanding {
            assert!(
                candidates[1..]
                    .iter()
                    .all(|c| matches!(c, Candidate::Activity { .. })),
                "{text:?}: {candidates:?}"
            );
        }
    }
    // A problem report still opens the ticket's activity.
    match free("a vpn não conecta", Language::PtBr) {
        Understanding::Activities { hits } => assert_eq!(hits[0].id, "vpn-problem"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn sub_words_alone_do_not_make_out_of_scope_text_an_activity() {
    for (text, language) in [
        ("print me a joke", Language::En),
        ("imprímeme un chiste", Language::Es),
        ("imprime uma piada pra mim", Language::PtBr),
    ] {
        assert_eq!(free(text, language), Understanding::Fallback, "{text:?}");
    }
}

#[test]
fn short_forms_of_the_domain_are_understood() {
    for (text, language) in [
        ("forgot my pw", Language::En),
        ("need to reset my pwd", Language::En),
        ("esqueci a snh", Language::PtBr),
        ("olvidé mi pass", Language::Es),
    ] {
        let understanding = free(text, language);
        let first = first_shown(&understanding);
        assert!(
            matches!(
                first.as_deref(),
                Some("password-reset") | Some("account-unlock")
            ) || first.is_some_and(|id| id.starts_with("reset-forgotten-password")),
            "{text:?}: {understanding:?}"
        );
    }
}
