//! Each flow of the design, step by step, with the effects asserted.

use super::*;

fn smart_chat() -> Params {
    params_with(ChatMode::Both, false)
}

fn assistant() -> Params {
    Params::default()
}

fn assistant_automatic() -> Params {
    params_with(ChatMode::Automatic, true)
}

// ----- A.1 Create a ticket -----

#[test]
fn create_ticket_by_chat_collects_confirms_and_returns_the_number() {
    for script in SCRIPTS {
        let mut chat = Chat::open(smart_chat(), script.language);
        assert_eq!(
            chat.offered_ids(),
            ["create_ticket", "search_activity", "search_knowledge"]
        );

        let effects = chat.choose("create_ticket");
        assert_eq!(says(&effects), [TextKey::AskDescription]);
        assert_eq!(chat.conv.expecting(), Expecting::Description);

        let effects = chat.text(script.description, Understanding::Fallback);
        assert_eq!(says(&effects), [TextKey::ConfirmTicket]);
        assert_eq!(chat.offered_ids(), ["yes", "no"]);
        assert!(
            created_ticket(&effects).is_none(),
            "nothing is opened before the yes"
        );

        let effects = chat.text(script.yes, control(ControlIntent::Yes));
        let ticket = created_ticket(&effects).expect("a ticket is requested");
        assert_eq!(ticket.description, script.description);
        assert_eq!(ticket.activity_id, "general-request");
        assert_eq!(ticket.contract, "default");
        assert_eq!(ticket.group, "service-desk");
        assert_eq!(ticket.tags, ["origem-chat"]);
        assert_eq!(ticket.requester, "maria");
        assert_eq!(ticket.language, script.language);
        assert_eq!(chat.conv.expecting(), Expecting::Wait);

        let effects = chat.send(Event::TicketCreated {
            number: "2024-0042".into(),
        });
        assert_eq!(says(&effects), [TextKey::TicketCreatedQueued]);
        let Effect::Say(reply) = &effects[0] else {
            panic!("the number is said first")
        };
        assert_eq!(reply.args, [(Arg::Ticket, "2024-0042".to_string())]);
        assert_eq!(
            handoffs(&effects),
            [("service-desk".to_string(), Some("2024-0042".to_string()))]
        );
        assert_eq!(statuses(&effects), [ChatStatus::WaitingForAttendant]);
        assert_eq!(chat.conv.ticket(), Some("2024-0042"));
        assert_eq!(chat.conv.expecting(), Expecting::HumanChat);

        let effects = chat.send(Event::AttendantJoined { name: "Ana".into() });
        assert_eq!(says(&effects), [TextKey::AttendantJoined]);
        assert_eq!(statuses(&effects), [ChatStatus::Online]);
        assert_eq!(chat.conv.attendant(), Some("Ana"));
    }
}

#[test]
fn the_described_activity_fills_the_ticket_with_its_own_contract_and_group() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    let effects = chat.text(EN.description, activities(vec![EN.printer()]));
    assert_eq!(says(&effects), [TextKey::ConfirmTicketFor]);
    let effects = chat.choose("yes");
    let ticket = created_ticket(&effects).unwrap();
    assert_eq!(ticket.activity_id, "printer-repair");
    assert_eq!(ticket.contract, "infra-2024");
    assert_eq!(ticket.group, "field-support");
    let effects = chat.send(Event::TicketCreated {
        number: "77".into(),
    });
    assert_eq!(
        handoffs(&effects),
        [("field-support".to_string(), Some("77".to_string()))]
    );
}

