//! Random event sequences (deterministic seeds): whatever arrives, the machine never panics, an
//! error never changes the conversation, and the conversation stays consistent.

use super::*;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
}

fn random_understanding(rng: &mut Rng) -> Understanding {
    match rng.below(6) {
        0 => control(rng.pick(&ControlIntent::ALL)),
        1 => activities(vec![EN.printer()]),
        2 => articles(vec![EN.password_article(), EN.vpn_article()]),
        3 => Understanding::Ambiguous {
            candidates: vec![
                Candidate::Intent {
                    intent: rng.pick(&ControlIntent::ALL),
                },
                Candidate::Activity {
                    activity: EN.printer(),
                },
                Candidate::Article {
                    article: EN.vpn_article(),
                },
            ],
        },
        4 => articles(vec![]),
        _ => Understanding::Fallback,
    }
}

fn random_event(rng: &mut Rng, conv: &Conversation) -> Event {
    let texts = [
        "1",
        "2",
        "yes",
        "ticket 2024-0101",
        "#9999",
        "",
        "  \u{0} ",
        "printer",
        EN.description,
    ];
    match rng.below(16) {
        0..=4 => Event::RequesterText {
            text: rng.pick(&texts).to_string(),
            understanding: random_understanding(rng),
        },
        5..=8 if !conv.offers().is_empty() => Event::OptionChosen {
            option_id: rng.pick(conv.offers()).id,
        },
        5 | 6 => Event::OptionChosen {
            option_id: rng
                .pick(&["yes", "ticket:1", "candidate:4", "view"])
                .to_string(),
        },
        7 => Event::TicketCreated {
            number: rng.pick(&["100", ""]).to_string(),
        },
        8 => Event::OpenTickets {
            tickets: if rng.below(2) == 0 {
                EN.own_tickets()
            } else {
                vec![]
            },
        },
        9 => Event::TicketAttached {
            number: rng.pick(&["2024-0101", "2024-0102"]).to_string(),
        },
        10 => Event::AttendantJoined { name: "Ana".into() },
        11 => rng.pick(&[
            Event::AttendantLeft,
            Event::AttendantMessage,
            Event::EffectFailed,
        ]),
        12 => Event::AttendantPresence {
            online: rng.below(2) == 0,
        },
        13 => Event::Resumed,
        14 if rng.below(8) == 0 => Event::Closed,
        _ => Event::Opened {
            language: rng.pick(&Language::ALL),
            requester: "maria".into(),
        },
    }
}

fn assert_consistent(conv: &Conversation, effects: &[Effect]) {
    let expected_status_ok = match conv.state() {
        State::NotStarted => conv.status() == ChatStatus::NotStarted,
        State::Finished => conv.status() == ChatStatus::Finished,
        State::Queued { .. } => conv.status() == ChatStatus::WaitingForAttendant,
        State::Live { .. } => matches!(
            conv.status(),
            ChatStatus::Online | ChatStatus::WaitingForAttendant
        ),
        _ => conv.status() == ChatStatus::Bot,
    };
    assert!(
        expected_status_ok,
        "{:?} with {:?}",
        conv.state(),
        conv.status()
    );
    match conv.expecting() {
        Expecting::Choice => assert!(!conv.offers().is_empty(), "{:?}", conv.state()),
        Expecting::Confirmation => {
            let ids: Vec<&str> = conv.offers().iter().map(|o| o.id.as_str()).collect();
            assert_eq!(ids, ["yes", "no"]);
        }
        Expecting::Wait | Expecting::Description | Expecting::Nothing => {
            assert!(conv.offers().is_empty(), "{:?}", conv.state())
        }
        _ => {}
    }
    assert_renders(effects, conv.language());
    let json = serde_json::to_string(conv).unwrap();
    assert_eq!(&serde_json::from_str::<Conversation>(&json).unwrap(), conv);
}

#[test]
fn random_sequences_keep_the_conversation_consistent() {
    let modes = [ChatMode::Manual, ChatMode::Automatic, ChatMode::Both];
    let mut outcomes = [0usize; 2];
    for seed in 1..=300u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let params = Params {
            mode: rng.pick(&modes),
            assistant_enabled: rng.below(2) == 0,
            offline_message: rng.pick(&[None, Some(String::new()), Some("away".to_string())]),
            ..Params::default()
        };
        let mut conv = Conversation::new();
        for _ in 0..60 {
            let event = random_event(&mut rng, &conv);
            let before = conv.clone();
            match step(&conv, &params, event) {
                Ok(transition) => {
                    outcomes[0] += 1;
                    assert_consistent(&transition.conversation, &transition.effects);
                    conv = transition.conversation;
                }
                Err(error) => {
                    outcomes[1] += 1;
                    assert_eq!(conv, before);
                    assert!(!error.code().is_empty());
                }
            }
        }
    }
    assert!(outcomes[0] > 3000 && outcomes[1] > 1000, "{outcomes:?}");
}
