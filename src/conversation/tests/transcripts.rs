//! Every flow as a scripted conversation in pt-BR, es and en, kept as rendered transcripts
//! (insta snapshots under `snapshots/`): what the requester and the attendant would read, with
//! the effects the orchestrator performs.

use super::*;

fn tag(language: Language) -> &'static str {
    match language {
        Language::PtBr => "pt_br",
        Language::Es => "es",
        Language::En => "en",
    }
}

fn snapshot(flow: &str, script: &Script, transcript: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings.set_snapshot_path("snapshots");
    settings.bind(|| {
        insta::assert_snapshot!(format!("{flow}__{}", tag(script.language)), transcript);
    });
}

/// A.1: Smart Chat, create a ticket, wait for a person, 447, the person joins and leaves.
fn smart_chat_create_ticket(script: &Script) -> String {
    let mut chat = Chat::open(params_with(ChatMode::Both, false), script.language);
    chat.choose("create_ticket");
    chat.text(script.description, activities(vec![script.printer()]));
    chat.text(script.yes, control(ControlIntent::Yes));
    chat.send(Event::TicketCreated {
        number: "2024-0042".into(),
    });
    chat.send(Event::AttendantPresence { online: false });
    chat.text(script.to_attendant, Understanding::Fallback);
    chat.text(script.to_attendant, Understanding::Fallback);
    chat.send(Event::AttendantJoined { name: "Ana".into() });
    chat.send(Event::AttendantMessage);
    chat.send(Event::AttendantLeft);
    chat.send(Event::Closed);
    chat.transcript
}

/// A.2: activity search, resume, someone else's number typed, own ticket attached.
fn smart_chat_activity_resume(script: &Script) -> String {
    let mut chat = Chat::open(params_with(ChatMode::Both, false), script.language);
    chat.choose("search_activity");
    chat.text(script.printer_query, activities(vec![script.printer()]));
    chat.choose("resume_ticket");
    chat.send(Event::OpenTickets {
        tickets: script.own_tickets(),
    });
    chat.text("#5555", Understanding::Fallback);
    let _ = chat.try_send(Event::OptionChosen {
        option_id: "ticket:5555".into(),
    });
    chat.choose("ticket:2024-0102");
    chat.send(Event::TicketAttached {
        number: "2024-0102".into(),
    });
    chat.transcript
}

/// A.2 without open tickets: offered to create one for the activity.
fn activity_without_open_tickets(script: &Script) -> String {
    let mut chat = Chat::open(params_with(ChatMode::Automatic, false), script.language);
    chat.text(script.printer_query, activities(vec![script.printer()]));
    chat.choose("resume_ticket");
    chat.send(Event::OpenTickets { tickets: vec![] });
    chat.choose("create_ticket");
    chat.text(script.description, Understanding::Fallback);
    chat.choose("yes");
    chat.send(Event::TicketCreated {
        number: "815".into(),
    });
    chat.transcript
}

/// A.3: knowledge search, open, view, close, none of these.
fn smart_chat_knowledge(script: &Script) -> String {
    let mut chat = Chat::open(params_with(ChatMode::Both, false), script.language);
    chat.choose("search_knowledge");
    chat.text(
        script.password_query,
        articles(vec![script.password_article(), script.vpn_article()]),
    );
    chat.choose("article:kb-password");
    chat.choose("view");
    chat.choose("close");
    chat.choose("none_of_these");
    chat.text(script.bye, control(ControlIntent::Goodbye));
    chat.transcript
}

/// B: assistant fallback, talk to an attendant (mode both).
fn assistant_fallback_both(script: &Script) -> String {
    let mut chat = Chat::open(Params::default(), script.language);
    chat.text(script.hello, control(ControlIntent::Greeting));
    chat.text(script.unknown, Understanding::Fallback);
    chat.choose("talk_to_attendant");
    chat.send(Event::TicketCreated {
        number: "3001".into(),
    });
    chat.send(Event::AttendantJoined {
        name: "Bruno".into(),
    });
    chat.text(script.thanks, control(ControlIntent::Thanks));
    chat.transcript
}

/// B: assistant fallback in mode automatic: a ticket without live chat.
fn assistant_fallback_automatic(script: &Script) -> String {
    let mut chat = Chat::open(params_with(ChatMode::Automatic, true), script.language);
    chat.text(script.unknown, Understanding::Fallback);
    chat.choose("create_ticket");
    chat.choose("yes");
    chat.send(Event::EffectFailed);
    chat.choose("yes");
    chat.send(Event::TicketCreated {
        number: "3002".into(),
    });
    chat.text(
        script.talk_to_person,
        control(ControlIntent::TalkToAttendant),
    );
    chat.text(script.bye, control(ControlIntent::Goodbye));
    chat.transcript
}

