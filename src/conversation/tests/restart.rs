//! A restart in the middle of a flow: the conversation is stored as JSON, loaded back, and the
//! chat goes on exactly as if nothing had happened.

use super::*;

fn round_trip(conv: &Conversation) -> Conversation {
    let json = serde_json::to_string(conv).expect("the conversation serialises");
    serde_json::from_str(&json).expect("and deserialises")
}

/// Drives the same events on a chat that is reloaded before each event and on one that is not,
/// and checks both produce the same effects and end in the same conversation.
fn assert_restart_transparent(mut chat: Chat, events: Vec<Event>) {
    let mut reloaded = chat.conv.clone();
    for event in events {
        reloaded = round_trip(&reloaded);
        assert_eq!(reloaded, chat.conv);
        let direct = chat.send(event.clone());
        let after_restart = step(&reloaded, &chat.params, event).unwrap();
        assert_eq!(after_restart.effects, direct);
        reloaded = after_restart.conversation;
    }
    assert_eq!(reloaded, chat.conv);
}

#[test]
fn a_restart_while_describing_a_ticket_resumes_there() {
    for script in SCRIPTS {
        let mut chat = Chat::open(Params::default(), script.language);
        chat.text(script.printer_query, activities(vec![script.printer()]));
        chat.choose("create_ticket");
        let stored = serde_json::to_string_pretty(&chat.conv).unwrap();
        let mut restored: Conversation = serde_json::from_str(&stored).unwrap();
        assert_eq!(restored, chat.conv);
        assert_eq!(restored.expecting(), Expecting::Description);

        let params = Params::default();
        for event in [
            Event::RequesterText {
                text: script.description.into(),
                understanding: Understanding::Fallback,
            },
            Event::OptionChosen {
                option_id: "yes".into(),
            },
        ] {
            let transition = step(&restored, &params, event).unwrap();
            restored = transition.conversation;
            if let Some(ticket) = created_ticket(&transition.effects) {
                assert_eq!(ticket.activity_id, "printer-repair");
                assert_eq!(ticket.description, script.description);
            }
        }
        let transition = step(
            &round_trip(&restored),
            &params,
            Event::TicketCreated {
                number: "31".into(),
            },
        )
        .unwrap();
        assert_eq!(transition.conversation.ticket(), Some("31"));
        assert_eq!(
            transition.conversation.status(),
            ChatStatus::WaitingForAttendant
        );
    }
}

#[test]
fn every_step_of_every_flow_survives_a_reload() {
    let chat = Chat::open(params_with(ChatMode::Both, false), Language::Es);
    assert_restart_transparent(
        chat,
        vec![
            Event::OptionChosen {
                option_id: "search_knowledge".into(),
            },
            Event::RequesterText {
                text: "contraseña".into(),
                understanding: articles(vec![ES.password_article(), ES.vpn_article()]),
            },
            Event::OptionChosen {
                option_id: "article:kb-vpn".into(),
            },
            Event::OptionChosen {
                option_id: "close".into(),
            },
            Event::OptionChosen {
                option_id: "none_of_these".into(),
            },
            Event::OptionChosen {
                option_id: "search_activity".into(),
            },
            Event::RequesterText {
                text: "impresora".into(),
                understanding: activities(vec![ES.printer()]),
            },
            Event::OptionChosen {
                option_id: "resume_ticket".into(),
            },
            Event::OpenTickets {
                tickets: ES.own_tickets(),
            },
            Event::OptionChosen {
                option_id: "ticket:2024-0102".into(),
            },
            Event::TicketAttached {
                number: "2024-0102".into(),
            },
            Event::AttendantPresence { online: false },
            Event::RequesterText {
                text: "¿hola?".into(),
                understanding: Understanding::Fallback,
            },
            Event::AttendantJoined {
                name: "Lucía".into(),
            },
            Event::Closed,
        ],
    );
    let chat = Chat::open(Params::default(), Language::PtBr);
    assert_restart_transparent(
        chat,
        vec![
            Event::RequesterText {
                text: PT.unknown.into(),
                understanding: Understanding::Fallback,
            },
            Event::OptionChosen {
                option_id: "talk_to_attendant".into(),
            },
            Event::EffectFailed,
            Event::OptionChosen {
                option_id: "yes".into(),
            },
            Event::TicketCreated { number: "8".into() },
        ],
    );
}

#[test]
fn resumed_reissues_the_pending_effect_and_the_question() {
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    let effects = chat.send(Event::Resumed);
    assert_eq!(says(&effects), [TextKey::AskDescription]);

    chat.text(EN.description, Understanding::Fallback);
    let first = created_ticket(&chat.choose("yes")).unwrap().clone();
    chat.conv = round_trip(&chat.conv);
    let effects = chat.send(Event::Resumed);
    assert_eq!(
        created_ticket(&effects),
        Some(&first),
        "same idempotency sequence"
    );
    assert!(
        says(&effects).is_empty(),
        "the waiting prompt was stored with the state; a restart does not repeat it"
    );

    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text("tickets", control(ControlIntent::ResumeTicket));
    let effects = chat.send(Event::Resumed);
    assert!(effects.contains(&Effect::ListOpenTickets {
        preferred_activity: None
    }));
    chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    let effects = chat.send(Event::Resumed);
    assert_eq!(says(&effects), [TextKey::ChooseTicket]);
    chat.choose("ticket:2024-0101");
    let effects = chat.send(Event::Resumed);
    assert!(effects.contains(&Effect::AttachTicket {
        number: "2024-0101".into()
    }));
    chat.send(Event::TicketAttached {
        number: "2024-0101".into(),
    });
    assert!(
        chat.send(Event::Resumed).is_empty(),
        "nothing to repeat with people"
    );
}

#[test]
fn the_stored_form_is_readable_json() {
    let mut chat = Chat::open(Params::default(), Language::PtBr);
    chat.text(PT.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(PT.description, Understanding::Fallback);
    let value = serde_json::to_value(&chat.conv).unwrap();
    assert_eq!(value["language"], "pt-BR");
    assert_eq!(value["status"], "bot");
    assert_eq!(value["state"]["step"], "confirming_ticket");
    assert_eq!(value["state"]["draft"]["description"], PT.description);
    assert_eq!(value["offers"][0]["id"], "yes");
}
