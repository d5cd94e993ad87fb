//! Each ticket flow of the design (A.1 creating a ticket, the chat statuses and parameter
//! 447, A.2 activity search and resuming a ticket), step by step, with the effects asserted.
//! The knowledge and assistant flows are in `flows_assistant`, which shares the parameter
//! fixtures below.

use super::*;

pub(super) fn smart_chat() -> Params {
    params_with(ChatMode::Both, false)
}

pub(super) fn assistant() -> Params {
    Params::default()
}

pub(super) fn assistant_automatic() -> Params {
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