#[test]
fn parameters_315_316_317_fill_what_the_activity_leaves_open() {
    let params = Params {
        default_contract: "contract-9".into(),
        default_group: "helpdesk-l1".into(),
        default_activity: "other".into(),
        ..Params::default()
    };
    let mut chat = Chat::open(params, Language::En);
    let mut bare = EN.printer();
    bare.contract = None;
    bare.group = Some("   ".into());
    chat.text(EN.printer_query, activities(vec![bare]));
    chat.choose("create_ticket");
    chat.text(EN.description, Understanding::Fallback);
    let effects = chat.choose("yes");
    let ticket = created_ticket(&effects).unwrap();
    assert_eq!(ticket.activity_id, "printer-repair");
    assert_eq!(ticket.contract, "contract-9");
    assert_eq!(ticket.group, "helpdesk-l1");

    let mut chat = Chat::open(chat.params.clone(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    let ticket = created_ticket(&chat.choose("yes")).unwrap().clone();
    assert_eq!(
        (
            ticket.activity_id.as_str(),
            ticket.contract.as_str(),
            ticket.group.as_str()
        ),
        ("other", "contract-9", "helpdesk-l1")
    );
}

#[test]
fn no_at_the_confirmation_asks_for_the_description_again() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text("printer broken", Understanding::Fallback);
    let effects = chat.choose("no");
    assert_eq!(says(&effects), [TextKey::RewriteDescription]);
    let effects = chat.text(EN.description, Understanding::Fallback);
    assert_eq!(says(&effects), [TextKey::ConfirmTicket]);
    let ticket = created_ticket(&chat.text("yes", control(ControlIntent::Yes)))
        .unwrap()
        .clone();
    assert_eq!(ticket.description, EN.description);
    assert_eq!(
        ticket.request_seq, 2,
        "a rewritten description is a new draft"
    );
}

#[test]
fn mode_automatic_opens_the_ticket_without_live_chat() {
    let mut chat = Chat::open(assistant_automatic(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    chat.choose("yes");
    let effects = chat.send(Event::TicketCreated {
        number: "88".into(),
    });
    assert_eq!(
        says(&effects),
        [TextKey::TicketCreatedNoChat, TextKey::AnythingElse]
    );
    assert!(handoffs(&effects).is_empty());
    assert!(statuses(&effects).is_empty());
    assert_eq!(chat.conv.status(), ChatStatus::Bot);
    assert_eq!(chat.conv.state(), &State::Idle);
    assert_eq!(chat.conv.ticket(), Some("88"));
}

#[test]
fn a_failed_creation_goes_back_to_the_confirmation_and_retries_idempotently() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    let first = created_ticket(&chat.choose("yes")).unwrap().clone();
    let effects = chat.send(Event::EffectFailed);
    assert_eq!(says(&effects), [TextKey::TicketCreationFailed]);
    assert_eq!(chat.offered_ids(), ["yes", "no"]);
    let retry = created_ticket(&chat.choose("yes")).unwrap().clone();
    assert_eq!(
        retry, first,
        "same request_seq: the orchestrator can deduplicate"
    );
}

// ----- Statuses and parameter 447 -----

fn queued_chat(params: Params) -> Chat {
    let mut chat = Chat::open(params, Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    chat.choose("yes");
    chat.send(Event::TicketCreated {
        number: "42".into(),
    });
    chat
}

#[test]
fn status_is_waiting_until_both_are_present_then_online() {
    let mut chat = queued_chat(assistant());
    assert_eq!(chat.conv.status(), ChatStatus::WaitingForAttendant);
    chat.send(Event::AttendantJoined { name: "Ana".into() });
    assert_eq!(chat.conv.status(), ChatStatus::Online);
    let effects = chat.send(Event::AttendantPresence { online: false });
    assert_eq!(statuses(&effects), [ChatStatus::WaitingForAttendant]);
    let effects = chat.send(Event::AttendantMessage);
    assert_eq!(statuses(&effects), [ChatStatus::Online]);
    let effects = chat.send(Event::AttendantLeft);
    assert_eq!(says(&effects), [TextKey::AttendantLeft]);
    assert_eq!(statuses(&effects), [ChatStatus::WaitingForAttendant]);
    chat.send(Event::AttendantJoined {
        name: "Bruno".into(),
    });
    let effects = chat.send(Event::Closed);
    assert_eq!(says(&effects), [TextKey::ConversationClosed]);
    assert_eq!(statuses(&effects), [ChatStatus::Finished]);
    assert!(
        chat.send(Event::Closed).is_empty(),
        "closing twice is harmless"
    );
}

#[test]
fn requester_text_with_a_person_is_forwarded_not_interpreted() {
    let mut chat = queued_chat(assistant());
    chat.send(Event::AttendantJoined { name: "Ana".into() });
    let effects = chat.text(" thanks, bye \u{7}", control(ControlIntent::Goodbye));
    assert_eq!(
        effects,
        [Effect::Forward {
            text: "thanks, bye".into()
        }]
    );
    assert!(matches!(chat.conv.state(), State::Live { .. }));
}

#[test]
fn offline_notice_447_built_in_once_per_offline_period() {
    let mut chat = queued_chat(assistant());
    assert!(says(&chat.text("hello?", Understanding::Fallback)).is_empty());
    chat.send(Event::AttendantPresence { online: false });
    let effects = chat.text("anyone there?", Understanding::Fallback);
    assert_eq!(
        effects[0],
        Effect::Forward {
            text: "anyone there?".into()
        }
    );
    assert_eq!(says(&effects), [TextKey::OfflineNotice]);
    assert!(says(&chat.text("hello??", Understanding::Fallback)).is_empty());
    chat.send(Event::AttendantPresence { online: true });
    chat.send(Event::AttendantPresence { online: false });
    assert_eq!(
        says(&chat.text("again", Understanding::Fallback)),
        [TextKey::OfflineNotice]
    );
}

#[test]
fn offline_notice_447_custom_and_empty() {
    let custom = Params {
        offline_message: Some("  We answer from 8 to 18h.  ".into()),
        ..Params::default()
    };
    let mut chat = queued_chat(custom);
    chat.send(Event::AttendantPresence { online: false });
    let effects = chat.text("hello?", Understanding::Fallback);
    let Some(Effect::Say(reply)) = effects.get(1) else {
        panic!("a notice is posted: {effects:?}")
    };
    assert_eq!(reply.text_key, TextKey::OfflineCustom);
    assert_eq!(
        texts::render(reply, Language::En),
        "We answer from 8 to 18h."
    );

    let silent = Params {
        offline_message: Some(String::new()),
        ..Params::default()
    };
    let mut chat = queued_chat(silent);
    chat.send(Event::AttendantPresence { online: false });
    let effects = chat.text("hello?", Understanding::Fallback);
    assert_eq!(
        effects,
        [Effect::Forward {
            text: "hello?".into()
        }]
    );
}

#[test]
fn offline_notice_also_while_live() {
    let mut chat = queued_chat(assistant());
    chat.send(Event::AttendantJoined { name: "Ana".into() });
    chat.send(Event::AttendantPresence { online: false });
    let effects = chat.text("are you there?", Understanding::Fallback);
    assert_eq!(says(&effects), [TextKey::OfflineNotice]);
}

// ----- A.2 Activity search and resuming a ticket -----

#[test]
fn activity_search_offers_create_or_resume_and_attaches_the_chosen_ticket() {
    let mut chat = Chat::open(smart_chat(), Language::En);
    let effects = chat.choose("search_activity");
    assert_eq!(says(&effects), [TextKey::AskActivityQuery]);
    assert_eq!(chat.conv.expecting(), Expecting::ActivityName);
    let effects = chat.text(EN.printer_query, activities(vec![EN.printer()]));
    assert_eq!(says(&effects), [TextKey::ActivityFound]);
    assert_eq!(chat.offered_ids(), ["create_ticket", "resume_ticket"]);

    let effects = chat.choose("resume_ticket");
    assert!(effects.contains(&Effect::ListOpenTickets {
        preferred_activity: Some("printer-repair".into())
    }));
    let effects = chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    assert_eq!(says(&effects), [TextKey::ChooseTicket]);
    assert_eq!(
        chat.offered_ids(),
        ["ticket:2024-0102", "ticket:2024-0101", "create_ticket"],
        "the preferred activity's ticket comes first"
    );

    let effects = chat.choose("ticket:2024-0102");
    assert!(effects.contains(&Effect::AttachTicket {
        number: "2024-0102".into()
    }));
    let effects = chat.send(Event::TicketAttached {
        number: "2024-0102".into(),
    });
    assert_eq!(says(&effects), [TextKey::TicketAttachedQueued]);
    assert_eq!(
        handoffs(&effects),
        [("field-support".to_string(), Some("2024-0102".to_string()))]
    );
    assert_eq!(chat.conv.ticket(), Some("2024-0102"));
}

#[test]
fn activity_search_create_new_asks_for_the_description_of_that_activity() {
    let mut chat = Chat::open(smart_chat(), Language::En);
    chat.text(EN.printer_query, activities(vec![EN.printer()]));
    let effects = chat.choose("create_ticket");
    assert_eq!(says(&effects), [TextKey::AskDescriptionFor]);
    chat.text(EN.description, Understanding::Fallback);
    let ticket = created_ticket(&chat.choose("yes")).unwrap().clone();
    assert_eq!(ticket.activity_id, "printer-repair");
}

#[test]
fn the_best_scoring_activity_is_used() {
    let mut chat = Chat::open(assistant(), Language::En);
    let mut weak = EN.printer();
    weak.id = "toner".into();
    weak.name = "Toner".into();
    weak.score = 0.2;
    chat.text(EN.printer_query, activities(vec![weak, EN.printer()]));
    assert!(matches!(
        chat.conv.state(),
        State::ActivityFound { activity } if activity.id == "printer-repair"
    ));
}

#[test]
fn at_most_five_tickets_are_listed() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text("my tickets", control(ControlIntent::ResumeTicket));
    let tickets = (1..=8)
        .map(|n| TicketSummary {
            number: format!("T-{n}"),
            subject: format!("subject {n}"),
            activity_id: None,
            group: None,
        })
        .collect();
    chat.send(Event::OpenTickets { tickets });
    let ids = chat.offered_ids();
    assert_eq!(ids.len(), MAX_LISTED + 1);
    assert_eq!(ids[0], "ticket:T-1");
    assert_eq!(ids[MAX_LISTED], "create_ticket");
}

#[test]
fn no_open_tickets_says_so_and_offers_to_create() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.printer_query, activities(vec![EN.printer()]));
    chat.choose("resume_ticket");
    let effects = chat.send(Event::OpenTickets { tickets: vec![] });
    assert_eq!(says(&effects), [TextKey::NoOpenTickets]);
    assert_eq!(chat.offered_ids(), ["create_ticket", "not_now"]);
    let effects = chat.text(EN.yes, control(ControlIntent::Yes));
    assert_eq!(says(&effects), [TextKey::AskDescriptionFor]);
}

