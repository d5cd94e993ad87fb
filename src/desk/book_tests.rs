//! Unit tests of the desk book's chat rules, one rule per test: blocks,
//! close reasons, transfer, invite, leave, unread, lost chats, reopen,
//! lists and contact search (the tools are in `tools_tests`).

use super::*;

pub(super) const WEB: Channel = Channel::Web;

pub(super) fn person_op(id: &str, kind: PersonKind, max: u32) -> DeskOp {
    DeskOp::UpsertPerson {
        person: Person {
            id: id.into(),
            name: id.to_uppercase(),
            kind,
            groups: vec![],
            channels: vec![Channel::Web, Channel::WhatsApp],
            max_chats: max,
        },
        now_ms: 0,
    }
}

pub(super) fn online_op(id: &str, now_ms: u64) -> DeskOp {
    DeskOp::SetPresence {
        person: id.into(),
        channel: WEB,
        state: PresenceState::Online,
        now_ms,
    }
}

pub(super) fn enqueue_op(id: &str, requester: &str, now_ms: u64) -> DeskOp {
    DeskOp::Enqueue {
        conversation_id: id.into(),
        requester: requester.into(),
        project_id: "p".into(),
        channel: WEB,
        now_ms,
        origin: Origin::Assistant,
    }
}

fn capture_op(id: &str, person: &str) -> DeskOp {
    DeskOp::Capture {
        conversation_id: id.into(),
        person: person.into(),
        now_ms: 10,
    }
}

pub(super) fn close_op(id: &str, by: &str, reason: &str) -> DeskOp {
    DeskOp::Close {
        conversation_id: id.into(),
        by: by.into(),
        reason: reason.into(),
        closing_message: Some("bye".into()),
        now_ms: 20,
    }
}

/// Queue mode (nothing assigned automatically), project `p`, attendants
/// `a`, `b` online on web chat, `c` offline; `n` is an offline analyst.
pub(super) fn book() -> DeskBook {
    let mut config = BookConfig::default();
    config.desk.routing.default = RoutingMode::Queue;
    let mut b = DeskBook::new(config);
    for id in ["a", "b", "c"] {
        b.apply(&person_op(id, PersonKind::Attendant, 2)).unwrap();
    }
    b.apply(&person_op("n", PersonKind::Analyst, 2)).unwrap();
    b.apply(&DeskOp::UpsertProject {
        project: Project {
            id: "p".into(),
            name: "P".into(),
            owner: None,
            assistant: None,
            service_group: None,
        },
    })
    .unwrap();
    b.apply(&online_op("a", 0)).unwrap();
    b.apply(&online_op("b", 0)).unwrap();
    b
}

/// `book()` with chat `k1` of requester `r1` captured by `a`.
pub(super) fn active() -> DeskBook {
    let mut b = book();
    b.apply(&enqueue_op("k1", "r1", 1)).unwrap();
    b.apply(&capture_op("k1", "a")).unwrap();
    b
}

pub(super) fn code(r: Result<Applied, DeskError>) -> &'static str {
    r.unwrap_err().code()
}

pub(super) fn snapshot(b: &DeskBook) -> serde_json::Value {
    serde_json::to_value(b).unwrap()
}

#[test]
fn block_refuses_new_chats_and_outbound_and_is_reported() {
    let mut b = active();
    let block = |blocked| DeskOp::BlockContact {
        id: "r1".into(),
        blocked,
        by: "a".into(),
        now_ms: 5,
    };
    b.apply(&block(true)).unwrap();
    assert!(b.is_blocked("r1") && !b.is_blocked("r2"));
    assert_eq!(code(b.apply(&enqueue_op("k2", "r1", 6))), "contact_blocked");
    let outbound = DeskOp::StartOutbound {
        conversation_id: "k3".into(),
        person: "b".into(),
        requester: "r1".into(),
        channel: WEB,
        project_id: "p".into(),
        now_ms: 7,
    };
    assert_eq!(code(b.apply(&outbound)), "contact_blocked");
    let msg = DeskOp::MessageFromRequester {
        conversation_id: "k1".into(),
        now_ms: 8,
    };
    assert_eq!(code(b.apply(&msg)), "contact_blocked");
    // Nothing of theirs is deleted.
    assert_eq!(b.record("k1").unwrap().state, ChatState::InProgress);
    b.apply(&block(false)).unwrap();
    let applied = b.apply(&outbound).unwrap();
    assert!(matches!(&applied.notices[0], Notice::AttendantJoined { person, .. } if person == "b"));
    assert_eq!(b.record("k3").unwrap().origin, Origin::Outbound);
}