/// B: the assistant answers knowledge and ambiguity, resumes a ticket by number.
fn assistant_knowledge_and_ambiguity(script: &Script) -> String {
    let mut chat = Chat::open(Params::default(), script.language);
    chat.text(
        script.password_query,
        articles(vec![script.password_article()]),
    );
    chat.choose("article:kb-password");
    chat.text(script.thanks, control(ControlIntent::Thanks));
    chat.text(
        script.printer_query,
        Understanding::Ambiguous {
            candidates: vec![
                Candidate::Intent {
                    intent: ControlIntent::CreateTicket,
                },
                Candidate::Activity {
                    activity: script.printer(),
                },
                Candidate::Article {
                    article: script.vpn_article(),
                },
            ],
        },
    );
    chat.choose("candidate:2");
    chat.text(script.cancel, control(ControlIntent::Cancel));
    chat.text(
        script.resume_with_number,
        control(ControlIntent::ResumeTicket),
    );
    chat.send(Event::OpenTickets {
        tickets: script.own_tickets(),
    });
    chat.text("1", Understanding::Fallback);
    chat.send(Event::TicketAttached {
        number: "2024-0101".into(),
    });
    chat.transcript
}

/// Mode manual: straight to people, custom 447 notice.
fn manual_mode(script: &Script) -> String {
    let params = Params {
        offline_message: Some("Atendimento: 8h–18h / 8:00–18:00 / 8am–6pm".into()),
        ..params_with(ChatMode::Manual, true)
    };
    let mut chat = Chat::open(params, script.language);
    chat.send(Event::AttendantPresence { online: false });
    chat.text(script.to_attendant, Understanding::Fallback);
    chat.send(Event::AttendantPresence { online: true });
    chat.send(Event::AttendantJoined {
        name: "Carla".into(),
    });
    chat.text(script.thanks, control(ControlIntent::Thanks));
    chat.send(Event::Closed);
    chat.transcript
}

/// Courtesy, help, cancel and bad input along a ticket creation.
fn courtesy_and_bad_input(script: &Script) -> String {
    let mut chat = Chat::open(Params::default(), script.language);
    chat.text(script.help, control(ControlIntent::Help));
    chat.text(script.yes, control(ControlIntent::Yes));
    chat.text(script.want_ticket, control(ControlIntent::CreateTicket));
    let _ = chat.try_send(Event::RequesterText {
        text: "   \u{0}\u{7}  ".into(),
        understanding: Understanding::Fallback,
    });
    let _ = chat.try_send(Event::RequesterText {
        text: "x".repeat(100 * 1024),
        understanding: Understanding::Fallback,
    });
    let _ = chat.try_send(Event::OptionChosen {
        option_id: "yes".into(),
    });
    chat.text(script.want_ticket, control(ControlIntent::CreateTicket));
    chat.text(script.description, Understanding::Fallback);
    chat.text("?", Understanding::Fallback);
    chat.text(script.cancel, control(ControlIntent::Cancel));
    chat.text(script.bye, control(ControlIntent::Goodbye));
    let _ = chat.try_send(Event::RequesterText {
        text: script.hello.into(),
        understanding: control(ControlIntent::Greeting),
    });
    chat.transcript
}

/// Opening refused by parameter 299.
fn chat_disabled(script: &Script) -> String {
    let params = Params {
        chat_enabled: false,
        ..Params::default()
    };
    let mut chat = Chat::new(params);
    let _ = chat.try_send(Event::Opened {
        language: script.language,
        requester: "maria".into(),
    });
    chat.transcript
}

macro_rules! transcript_tests {
    ($($flow:ident),* $(,)?) => {
        $(
            #[test]
            fn $flow() {
                for script in SCRIPTS {
                    snapshot(stringify!($flow), script, &super::transcripts::$flow(script));
                }
            }
        )*
    };
}

mod snapshot_tests {
    use super::*;

    transcript_tests!(
        smart_chat_create_ticket,
        smart_chat_activity_resume,
        activity_without_open_tickets,
        smart_chat_knowledge,
        assistant_fallback_both,
        assistant_fallback_automatic,
        assistant_knowledge_and_ambiguity,
        manual_mode,
        courtesy_and_bad_input,
        chat_disabled,
    );
}
