//! Bad input: each gets a clear error (with a reply for the requester) or a polite answer, and an
//! error never changes the conversation (the harness asserts it on every refused event).

use super::*;

fn text_event(text: &str) -> Event {
    Event::RequesterText {
        text: text.into(),
        understanding: Understanding::Fallback,
    }
}

fn option(id: &str) -> Event {
    Event::OptionChosen {
        option_id: id.into(),
    }
}

/// Chats in a variety of states, for checks that hold in all of them.
fn chats_in_many_states() -> Vec<Chat> {
    let mut chats = Vec::new();
    let idle = Chat::open(Params::default(), Language::En);
    chats.push(idle);
    let mut smart = Chat::open(params_with(ChatMode::Both, false), Language::Es);
    smart.choose("search_activity");
    chats.push(smart);
    let mut describing = Chat::open(Params::default(), Language::PtBr);
    describing.text(PT.want_ticket, control(ControlIntent::CreateTicket));
    chats.push(describing);
    let mut confirming = Chat::open(Params::default(), Language::En);
    confirming.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    confirming.text(EN.description, Understanding::Fallback);
    chats.push(confirming.clone_chat());
    confirming.choose("yes");
    chats.push(confirming.clone_chat());
    confirming.send(Event::TicketCreated { number: "1".into() });
    chats.push(confirming.clone_chat());
    confirming.send(Event::AttendantJoined { name: "Ana".into() });
    chats.push(confirming);
    let mut listing = Chat::open(Params::default(), Language::En);
    listing.text("tickets", control(ControlIntent::ResumeTicket));
    chats.push(listing.clone_chat());
    listing.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    chats.push(listing);
    let mut knowledge = Chat::open(Params::default(), Language::En);
    knowledge.text("kb", articles(vec![EN.password_article()]));
    knowledge.choose("article:kb-password");
    chats.push(knowledge);
    chats
}

impl Chat {
    fn clone_chat(&self) -> Chat {
        Chat {
            conv: self.conv.clone(),
            params: self.params.clone(),
            transcript: String::new(),
        }
    }
}

#[test]
fn empty_whitespace_and_control_only_texts_are_refused_in_every_state() {
    for mut chat in chats_in_many_states() {
        for raw in ["", "    ", "\n\t\n", "\u{0}\u{8}\u{1b}", "\u{200B}\u{FEFF}"] {
            chat.fail(text_event(raw), "empty_text");
        }
    }
}

#[test]
fn a_100_kb_text_is_refused_with_the_limit_in_the_reply() {
    let huge = "x".repeat(100 * 1024);
    for mut chat in chats_in_many_states() {
        let error = chat.fail(text_event(&huge), "text_too_long");
        assert_eq!(
            error,
            MachineError::TextTooLong {
                length: 100 * 1024,
                limit: MAX_TEXT_CHARS
            }
        );
        let reply = error.user_reply().unwrap();
        for language in Language::ALL {
            assert!(texts::render(&reply, language).contains("4000"));
        }
    }
    // Exactly at the limit is accepted and kept whole as a description.
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    let long = "y".repeat(MAX_TEXT_CHARS);
    chat.text(&format!("   {long}   "), Understanding::Fallback);
    let ticket = created_ticket(&chat.choose("yes")).unwrap().clone();
    assert_eq!(ticket.description, long);
}

#[test]
fn the_confirmation_echoes_a_long_description_shortened() {
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    let effects = chat.text(&"word ".repeat(500), Understanding::Fallback);
    let Effect::Say(reply) = &effects[0] else {
        panic!()
    };
    let (_, echoed) = &reply.args[0];
    assert!(echoed.chars().count() <= 300 && echoed.ends_with('…'));
}