#[test]
fn close_needs_a_valid_reason() {
    let mut b = active();
    let before = snapshot(&b);
    assert_eq!(
        code(b.apply(&close_op("k1", "a", " "))),
        "close_reason_required"
    );
    assert_eq!(
        code(b.apply(&close_op("k1", "a", "bored"))),
        "unknown_close_reason"
    );
    assert_eq!(
        code(b.apply(&close_op("k1", "b", "resolved"))),
        "not_participant"
    );
    assert_eq!(snapshot(&b), before);
    let applied = b.apply(&close_op("k1", "a", "resolved")).unwrap();
    assert_eq!(applied.handle_ms, Some(10));
    assert!(
        matches!(&applied.notices[0], Notice::Closed { closing_message: Some(m), .. } if m == "bye")
    );
    let rec = b.record("k1").unwrap();
    assert_eq!(rec.state, ChatState::Closed);
    assert_eq!(rec.close_reason.as_deref(), Some("resolved"));
    assert_eq!(b.desk().active_chats("a"), 0);
    assert_eq!(
        code(b.apply(&close_op("k1", "a", "resolved"))),
        "already_closed"
    );
}

#[test]
fn only_who_may_write_in_a_chat_tags_it() {
    let mut b = active();
    let tag = |by: &str, on: bool| {
        let (conversation_id, tag, by) = ("k1".into(), "vip".into(), by.into());
        if on {
            DeskOp::Tag {
                conversation_id,
                tag,
                by,
            }
        } else {
            DeskOp::Untag {
                conversation_id,
                tag,
                by,
            }
        }
    };
    assert_eq!(code(b.apply(&tag("b", true))), "not_participant");
    b.apply(&tag("a", true)).unwrap();
    assert_eq!(code(b.apply(&tag("b", false))), "not_participant");
    assert!(b.record("k1").unwrap().tags.contains("vip"));
    b.apply(&tag("a", false)).unwrap();
    assert!(b.record("k1").unwrap().tags.is_empty());
}

#[test]
fn transfer_changes_responsible_and_keeps_the_record() {
    let mut b = active();
    b.apply(&DeskOp::Tag {
        conversation_id: "k1".into(),
        tag: "vip".into(),
        by: "a".into(),
    })
    .unwrap();
    let transfer = |from: &str, to: &str| DeskOp::Transfer {
        conversation_id: "k1".into(),
        from: from.into(),
        to: to.into(),
        now_ms: 15,
    };
    assert_eq!(code(b.apply(&transfer("b", "b"))), "not_participant");
    assert_eq!(code(b.apply(&transfer("a", "c"))), "not_online");
    let applied = b.apply(&transfer("a", "b")).unwrap();
    assert!(matches!(&applied.notices[0], Notice::AttendantJoined { person, .. } if person == "b"));
    let rec = b.record("k1").unwrap();
    assert_eq!(rec.responsible.as_deref(), Some("b"));
    assert!(rec.former_participants.contains("a"));
    assert!(rec.tags.contains("vip"));
    assert_eq!(rec.transfers.len(), 1);
    assert_eq!(
        (b.desk().active_chats("a"), b.desk().active_chats("b")),
        (0, 1)
    );
    assert!(b.may_read_conversation(&Who::Person("a".into()), "k1"));
}

#[test]
fn invite_requires_an_online_colleague_and_leave_rules() {
    let mut b = active();
    let invite = |invitee: &str| DeskOp::Invite {
        conversation_id: "k1".into(),
        by: "a".into(),
        invitee: invitee.into(),
        now_ms: 12,
    };
    let leave = |person: &str| DeskOp::Leave {
        conversation_id: "k1".into(),
        person: person.into(),
        now_ms: 13,
    };
    assert_eq!(code(b.apply(&invite("c"))), "not_online");
    assert_eq!(code(b.apply(&invite("ghost"))), "unknown_person");
    b.apply(&invite("b")).unwrap();
    let rec = b.record("k1").unwrap();
    assert!(rec.participants.contains("b"));
    assert_eq!(rec.responsible.as_deref(), Some("a"));
    assert_eq!(b.desk().active_chats("b"), 0);
    assert_eq!(code(b.apply(&leave("a"))), "responsible_cannot_leave");
    assert_eq!(code(b.apply(&leave("c"))), "not_participant");
    b.apply(&leave("b")).unwrap();
    let rec = b.record("k1").unwrap();
    assert!(rec.participants.is_empty() && rec.former_participants.contains("b"));
    assert_eq!(code(b.apply(&leave("b"))), "not_participant");
}

