//! Each knowledge and assistant flow of the design (A.3 knowledge, B the assistant, manual
//! mode, courtesy and control in any state), step by step, with the effects asserted.

use super::flows::{assistant, assistant_automatic, smart_chat};
use super::*;

// ----- A.3 Knowledge -----

#[test]
fn knowledge_lists_opens_views_and_collapses() {
    let mut chat = Chat::open(smart_chat(), Language::En);
    let effects = chat.choose("search_knowledge");
    assert_eq!(says(&effects), [TextKey::AskArticleQuery]);
    assert_eq!(chat.conv.expecting(), Expecting::ArticleTitle);
    let effects = chat.text(
        EN.password_query,
        articles(vec![EN.password_article(), EN.vpn_article()]),
    );
    assert_eq!(says(&effects), [TextKey::ArticlesFound]);
    assert_eq!(
        chat.offered_ids(),
        ["article:kb-password", "article:kb-vpn", "none_of_these"]
    );

    let effects = chat.choose("article:kb-password");
    assert_eq!(
        effects[0],
        Effect::ShowArticle {
            article_id: "kb-password".into()
        }
    );
    let Effect::Say(reply) = &effects[1] else {
        panic!()
    };
    assert_eq!(
        texts::render(reply, Language::En),
        format!(
            "{}\n{}\n1. View the full article\n2. Close",
            EN.password_title, EN.password_summary
        )
    );

    let effects = chat.choose("view");
    assert_eq!(
        effects[0],
        Effect::OpenUrl {
            url: "https://portal.example/kb/password".into()
        }
    );
    assert_eq!(says(&effects), [TextKey::ArticleOpened]);
    assert_eq!(chat.offered_ids(), ["view", "close"]);

    let effects = chat.choose("close");
    assert_eq!(
        effects[0],
        Effect::CollapseArticle {
            article_id: "kb-password".into()
        }
    );
    assert_eq!(says(&effects), [TextKey::ArticlesFound]);
    assert_eq!(chat.offered_ids().len(), 3);
}

#[test]
fn knowledge_lists_at_most_five_distinct_articles() {
    let mut chat = Chat::open(assistant(), Language::En);
    let hits = (1..=7)
        .map(|n| ArticleHit {
            id: format!("kb-{}", n.min(6)),
            title: format!("Article {n}"),
            summary: String::new(),
            url: String::new(),
            score: 1.0,
        })
        .collect();
    chat.text("article", articles(hits));
    assert_eq!(chat.offered_ids().len(), MAX_LISTED + 1);
    chat.choose("article:kb-1");
    assert_eq!(
        chat.offered_ids(),
        ["close"],
        "no view without a portal url"
    );
}

#[test]
fn none_of_these_falls_back_with_the_query() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.password_query, articles(vec![EN.password_article()]));
    let effects = chat.choose("none_of_these");
    assert_eq!(says(&effects), [TextKey::FallbackWithAttendant]);
    let effects = chat.choose("talk_to_attendant");
    assert_eq!(
        created_ticket(&effects).unwrap().description,
        EN.password_query
    );
}

#[test]
fn nothing_found_in_smart_chat_searches_says_so_with_the_menu() {
    let mut chat = Chat::open(smart_chat(), Language::En);
    chat.choose("search_knowledge");
    let effects = chat.text("zzz", articles(vec![]));
    assert_eq!(says(&effects), [TextKey::NoArticleFound]);
    chat.choose("search_activity");
    let effects = chat.text("zzz", Understanding::Fallback);
    assert_eq!(says(&effects), [TextKey::NoActivityFound]);
    assert_eq!(chat.offered_ids().len(), 3);
}

// ----- B. The assistant -----

#[test]
fn assistant_answers_free_text_with_articles_and_activities() {
    let mut chat = Chat::open(assistant(), Language::En);
    assert_eq!(chat.conv.expecting(), Expecting::FreeText);
    let effects = chat.text("forgot my password", articles(vec![EN.password_article()]));
    assert_eq!(says(&effects), [TextKey::ArticlesFound]);
    // A new question while articles are listed starts over.
    let effects = chat.text("printer", activities(vec![EN.printer()]));
    assert_eq!(says(&effects), [TextKey::ActivityFound]);
}

