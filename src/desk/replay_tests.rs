//! Replay property test of the desk book: a deterministic pseudo-random op
//! stream (a small LCG, no rand crate) is applied to book A; every failed
//! op must leave A unchanged (atomicity); every applied op goes through
//! JSON and is replayed on a fresh book B, which must end identical to A.
//! A snapshot of A must round-trip through JSON too.

use super::book_tests::{WEB, enqueue_op, online_op, person_op};
use super::*;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PEOPLE: &[&str] = &["a", "b", "c", "n", "m", "ghost"];
const CONVS: &[&str] = &["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"];
const REQS: &[&str] = &["r1", "r2", "r3"];
const REASONS: &[&str] = &["resolved", "no_response", "", "bored"];
const TYPES: &[&str] = &["image/png", "video/mp4", "application/x-sh", "text/plain"];

fn random_op(rng: &mut Lcg, now: u64) -> DeskOp {
    let person = |rng: &mut Lcg| rng.pick(PEOPLE).to_string();
    let conv = |rng: &mut Lcg| rng.pick(CONVS).to_string();
    match rng.next() % 24 {
        0 => DeskOp::SetPresence {
            person: person(rng),
            channel: WEB,
            state: match rng.next() % 3 {
                0 => PresenceState::Offline,
                1 => PresenceState::Online,
                _ => PresenceState::Paused {
                    reason: "lunch".into(),
                },
            },
            now_ms: now,
        },
        1..=3 => enqueue_op(&conv(rng), rng.pick(REQS), now),
        4..=5 => DeskOp::Capture {
            conversation_id: conv(rng),
            person: person(rng),
            now_ms: now,
        },
        6 => DeskOp::Decline {
            conversation_id: conv(rng),
            person: person(rng),
            now_ms: now,
        },
        7 => DeskOp::Transfer {
            conversation_id: conv(rng),
            from: person(rng),
            to: person(rng),
            now_ms: now,
        },
        8 => DeskOp::Invite {
            conversation_id: conv(rng),
            by: person(rng),
            invitee: person(rng),
            now_ms: now,
        },
        9 => DeskOp::Leave {
            conversation_id: conv(rng),
            person: person(rng),
            now_ms: now,
        },
        10..=11 => DeskOp::Close {
            conversation_id: conv(rng),
            by: person(rng),
            reason: rng.pick(REASONS).into(),
            closing_message: Some("bye".into()),
            now_ms: now,
        },
        12 => DeskOp::Reopen {
            conversation_id: conv(rng),
            by: person(rng),
            now_ms: now,
        },
        13 => DeskOp::MarkLost {
            conversation_id: conv(rng),
            now_ms: now,
        },
        14 => DeskOp::SetTicket {
            conversation_id: conv(rng),
            number: format!("T-{:06}", rng.next() % 100),
        },
        15 => DeskOp::StartOutbound {
            conversation_id: format!("o{}", rng.next() % 6),
            person: person(rng),
            requester: rng.pick(REQS).into(),
            channel: WEB,
            project_id: "p".into(),
            now_ms: now,
        },
        16 => DeskOp::Tag {
            conversation_id: conv(rng),
            tag: rng.pick(&["vip", "bug", " "]).into(),
            by: person(rng),
        },
        17 => DeskOp::MessageFromRequester {
            conversation_id: conv(rng),
            now_ms: now,
        },
        18 => DeskOp::MarkRead {
            conversation_id: conv(rng),
            person: person(rng),
            now_ms: now,
        },
        19 => DeskOp::BlockContact {
            id: rng.pick(REQS).into(),
            blocked: rng.next().is_multiple_of(3),
            by: person(rng),
            now_ms: now,
        },
        20 => {
            let ct = rng.pick(TYPES);
            DeskOp::AddAttachment {
                attachment: Attachment {
                    id: format!("f{}", rng.next() % 20),
                    conversation_id: conv(rng),
                    uploader: rng.pick(&["r1", "a", "b"]).into(),
                    file_name: "f".into(),
                    content_type: ct.into(),
                    size: rng.next() % (30 * ops::MIB),
                    kind: kind_for(ct).unwrap_or(AttachmentKind::File),
                    now_ms: now,
                },
            }
        }
        21 => DeskOp::LinkContact {
            analyst: person(rng),
            other: person(rng),
        },
        22 => DeskOp::StartAnalystChat {
            conversation_id: format!("x{}", rng.next() % 4),
            from: person(rng),
            to: person(rng),
            now_ms: now,
        },
        _ => DeskOp::Reroute {
            conversation_id: conv(rng),
            now_ms: now,
        },
    }
}