#[test]
fn unread_for_members_cleared_by_mark_read_and_inherited_from_queue() {
    let mut b = book();
    b.apply(&enqueue_op("k1", "r1", 1)).unwrap();
    let msg = DeskOp::MessageFromRequester {
        conversation_id: "k1".into(),
        now_ms: 2,
    };
    b.apply(&msg).unwrap();
    assert_eq!(b.unread_in_queue(), vec!["k1".to_string()]);
    b.apply(&capture_op("k1", "a")).unwrap();
    assert_eq!(b.unread_for("a"), vec!["k1".to_string()]);
    assert!(b.unread_in_queue().is_empty());
    b.apply(&DeskOp::MarkRead {
        conversation_id: "k1".into(),
        person: "a".into(),
        now_ms: 11,
    })
    .unwrap();
    assert!(!b.has_unread("a"));
    b.apply(&DeskOp::Invite {
        conversation_id: "k1".into(),
        by: "a".into(),
        invitee: "b".into(),
        now_ms: 12,
    })
    .unwrap();
    b.apply(&msg).unwrap();
    assert!(b.has_unread("a") && b.has_unread("b") && !b.has_unread("c"));
}

#[test]
fn lost_only_while_waiting_with_deadlines_and_tickets() {
    let mut b = book();
    b.apply(&enqueue_op("k1", "r1", 100)).unwrap();
    b.apply(&enqueue_op("k2", "r2", 200)).unwrap();
    b.apply(&enqueue_op("k3", "r3", 300)).unwrap();
    b.apply(&capture_op("k3", "a")).unwrap();
    assert_eq!(
        b.lost_deadlines(1000),
        vec![("k1".to_string(), 1100), ("k2".to_string(), 1200)]
    );
    assert_eq!(b.due_lost(1150, 1000), vec!["k1".to_string()]);
    let lost = |id: &str| DeskOp::MarkLost {
        conversation_id: id.into(),
        now_ms: 1150,
    };
    assert_eq!(code(b.apply(&lost("k3"))), "not_waiting");
    let applied = b.apply(&lost("k1")).unwrap();
    assert!(matches!(applied.notices[0], Notice::Lost { .. }));
    assert_eq!(applied.updates[0].chat_id, "k2");
    assert_eq!(applied.updates[0].position, 1);
    assert_eq!(b.record("k1").unwrap().state, ChatState::Lost);
    assert_eq!(b.lost_without_ticket(), vec!["k1".to_string()]);
    b.apply(&DeskOp::SetTicket {
        conversation_id: "k1".into(),
        number: "T-000042".to_string(),
    })
    .unwrap();
    assert!(b.lost_without_ticket().is_empty());
    assert_eq!(code(b.apply(&lost("k1"))), "not_waiting");
}

#[test]
fn reopen_goes_to_the_closer_when_free_else_to_the_queue() {
    let mut b = active();
    b.apply(&close_op("k1", "a", "resolved")).unwrap();
    let reopen = |by: &str| DeskOp::Reopen {
        conversation_id: "k1".into(),
        by: by.into(),
        now_ms: 40,
    };
    b.apply(&reopen("a")).unwrap();
    let rec = b.record("k1").unwrap();
    assert_eq!(
        (rec.state, rec.responsible.as_deref()),
        (ChatState::InProgress, Some("a"))
    );
    assert_eq!(code(b.apply(&reopen("a"))), "not_closed");
    b.apply(&close_op("k1", "a", "resolved")).unwrap();
    let applied = b.apply(&reopen("c")).unwrap();
    assert!(matches!(
        applied.routing,
        Some(RoutingOutcome::Queued { position: 1, .. })
    ));
    let rec = b.record("k1").unwrap();
    assert_eq!((rec.state, rec.reopened), (ChatState::Queued, 2));
    assert!(rec.former_participants.contains("a"));
}

