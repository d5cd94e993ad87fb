//! After the assistant could not help, the requester may say it again in other words: the
//! new text is understood like any question, and a ticket opened from the fallback is about
//! the latest text the assistant could not answer, never an earlier one.

use super::flows::{assistant, assistant_automatic};
use super::*;

/// Something the assistant cannot place, in other words than [`Script::unknown`].
const REPHRASED: &str = "the badge reader at the main door rejects my badge";

#[test]
fn text_in_the_fallback_is_understood_as_a_new_question() {
    for script in SCRIPTS {
        let mut chat = Chat::open(assistant(), script.language);
        chat.text(script.unknown, Understanding::Fallback);
        assert!(matches!(chat.conv.state(), State::FallbackOffered { .. }));
        // Understood this time: the articles found are offered.
        let effects = chat.text(
            script.password_query,
            articles(vec![script.password_article()]),
        );
        assert_eq!(says(&effects), [TextKey::ArticlesFound]);
        assert!(matches!(chat.conv.state(), State::ChoosingArticle { .. }));
    }
}

#[test]
fn text_in_the_fallback_that_falls_back_again_offers_a_person_again() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.unknown, Understanding::Fallback);
    let effects = chat.text(REPHRASED, Understanding::Fallback);
    assert_eq!(
        says(&effects),
        [TextKey::FallbackWithAttendant],
        "not \"choose one of the options\""
    );
    assert_eq!(chat.offered_ids(), ["talk_to_attendant", "resume_ticket"]);
}

#[test]
fn a_ticket_from_the_fallback_is_about_the_rephrased_text() {
    for params in [assistant(), assistant_automatic()] {
        let mut chat = Chat::open(params.clone(), Language::En);
        chat.text(EN.unknown, Understanding::Fallback);
        chat.text(REPHRASED, Understanding::Fallback);
        let effects = if params.live_chat() {
            chat.choose("talk_to_attendant")
        } else {
            chat.choose("create_ticket");
            chat.choose("yes")
        };
        assert_eq!(
            created_ticket(&effects).expect("a ticket").description,
            REPHRASED
        );
    }
}

#[test]
fn a_ticket_from_the_fallback_is_about_the_text_written_after_the_articles() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.password_query, articles(vec![EN.password_article()]));
    chat.choose("article:kb-password");
    // The article did not help and the requester says what the matter really is.
    let effects = chat.text(REPHRASED, Understanding::Fallback);
    assert_eq!(says(&effects), [TextKey::FallbackWithAttendant]);
    let effects = chat.choose("talk_to_attendant");
    assert_eq!(
        created_ticket(&effects).expect("a ticket").description,
        REPHRASED
    );
}