#[test]
fn fallback_offers_a_person_and_resuming_at_once_then_opens_a_ticket_and_queues() {
    for script in SCRIPTS {
        let mut chat = Chat::open(assistant(), script.language);
        let effects = chat.text(script.unknown, Understanding::Fallback);
        assert_eq!(says(&effects), [TextKey::FallbackWithAttendant]);
        assert_eq!(chat.offered_ids(), ["talk_to_attendant", "resume_ticket"]);
        let effects = chat.choose("talk_to_attendant");
        let ticket = created_ticket(&effects).unwrap();
        assert_eq!(ticket.description, script.unknown);
        let effects = chat.send(Event::TicketCreated {
            number: "501".into(),
        });
        assert_eq!(says(&effects), [TextKey::TicketCreatedQueued]);
        assert_eq!(
            handoffs(&effects),
            [("service-desk".to_string(), Some("501".to_string()))]
        );
        assert_eq!(statuses(&effects), [ChatStatus::WaitingForAttendant]);
    }
}

#[test]
fn fallback_resume_lists_the_requesters_tickets() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.unknown, Understanding::Fallback);
    let effects = chat.choose("resume_ticket");
    assert!(effects.contains(&Effect::ListOpenTickets {
        preferred_activity: None
    }));
}

#[test]
fn fallback_in_mode_automatic_offers_a_ticket_without_live_chat() {
    let mut chat = Chat::open(assistant_automatic(), Language::En);
    let effects = chat.text(EN.unknown, Understanding::Fallback);
    assert_eq!(says(&effects), [TextKey::FallbackWithoutChat]);
    assert_eq!(chat.offered_ids(), ["create_ticket", "resume_ticket"]);
    let effects = chat.choose("create_ticket");
    assert_eq!(
        says(&effects),
        [TextKey::ConfirmTicket],
        "the text that fell back is the description"
    );
    let effects = chat.choose("yes");
    assert_eq!(created_ticket(&effects).unwrap().description, EN.unknown);
    let effects = chat.send(Event::TicketCreated { number: "9".into() });
    assert!(handoffs(&effects).is_empty());
}

#[test]
fn talk_to_attendant_typed_asks_what_it_is_about_first() {
    let mut chat = Chat::open(assistant(), Language::En);
    let effects = chat.text(EN.talk_to_person, control(ControlIntent::TalkToAttendant));
    assert_eq!(says(&effects), [TextKey::AskDescriptionForAttendant]);
    let effects = chat.text(EN.description, Understanding::Fallback);
    let ticket = created_ticket(&effects).expect("no confirmation on the way to a person");
    assert_eq!(ticket.description, EN.description);
    chat.send(Event::TicketCreated { number: "3".into() });
    assert!(matches!(chat.conv.state(), State::Queued { .. }));
}

#[test]
fn talk_to_attendant_in_mode_automatic_offers_a_ticket() {
    let mut chat = Chat::open(assistant_automatic(), Language::En);
    let effects = chat.text(EN.talk_to_person, control(ControlIntent::TalkToAttendant));
    assert_eq!(says(&effects), [TextKey::NoLiveChat]);
    assert!(handoffs(&effects).is_empty());
    let effects = chat.choose("create_ticket");
    assert_eq!(says(&effects), [TextKey::AskDescription]);
}

#[test]
fn talk_to_attendant_when_the_mode_became_manual_queues_at_once() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.params.mode = ChatMode::Manual;
    let effects = chat.text(EN.talk_to_person, control(ControlIntent::TalkToAttendant));
    assert_eq!(says(&effects), [TextKey::ConnectingToAttendant]);
    assert_eq!(handoffs(&effects), [("service-desk".to_string(), None)]);
}

#[test]
fn ambiguous_asks_which_one_among_at_most_three() {
    let mut chat = Chat::open(assistant(), Language::En);
    let candidates = vec![
        Candidate::Intent {
            intent: ControlIntent::CreateTicket,
        },
        Candidate::Activity {
            activity: EN.printer(),
        },
        Candidate::Article {
            article: EN.password_article(),
        },
        Candidate::Article {
            article: EN.vpn_article(),
        },
    ];
    let effects = chat.text("printer password", Understanding::Ambiguous { candidates });
    assert_eq!(says(&effects), [TextKey::WhichOne]);
    assert_eq!(
        chat.offered_ids(),
        ["candidate:1", "candidate:2", "candidate:3"]
    );
    let effects = chat.choose("candidate:2");
    assert_eq!(says(&effects), [TextKey::ActivityFound]);

    let mut chat = Chat::open(assistant(), Language::En);
    let candidates = vec![
        Candidate::Article {
            article: EN.password_article(),
        },
        Candidate::Intent {
            intent: ControlIntent::Cancel,
        },
    ];
    chat.text("x", Understanding::Ambiguous { candidates });
    let effects = chat.choose("candidate:1");
    assert_eq!(
        effects[0],
        Effect::ShowArticle {
            article_id: "kb-password".into()
        }
    );
    let effects = chat.choose("close");
    assert_eq!(says(&effects), [TextKey::ArticlesFound]);
}