#[test]
fn list_filters_sorting_and_accent_insensitive_search() {
    let mut b = book();
    let contact = |id: &str, name: &str, email: &str| DeskOp::UpsertContact {
        contact: Contact {
            id: id.into(),
            name: name.into(),
            email: Some(email.into()),
            phone: None,
            project_id: Some("p".into()),
            contract: None,
            contract_status: ContractStatus::Active,
        },
    };
    b.apply(&contact("r1", "João Conceição", "joao@x.com"))
        .unwrap();
    b.apply(&contact("r2", "Ana Núñez", "ana@y.com")).unwrap();
    for (i, id) in ["k1", "k2", "k3", "k4"].iter().enumerate() {
        let requester = if i % 2 == 0 { "r1" } else { "r2" };
        b.apply(&enqueue_op(id, requester, i as u64)).unwrap();
    }
    b.apply(&capture_op("k3", "a")).unwrap();
    b.apply(&close_op("k3", "a", "resolved")).unwrap();
    b.apply(&capture_op("k4", "b")).unwrap();
    let ids = |v: Vec<&ChatRecord>| -> Vec<String> {
        v.iter().map(|r| r.conversation_id.clone()).collect()
    };
    assert_eq!(
        ids(b.list(&ListFilter::default())),
        ["k1", "k2", "k4", "k3"]
    );
    let queued = ListFilter {
        state: Some(ChatState::Queued),
        ..ListFilter::default()
    };
    assert_eq!(ids(b.list(&queued)), ["k1", "k2"]);
    let by_a = ListFilter {
        attendant: Some("a".into()),
        ..ListFilter::default()
    };
    assert_eq!(ids(b.list(&by_a)), ["k3"]);
    let q = ListFilter {
        contact_query: Some("JOAO conceicao".into()),
        ..ListFilter::default()
    };
    assert_eq!(ids(b.list(&q)), ["k1", "k3"]);
    b.apply(&DeskOp::SetTicket {
        conversation_id: "k2".into(),
        number: "T-000007".to_string(),
    })
    .unwrap();
    let t = ListFilter {
        ticket: Some("T-000007".to_string()),
        ..ListFilter::default()
    };
    assert_eq!(ids(b.list(&t)), ["k2"]);
    let names = |v: Vec<&Contact>| -> Vec<String> { v.iter().map(|c| c.id.clone()).collect() };
    assert_eq!(names(b.search_contacts("nunez")), ["r2"]);
    assert_eq!(names(b.search_contacts("@X.COM")), ["r1"]);
    assert_eq!(names(b.search_contacts("")), ["r2", "r1"]);
}

fn configure_op(close: &[&str], labels: Option<crate::desk::ReasonLabels>) -> DeskOp {
    DeskOp::Configure {
        routing: crate::desk::RoutingConfig::default(),
        pause_reasons: vec!["break".into()],
        close_reasons: close.iter().map(|reason| reason.to_string()).collect(),
        queues: None,
        labels,
    }
}

fn labels(entries: &[(&str, &str, &str)]) -> crate::desk::ReasonLabels {
    let mut all = crate::desk::ReasonLabels::new();
    for (reason, language, label) in entries {
        all.entry(reason.to_string())
            .or_default()
            .insert(language.to_string(), label.to_string());
    }
    all
}

#[test]
fn reason_labels_are_kept_checked_and_follow_their_reasons() {
    let mut b = active();
    let given = labels(&[
        ("sem_retorno", "pt-BR", "Sem retorno do solicitante"),
        ("sem_retorno", "es", "Sin respuesta del solicitante"),
        ("break", "en", "Short break"),
    ]);
    // Blanks around a label are not kept.
    let mut padded = given.clone();
    padded
        .get_mut("break")
        .unwrap()
        .insert("en".into(), "  Short break ".into());
    b.apply(&configure_op(&["resolved", "sem_retorno"], Some(padded)))
        .unwrap();
    assert_eq!(b.reason_labels(), &given);
    b.apply(&configure_op(
        &["resolved", "sem_retorno"],
        Some(given.clone()),
    ))
    .unwrap();
    assert_eq!(b.reason_labels(), &given);
    // Absent labels leave them as they are.
    b.apply(&configure_op(&["resolved", "sem_retorno"], None))
        .unwrap();
    assert_eq!(b.reason_labels(), &given);
    // A language we do not speak, or a blank label, changes nothing.
    let before = snapshot(&b);
    for bad in [
        labels(&[("resolved", "fr", "Résolu")]),
        labels(&[("resolved", "en", "  ")]),
        labels(&[("resolved", "en", &"x".repeat(61))]),
    ] {
        assert_eq!(
            code(b.apply(&configure_op(&["resolved"], Some(bad)))),
            "invalid_reason_label"
        );
    }
    assert_eq!(snapshot(&b), before);
    // A removed reason's labels go with it.
    b.apply(&configure_op(&["resolved"], None)).unwrap();
    assert!(!b.reason_labels().contains_key("sem_retorno"));
    assert!(b.reason_labels().contains_key("break"));
}

#[test]
fn a_snapshot_from_before_reason_labels_still_loads() {
    let b = active();
    let mut value = serde_json::to_value(&b).unwrap();
    value.as_object_mut().unwrap().remove("reason_labels");
    let loaded: DeskBook = serde_json::from_value(value).unwrap();
    assert!(loaded.reason_labels().is_empty());
}