#[test]
fn control_characters_are_stripped_from_descriptions_and_forwarded_text() {
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(
        "\u{1b}[2Jprinter\u{0} jams\r\n\tsince monday\u{202E}\u{7}",
        Understanding::Fallback,
    );
    let ticket = created_ticket(&chat.choose("yes")).unwrap().clone();
    assert_eq!(ticket.description, "[2Jprinter jams\n\tsince monday");
    chat.send(Event::TicketCreated { number: "1".into() });
    let effects = chat.text("hi\u{0}there", Understanding::Fallback);
    assert_eq!(
        effects,
        [Effect::Forward {
            text: "hithere".into()
        }]
    );
}

#[test]
fn an_option_that_was_never_offered_is_refused_in_every_state() {
    for mut chat in chats_in_many_states() {
        for id in [
            "",
            "delete_everything",
            "candidate:9",
            "article:secret",
            "YES",
            "view ",
        ] {
            if chat.offered_ids().contains(&id) {
                continue;
            }
            chat.fail(option(id), "option_not_offered");
        }
    }
}

#[test]
fn an_option_offered_earlier_but_not_now_is_refused() {
    let mut chat = Chat::open(params_with(ChatMode::Both, false), Language::En);
    chat.choose("search_knowledge");
    chat.fail(option("search_activity"), "option_not_offered");
    chat.fail(option("create_ticket"), "option_not_offered");
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    chat.choose("yes");
    chat.fail(option("yes"), "option_not_offered");
}

#[test]
fn a_ticket_of_someone_else_is_never_attached() {
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text("tickets", control(ControlIntent::ResumeTicket));
    chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    let error = chat.fail(option("ticket:1999-0001"), "ticket_not_found");
    let reply = error.user_reply().unwrap();
    assert_eq!(reply.text_key, TextKey::TicketNotYours);
    assert!(texts::render(&reply, Language::PtBr).contains("1999-0001"));
    // Typed, it is a polite answer and the list again.
    let effects = chat.text("#1999-0001", Understanding::Fallback);
    assert_eq!(
        says(&effects),
        [TextKey::TicketNotYours, TextKey::ChooseTicket]
    );
    assert!(
        !effects
            .iter()
            .any(|e| matches!(e, Effect::AttachTicket { .. }))
    );
    // Outside a ticket list, a ticket option is refused the same way.
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.fail(option("ticket:2024-0101"), "ticket_not_found");
}

#[test]
fn unclear_text_while_options_are_offered_asks_to_choose() {
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.printer_query, activities(vec![EN.printer()]));
    let effects = chat.text("hmm", Understanding::Fallback);
    assert_eq!(says(&effects), [TextKey::ChooseAnOption]);
    assert_eq!(chat.offered_ids(), ["create_ticket", "resume_ticket"]);
    assert!(matches!(chat.conv.state(), State::ActivityFound { .. }));
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    let effects = chat.text("maybe later", Understanding::Fallback);
    assert_eq!(says(&effects), [TextKey::ChooseAnOption]);
    assert_eq!(chat.offered_ids(), ["yes", "no"]);
}

#[test]
fn events_out_of_order_are_refused() {
    let mut idle = Chat::open(Params::default(), Language::En);
    for event in [
        Event::TicketCreated { number: "1".into() },
        Event::OpenTickets { tickets: vec![] },
        Event::TicketAttached { number: "1".into() },
        Event::EffectFailed,
        Event::AttendantJoined { name: "Ana".into() },
        Event::AttendantLeft,
        Event::AttendantMessage,
        Event::Opened {
            language: Language::Es,
            requester: "maria".into(),
        },
    ] {
        idle.fail(event, "unexpected_event");
    }
    let mut new = Chat::new(Params::default());
    for event in [
        text_event("hi"),
        option("x"),
        Event::Resumed,
        Event::AttendantMessage,
    ] {
        new.fail(event, "unexpected_event");
    }
    let mut queued = Chat::open(params_with(ChatMode::Manual, true), Language::En);
    queued.fail(Event::AttendantLeft, "unexpected_event");
    queued.fail(Event::AttendantMessage, "unexpected_event");
    queued.fail(
        Event::TicketCreated { number: "1".into() },
        "unexpected_event",
    );
}