#[test]
fn not_now_goes_back_to_idle() {
    let mut chat = Chat::open(smart_chat(), Language::En);
    chat.text("my tickets", control(ControlIntent::ResumeTicket));
    chat.send(Event::OpenTickets { tickets: vec![] });
    let effects = chat.choose("not_now");
    assert_eq!(says(&effects), [TextKey::SmartChatMenu]);
    assert_eq!(chat.conv.state(), &State::Idle);
}

#[test]
fn a_typed_ticket_number_of_someone_else_attaches_nothing() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text("my tickets", control(ControlIntent::ResumeTicket));
    chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    let effects = chat.text("ticket 5555 please", Understanding::Fallback);
    assert_eq!(
        says(&effects),
        [TextKey::TicketNotYours, TextKey::ChooseTicket]
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::AttachTicket { .. }))
    );
    assert!(matches!(chat.conv.state(), State::ChoosingTicket { .. }));

    // One of the listed numbers, typed, is attached.
    let effects = chat.text("#2024-0101", Understanding::Fallback);
    assert!(effects.contains(&Effect::AttachTicket {
        number: "2024-0101".into()
    }));
}

#[test]
fn resume_with_a_number_attaches_it_directly_when_it_is_the_requesters() {
    let mut chat = Chat::open(assistant(), Language::En);
    let effects = chat.text(
        "resume ticket 2024-0101",
        control(ControlIntent::ResumeTicket),
    );
    assert!(effects.contains(&Effect::ListOpenTickets {
        preferred_activity: None
    }));
    let effects = chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    assert!(effects.contains(&Effect::AttachTicket {
        number: "2024-0101".into()
    }));
}