#[test]
fn ambiguous_with_one_candidate_acts_on_it_and_with_none_falls_back() {
    let mut chat = Chat::open(assistant(), Language::En);
    let effects = chat.text(
        "open",
        Understanding::Ambiguous {
            candidates: vec![Candidate::Intent {
                intent: ControlIntent::CreateTicket,
            }],
        },
    );
    assert_eq!(says(&effects), [TextKey::AskDescription]);
    let mut chat = Chat::open(assistant(), Language::En);
    let effects = chat.text("??", Understanding::Ambiguous { candidates: vec![] });
    assert_eq!(says(&effects), [TextKey::FallbackWithAttendant]);
}

// ----- Manual mode -----

#[test]
fn mode_manual_goes_straight_to_people() {
    let mut chat = Chat::open(params_with(ChatMode::Manual, true), Language::En);
    assert!(matches!(
        chat.conv.state(),
        State::Queued { ticket: None, .. }
    ));
    assert_eq!(chat.conv.status(), ChatStatus::WaitingForAttendant);
    let effects = chat.text(EN.to_attendant, control(ControlIntent::Help));
    assert_eq!(
        effects,
        [Effect::Forward {
            text: EN.to_attendant.into()
        }]
    );
    chat.send(Event::AttendantJoined { name: "Ana".into() });
    assert_eq!(chat.conv.status(), ChatStatus::Online);
}

// ----- Courtesy and control in any state -----

#[test]
fn greeting_thanks_help_keep_the_current_question() {
    let mut chat = Chat::open(assistant(), Language::En);
    let effects = chat.text(EN.hello, control(ControlIntent::Greeting));
    assert_eq!(
        says(&effects),
        [TextKey::GreetingAgain, TextKey::HowCanIHelp]
    );
    let effects = chat.text(EN.thanks, control(ControlIntent::Thanks));
    assert_eq!(
        says(&effects),
        [TextKey::YoureWelcome, TextKey::AnythingElse]
    );
    let effects = chat.text(EN.help, control(ControlIntent::Help));
    assert_eq!(says(&effects), [TextKey::AssistantHelp]);

    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    let effects = chat.text(EN.thanks, control(ControlIntent::Thanks));
    assert_eq!(
        says(&effects),
        [TextKey::YoureWelcome, TextKey::ConfirmTicket]
    );
    let effects = chat.text(EN.help, control(ControlIntent::Help));
    assert_eq!(
        says(&effects),
        [TextKey::AssistantHelp, TextKey::ConfirmTicket]
    );
    let effects = chat.text(EN.hello, control(ControlIntent::Greeting));
    assert_eq!(
        says(&effects),
        [TextKey::GreetingAgain, TextKey::ConfirmTicket]
    );
    assert!(matches!(chat.conv.state(), State::ConfirmingTicket { .. }));
}

#[test]
fn smart_chat_help_shows_the_menu_again() {
    let mut chat = Chat::open(smart_chat(), Language::En);
    let effects = chat.text(EN.help, control(ControlIntent::Help));
    assert_eq!(
        says(&effects),
        [TextKey::SmartChatHelp, TextKey::SmartChatMenu]
    );
    assert_eq!(chat.offered_ids().len(), 3);
}

#[test]
fn cancel_aborts_the_current_flow_back_to_idle() {
    let steps: Vec<fn(&mut Chat)> = vec![
        |chat| {
            chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
        },
        |chat| {
            chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
            chat.text(EN.description, Understanding::Fallback);
        },
        |chat| {
            chat.text(EN.printer_query, activities(vec![EN.printer()]));
        },
        |chat| {
            chat.text("kb", articles(vec![EN.password_article()]));
            chat.choose("article:kb-password");
        },
        |chat| {
            chat.text(EN.unknown, Understanding::Fallback);
        },
        |chat| {
            chat.text("my tickets", control(ControlIntent::ResumeTicket));
            chat.send(Event::OpenTickets {
                tickets: EN.own_tickets(),
            });
        },
    ];
    for (index, prepare) in steps.into_iter().enumerate() {
        let mut chat = Chat::open(assistant(), Language::En);
        prepare(&mut chat);
        let effects = chat.text(EN.cancel, control(ControlIntent::Cancel));
        assert_eq!(
            says(&effects),
            [TextKey::Cancelled, TextKey::AnythingElse],
            "case {index}"
        );
        assert_eq!(chat.conv.state(), &State::Idle, "case {index}");
        assert!(chat.offered_ids().is_empty());
    }
    let mut chat = Chat::open(assistant(), Language::En);
    let effects = chat.text(EN.cancel, control(ControlIntent::Cancel));
    assert_eq!(
        says(&effects),
        [TextKey::NothingToCancel, TextKey::HowCanIHelp]
    );
}