#[test]
fn malformed_events_are_refused() {
    let mut new = Chat::new(Params::default());
    new.fail(
        Event::Opened {
            language: Language::En,
            requester: " \u{0} ".into(),
        },
        "invalid_event",
    );
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    chat.choose("yes");
    chat.fail(
        Event::TicketCreated {
            number: "  ".into(),
        },
        "invalid_event",
    );
    chat.send(Event::TicketCreated {
        number: "12".into(),
    });
    chat.fail(Event::AttendantJoined { name: "".into() }, "invalid_event");

    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text("tickets", control(ControlIntent::ResumeTicket));
    chat.send(Event::OpenTickets {
        tickets: EN.own_tickets(),
    });
    chat.choose("ticket:2024-0101");
    chat.fail(
        Event::TicketAttached {
            number: "2024-0102".into(),
        },
        "invalid_event",
    );
}

#[test]
fn chat_disabled_refuses_opening_with_a_clear_reply() {
    let params = Params {
        chat_enabled: false,
        ..Params::default()
    };
    let mut chat = Chat::new(params);
    let error = chat.fail(
        Event::Opened {
            language: Language::PtBr,
            requester: "maria".into(),
        },
        "chat_disabled",
    );
    assert_eq!(chat.conv.state(), &State::NotStarted);
    let reply = error.user_reply().unwrap();
    assert_eq!(
        texts::render(&reply, Language::PtBr),
        "O chat não está disponível no momento. Você pode abrir um chamado pelo portal."
    );
}

#[test]
fn chat_disabled_midway_stops_the_bot_but_not_the_people_or_pending_work() {
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(EN.description, Understanding::Fallback);
    chat.params.chat_enabled = false;
    chat.fail(text_event("yes"), "chat_disabled");
    chat.fail(option("yes"), "chat_disabled");
    chat.params.chat_enabled = true;
    chat.choose("yes");
    chat.params.chat_enabled = false;
    chat.send(Event::TicketCreated { number: "5".into() });
    let effects = chat.text("hello", Understanding::Fallback);
    assert_eq!(
        effects,
        [Effect::Forward {
            text: "hello".into()
        }]
    );
}

#[test]
fn after_finishing_only_closed_is_accepted() {
    let mut chat = Chat::open(Params::default(), Language::En);
    chat.send(Event::Closed);
    for event in [
        text_event("hi"),
        option("create_ticket"),
        Event::Resumed,
        Event::AttendantPresence { online: true },
        Event::TicketCreated { number: "1".into() },
    ] {
        let error = chat.fail(event, "conversation_finished");
        assert!(error.user_reply().is_some());
    }
    assert!(chat.send(Event::Closed).is_empty());
    // Closing before opening finishes quietly.
    let mut new = Chat::new(Params::default());
    let effects = new.send(Event::Closed);
    assert_eq!(effects, [Effect::SetStatus(ChatStatus::Finished)]);
}

#[test]
fn bad_scores_and_empty_ids_from_the_matcher_do_not_break_the_chat() {
    let mut chat = Chat::open(Params::default(), Language::En);
    let mut nan = EN.printer();
    nan.id = "nan".into();
    nan.score = f32::NAN;
    let mut blank = EN.printer();
    blank.id = " ".into();
    blank.score = 9.0;
    chat.text("printer", activities(vec![nan, blank, EN.printer()]));
    assert!(matches!(
        chat.conv.state(),
        State::ActivityFound { activity } if activity.id == "printer-repair"
    ));
    let mut chat = Chat::open(Params::default(), Language::En);
    let mut no_id = EN.password_article();
    no_id.id = String::new();
    let effects = chat.text("kb", articles(vec![no_id]));
    assert_eq!(says(&effects), [TextKey::FallbackWithAttendant]);
}