#[test]
fn resume_with_a_number_that_is_not_the_requesters_lists_their_own() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.resume_with_number, control(ControlIntent::ResumeTicket));
    let effects = chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    assert_eq!(
        says(&effects),
        [TextKey::TicketNotYours, TextKey::ChooseTicket]
    );
    let Effect::Say(reply) = effects
        .iter()
        .find(|e| matches!(e, Effect::Say(_)))
        .unwrap()
    else {
        unreachable!()
    };
    assert_eq!(reply.args, [(Arg::Ticket, "9999".to_string())]);

    let mut chat = Chat::open(assistant(), Language::En);
    chat.text(EN.resume_with_number, control(ControlIntent::ResumeTicket));
    let effects = chat.send(Event::OpenTickets { tickets: vec![] });
    assert_eq!(
        says(&effects),
        [TextKey::TicketNotYours, TextKey::NoOpenTickets]
    );
}

#[test]
fn resuming_in_mode_automatic_links_without_a_handoff() {
    let mut chat = Chat::open(assistant_automatic(), Language::En);
    chat.text("my tickets", control(ControlIntent::ResumeTicket));
    chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    chat.choose("ticket:2024-0101");
    let effects = chat.send(Event::TicketAttached {
        number: "2024-0101".into(),
    });
    assert_eq!(
        says(&effects),
        [TextKey::TicketAttachedNoChat, TextKey::AnythingElse]
    );
    assert!(handoffs(&effects).is_empty());
    assert_eq!(chat.conv.ticket(), Some("2024-0101"));
}

#[test]
fn a_failed_lookup_or_attach_apologises_and_goes_back_to_idle() {
    let mut chat = Chat::open(assistant(), Language::En);
    chat.text("my tickets", control(ControlIntent::ResumeTicket));
    let effects = chat.send(Event::EffectFailed);
    assert_eq!(
        says(&effects),
        [TextKey::LookupFailed, TextKey::AnythingElse]
    );
    chat.text("my tickets", control(ControlIntent::ResumeTicket));
    chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    chat.choose("ticket:2024-0101");
    let effects = chat.send(Event::EffectFailed);
    assert_eq!(
        says(&effects),
        [TextKey::AttachFailed, TextKey::AnythingElse]
    );
    assert_eq!(chat.conv.ticket(), None);
}

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