#[test]
fn goodbye_closes_from_any_bot_state() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    let effects = chat.text(EN.bye, control(ControlIntent::Goodbye));
    assert_eq!(says(&effects), [TextKey::Goodbye]);
    assert_eq!(statuses(&effects), [ChatStatus::Finished]);
    assert_eq!(chat.conv.state(), &State::Finished);
    chat.fail(
        Event::RequesterText {
            text: "hello?".into(),
            understanding: Understanding::Fallback,
        },
        "conversation_finished",
    );
}

#[test]
fn yes_or_no_out_of_context_is_not_understood() {
    let mut chat = Chat::open(assistant(), Language::En);
    let effects = chat.text(EN.yes, control(ControlIntent::Yes));
    assert_eq!(
        says(&effects),
        [TextKey::NotUnderstood, TextKey::HowCanIHelp]
    );
    chat.text(EN.printer_query, activities(vec![EN.printer()]));
    let effects = chat.text("no", control(ControlIntent::No));
    assert_eq!(says(&effects), [TextKey::ChooseAnOption]);
    assert_eq!(chat.offered_ids(), ["create_ticket", "resume_ticket"]);
}

#[test]
fn control_intents_while_describing() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    let effects = chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    assert_eq!(says(&effects), [TextKey::DescriptionNeeded]);
    let effects = chat.text(EN.yes, control(ControlIntent::Yes));
    assert_eq!(says(&effects), [TextKey::DescriptionNeeded]);
    let effects = chat.text(EN.hello, control(ControlIntent::Greeting));
    assert_eq!(
        says(&effects),
        [TextKey::GreetingAgain, TextKey::AskDescription]
    );
    // A request typed as the description is the description, not a new request.
    let effects = chat.text(EN.talk_to_person, control(ControlIntent::TalkToAttendant));
    assert_eq!(says(&effects), [TextKey::ConfirmTicket]);
    assert!(
        matches!(chat.conv.state(), State::ConfirmingTicket { draft } if draft.description == EN.talk_to_person)
    );
    assert!(
        chat.choose("yes")
            .iter()
            .any(|effect| matches!(effect, Effect::CreateTicket(_)))
    );
}

#[test]
fn text_while_an_effect_is_pending_asks_to_wait() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    chat.choose("yes");
    let effects = chat.text("hello?", control(ControlIntent::Cancel));
    assert_eq!(says(&effects), [TextKey::PleaseWait]);
    assert!(matches!(chat.conv.state(), State::CreatingTicket { .. }));
}

#[test]
fn options_can_be_typed_as_their_number_or_label() {
    for script in SCRIPTS {
        let mut chat = Chat::open(smart_chat(), script.language);
        let effects = chat.text("2", Understanding::Fallback);
        assert_eq!(says(&effects), [TextKey::AskActivityQuery]);
        chat.text(script.printer_query, activities(vec![script.printer()]));
        chat.choose("create_ticket");
        chat.text(script.description, Understanding::Fallback);
        // The matcher did not recognise it, but it is the label of "yes".
        let effects = chat.text(script.yes, Understanding::Fallback);
        assert!(created_ticket(&effects).is_some(), "{}", script.language);
    }
}

#[test]
fn every_reply_of_every_flow_renders_completely() {
    for script in SCRIPTS {
        let mut chat = Chat::open(smart_chat(), script.language);
        let mut all = Vec::new();
        all.extend(chat.choose("search_knowledge"));
        all.extend(chat.text(
            script.password_query,
            articles(vec![script.password_article()]),
        ));
        all.extend(chat.choose("article:kb-password"));
        all.extend(chat.choose("view"));
        all.extend(chat.choose("close"));
        all.extend(chat.choose("none_of_these"));
        all.extend(chat.choose("search_activity"));
        all.extend(chat.text(script.printer_query, activities(vec![script.printer()])));
        all.extend(chat.choose("resume_ticket"));
        all.extend(chat.send(Event::OpenTickets {
            tickets: script.own_tickets(),
        }));
        all.extend(chat.choose("create_ticket"));
        all.extend(chat.text(script.description, Understanding::Fallback));
        all.extend(chat.choose("yes"));
        all.extend(chat.send(Event::TicketCreated { number: "1".into() }));
        assert_renders(&all, script.language);
    }
}

#[test]
fn thanks_after_an_article_ends_the_search() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.password_query, articles(vec![EN.password_article()]));
    chat.choose("article:kb-password");
    let effects = chat.text(EN.thanks, control(ControlIntent::Thanks));
    assert_eq!(
        says(&effects),
        [TextKey::YoureWelcome, TextKey::AnythingElse]
    );
    assert_eq!(chat.conv.state(), &State::Idle);
}
