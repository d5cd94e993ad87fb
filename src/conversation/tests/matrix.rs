//! Every chat mode × parameter 423 (× 299), on opening and on fallback.

use super::*;

const MODES: [ChatMode; 3] = [ChatMode::Manual, ChatMode::Automatic, ChatMode::Both];

#[test]
fn opening_in_every_mode_and_423() {
    for mode in MODES {
        for assistant in [true, false] {
            for language in Language::ALL {
                let params = params_with(mode, assistant);
                let mut chat = Chat::new(params);
                let effects = chat.send(Event::Opened {
                    language,
                    requester: "maria".into(),
                });
                assert_renders(&effects, language);
                let case = format!("{mode:?} assistant={assistant} {language}");
                match (mode, assistant) {
                    (ChatMode::Manual, _) => {
                        assert_eq!(says(&effects), [TextKey::ManualGreeting], "{case}");
                        assert_eq!(handoffs(&effects), [("service-desk".to_string(), None)]);
                        assert_eq!(statuses(&effects), [ChatStatus::WaitingForAttendant]);
                        assert_eq!(chat.conv.expecting(), Expecting::HumanChat);
                    }
                    (_, true) => {
                        assert_eq!(
                            says(&effects),
                            [TextKey::AssistantGreeting, TextKey::AssistantHelp],
                            "{case}"
                        );
                        assert!(chat.offered_ids().is_empty());
                        assert_eq!(statuses(&effects), [ChatStatus::Bot]);
                        assert!(handoffs(&effects).is_empty());
                    }
                    (_, false) => {
                        assert_eq!(says(&effects), [TextKey::SmartChatGreeting], "{case}");
                        assert_eq!(
                            chat.offered_ids(),
                            ["create_ticket", "search_activity", "search_knowledge"]
                        );
                        assert_eq!(statuses(&effects), [ChatStatus::Bot]);
                        assert!(handoffs(&effects).is_empty());
                    }
                }
                assert_eq!(chat.conv.language(), language);
            }
        }
    }
}

#[test]
fn opening_with_299_off_is_refused_in_every_mode() {
    for mode in MODES {
        for assistant in [true, false] {
            let params = Params {
                chat_enabled: false,
                ..params_with(mode, assistant)
            };
            let mut chat = Chat::new(params);
            chat.fail(
                Event::Opened {
                    language: Language::Es,
                    requester: "maria".into(),
                },
                "chat_disabled",
            );
        }
    }
}

#[test]
fn fallback_in_every_mode_and_423() {
    for mode in MODES {
        for assistant in [true, false] {
            let mut chat = Chat::open(params_with(mode, assistant), Language::En);
            let effects = chat.text(EN.unknown, Understanding::Fallback);
            let case = format!("{mode:?} assistant={assistant}");
            match (mode, assistant) {
                (ChatMode::Manual, _) => {
                    // People have the chat: the text is theirs, not the bot's.
                    assert_eq!(
                        effects,
                        [Effect::Forward {
                            text: EN.unknown.into()
                        }],
                        "{case}"
                    );
                }
                (ChatMode::Both, true) => {
                    assert_eq!(says(&effects), [TextKey::FallbackWithAttendant], "{case}");
                    assert_eq!(chat.offered_ids(), ["talk_to_attendant", "resume_ticket"]);
                }
                (ChatMode::Automatic, true) => {
                    assert_eq!(says(&effects), [TextKey::FallbackWithoutChat], "{case}");
                    assert_eq!(chat.offered_ids(), ["create_ticket", "resume_ticket"]);
                }
                (_, false) => {
                    assert_eq!(says(&effects), [TextKey::FallbackSmartChat], "{case}");
                    assert_eq!(
                        chat.offered_ids(),
                        ["create_ticket", "search_activity", "search_knowledge"]
                    );
                    assert_eq!(chat.conv.state(), &State::Idle);
                }
            }
            assert!(
                handoffs(&effects).is_empty(),
                "a fallback alone never hands off"
            );
        }
    }
}

#[test]
fn talking_to_an_attendant_after_fallback_in_every_mode() {
    for mode in [ChatMode::Automatic, ChatMode::Both] {
        let mut chat = Chat::open(params_with(mode, true), Language::En);
        chat.text(EN.unknown, Understanding::Fallback);
        let effects = chat.text(EN.talk_to_person, control(ControlIntent::TalkToAttendant));
        match mode {
            ChatMode::Both => {
                assert!(created_ticket(&effects).is_some());
                let effects = chat.send(Event::TicketCreated { number: "7".into() });
                assert_eq!(
                    handoffs(&effects),
                    [("service-desk".to_string(), Some("7".to_string()))]
                );
            }
            _ => {
                assert_eq!(says(&effects), [TextKey::NoLiveChat]);
                assert_eq!(chat.offered_ids(), ["create_ticket", "resume_ticket"]);
                chat.choose("create_ticket");
                chat.choose("yes");
                let effects = chat.send(Event::TicketCreated { number: "7".into() });
                assert!(handoffs(&effects).is_empty());
            }
        }
    }
}

#[test]
fn a_ticket_created_in_each_mode_queues_only_when_people_can_take_it() {
    // Manual chats start with people; a mode switched to manual mid-conversation still queues.
    for (mode, queued) in [
        (ChatMode::Manual, true),
        (ChatMode::Automatic, false),
        (ChatMode::Both, true),
    ] {
        for assistant in [true, false] {
            let mut chat = Chat::open(params_with(ChatMode::Both, assistant), Language::En);
            chat.text(EN.want_ticket, control(ControlIntent::CreateTicket));
            chat.text(EN.description, Understanding::Fallback);
            chat.choose("yes");
            chat.params.mode = mode;
            let effects = chat.send(Event::TicketCreated { number: "1".into() });
            assert_eq!(
                !handoffs(&effects).is_empty(),
                queued,
                "{mode:?} {assistant}"
            );
            let expected_status = if queued {
                ChatStatus::WaitingForAttendant
            } else {
                ChatStatus::Bot
            };
            assert_eq!(chat.conv.status(), expected_status);
        }
    }
}