fn setup_ops() -> Vec<DeskOp> {
    let mut ops = vec![
        person_op("a", PersonKind::Attendant, 2),
        person_op("b", PersonKind::Attendant, 1),
        person_op("c", PersonKind::Attendant, 3),
        person_op("n", PersonKind::Analyst, 2),
        person_op("m", PersonKind::Analyst, 2),
        DeskOp::UpsertProject {
            project: Project {
                id: "p".into(),
                name: "P".into(),
                owner: Some("a".into()),
                assistant: None,
                service_group: None,
            },
        },
        online_op("a", 0),
        DeskOp::UpsertQuickReply {
            quick_reply: QuickReply {
                shortcut: "/hi".into(),
                texts: [("en".to_string(), "Hi".to_string())].into(),
                owner: None,
            },
        },
        DeskOp::UpsertMacro {
            macro_: Macro {
                id: "m1".into(),
                name: "tag and close".into(),
                actions: vec![
                    MacroAction::Tag { tag: "auto".into() },
                    MacroAction::SendQuickReply {
                        shortcut: "/hi".into(),
                    },
                    MacroAction::Close {
                        reason: "resolved".into(),
                    },
                ],
            },
        },
    ];
    for r in REQS {
        ops.push(DeskOp::UpsertContact {
            contact: Contact {
                id: r.to_string(),
                name: format!("Contato {r}"),
                email: None,
                phone: None,
                project_id: None,
                contract: None,
                contract_status: ContractStatus::Active,
            },
        });
    }
    ops
}

#[test]
fn replay_rebuilds_the_same_book_and_failures_change_nothing() {
    for (seed, mode) in [
        (1, RoutingMode::Queue),
        (7, RoutingMode::Automatic),
        (42, RoutingMode::Manual),
    ] {
        let mut config = BookConfig::default();
        config.desk.routing.default = mode;
        let mut a = DeskBook::new(config.clone());
        let mut log: Vec<String> = Vec::new();
        let mut rng = Lcg(seed);
        let mut ok = 0;
        let ops = setup_ops().into_iter();
        let randoms = (0..1500u64).map(|i| random_op(&mut Lcg(seed * 10_007 + i), i * 1000));
        for (i, op) in ops.chain(randoms).enumerate() {
            let before = serde_json::to_value(&a).unwrap();
            // Run the macro now and then, through its plan.
            if i % 50 == 49 {
                let conv = rng.pick(CONVS);
                if let Ok(steps) = a.plan_macro("m1", conv, "a", "en", i as u64 * 1000) {
                    for step in steps {
                        if let MacroStep::Op { op } = step {
                            a.apply(&op).expect("a validated plan applies");
                            log.push(serde_json::to_string(&op).unwrap());
                        }
                    }
                } else {
                    assert_eq!(serde_json::to_value(&a).unwrap(), before);
                }
            }
            let before = serde_json::to_value(&a).unwrap();
            match a.apply(&op) {
                Ok(_) => {
                    ok += 1;
                    log.push(serde_json::to_string(&op).unwrap());
                }
                Err(e) => assert!(
                    serde_json::to_value(&a).unwrap() == before,
                    "failed op {op:?} ({}) changed the book",
                    e.code()
                ),
            }
        }
        assert!(ok > 300, "too few ops applied: {ok}");
        let mut b = DeskBook::new(config);
        for line in &log {
            let op: DeskOp = serde_json::from_str(line).unwrap();
            b.apply(&op).expect("a logged op replays");
        }
        let va = serde_json::to_value(&a).unwrap();
        assert_eq!(va, serde_json::to_value(&b).unwrap());
        let snap: DeskBook = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(serde_json::to_value(&snap).unwrap(), va);
        // The snapshot behaves the same: routing index rebuilt.
        assert_eq!(
            snap.desk().automatic_choice("p", WEB, &[]).unwrap(),
            a.desk().automatic_choice("p", WEB, &[]).unwrap()
        );
    }
}
