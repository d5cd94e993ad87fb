//! Unit tests of the desk book's tools, one rule per test: quick replies
//! (language fallback, owner visibility), macro plans (all-or-nothing),
//! attachments (allow-list, limits, readers) and analyst links.

use super::book_tests::{active, book, code, person_op, snapshot};
use super::ops::{MAX_IMAGE_BYTES, check_media};
use super::*;

fn quick_reply(shortcut: &str, owner: Option<&str>) -> DeskOp {
    DeskOp::UpsertQuickReply {
        quick_reply: QuickReply {
            shortcut: shortcut.into(),
            texts: [("pt-BR", "Olá!"), ("en", "Hello!")]
                .map(|(l, t)| (l.to_string(), t.to_string()))
                .into(),
            owner: owner.map(Into::into),
        },
    }
}

fn macro_op(ops: Vec<DeskOp>) -> DeskOp {
    DeskOp::Macro {
        conversation_id: "k1".into(),
        macro_id: "m".into(),
        by: "a".into(),
        ops,
    }
}

fn tag_op(tag: &str) -> DeskOp {
    DeskOp::Tag {
        conversation_id: "k1".into(),
        tag: tag.into(),
        by: "a".into(),
    }
}

#[test]
fn a_macro_whose_later_step_fails_leaves_the_book_unchanged() {
    let mut b = active();
    let before = snapshot(&b);
    let transfer_to_nobody = DeskOp::Transfer {
        conversation_id: "k1".into(),
        from: "a".into(),
        to: "nobody".into(),
        now_ms: 20,
    };
    let failing = macro_op(vec![tag_op("x"), tag_op("y"), transfer_to_nobody]);
    assert_eq!(code(b.apply(&failing)), "unknown_person");
    assert_eq!(snapshot(&b), before, "a refused macro changed the book");
    // The same steps without the failing one are all applied, and a replay of the one
    // logged operation on the earlier book gives the same book.
    let working = macro_op(vec![tag_op("x"), tag_op("y")]);
    let logged = serde_json::to_string(&working).unwrap();
    b.apply(&working).unwrap();
    let tags = &b.record("k1").unwrap().tags;
    assert!(tags.contains("x") && tags.contains("y"), "{tags:?}");
    let mut replayed = active();
    replayed
        .apply(&serde_json::from_str::<DeskOp>(&logged).unwrap())
        .unwrap();
    assert_eq!(snapshot(&replayed), snapshot(&b));
}

#[test]
fn a_macro_reports_what_each_of_its_steps_implies() {
    let mut b = active();
    let close = DeskOp::Close {
        conversation_id: "k1".into(),
        by: "a".into(),
        reason: "resolved".into(),
        closing_message: None,
        now_ms: 40,
    };
    let applied = b.apply(&macro_op(vec![tag_op("x"), close])).unwrap();
    assert!(matches!(
        applied.notices.as_slice(),
        [Notice::Closed { conversation_id, .. }] if conversation_id == "k1"
    ));
    assert!(applied.handle_ms.is_some());
    assert_eq!(b.record("k1").unwrap().state, ChatState::Closed);
}

#[test]
fn quick_reply_expansion_per_language_and_owner() {
    let mut b = book();
    assert_eq!(
        code(b.apply(&quick_reply("hello", None))),
        "invalid_shortcut"
    );
    assert_eq!(
        code(b.apply(&quick_reply("/Hello", None))),
        "invalid_shortcut"
    );
    b.apply(&quick_reply("/hello", None)).unwrap();
    b.apply(&quick_reply("/mine", Some("a"))).unwrap();
    assert_eq!(b.expand("b", "/hello", "en").as_deref(), Some("Hello!"));
    assert_eq!(b.expand("b", "/hello", "pt-BR").as_deref(), Some("Olá!"));
    assert_eq!(b.expand("b", "/hello", "pt").as_deref(), Some("Olá!"));
    assert_eq!(b.expand("b", "/hello", "es").as_deref(), Some("Hello!"));
    assert_eq!(b.expand("b", "/hello there", "en"), None);
    assert_eq!(b.expand("a", "/mine", "en").as_deref(), Some("Hello!"));
    assert_eq!(b.expand("b", "/mine", "en"), None);
    assert_eq!(b.quick_replies_for("b").len(), 1);
    b.apply(&DeskOp::DeleteQuickReply {
        shortcut: "/hello".into(),
    })
    .unwrap();
    assert_eq!(b.expand("b", "/hello", "en"), None);
}

#[test]
fn macro_plan_is_all_or_nothing() {
    let mut b = active();
    b.apply(&quick_reply("/hello", None)).unwrap();
    let upsert = |actions: Vec<MacroAction>| DeskOp::UpsertMacro {
        macro_: Macro {
            id: "m".into(),
            name: "M".into(),
            actions,
        },
    };
    let tag = MacroAction::Tag { tag: "x".into() };
    let say = MacroAction::SendQuickReply {
        shortcut: "/hello".into(),
    };
    let close = MacroAction::Close {
        reason: "resolved".into(),
    };
    b.apply(&upsert(vec![tag.clone(), say.clone(), close.clone()]))
        .unwrap();
    let steps = b.plan_macro("m", "k1", "a", "en", 30).unwrap();
    assert_eq!(steps.len(), 3);
    assert!(matches!(&steps[1], MacroStep::Say { text } if text == "Hello!"));
    assert!(matches!(
        &steps[2],
        MacroStep::Op {
            op: DeskOp::Close { .. }
        }
    ));
    assert_eq!(b.record("k1").unwrap().state, ChatState::InProgress);
    // Saying after closing fails the whole plan.
    b.apply(&upsert(vec![tag, close, say])).unwrap();
    let before = snapshot(&b);
    assert_eq!(
        b.plan_macro("m", "k1", "a", "en", 30).unwrap_err().code(),
        "already_closed"
    );
    assert_eq!(
        b.plan_macro("zz", "k1", "a", "en", 30).unwrap_err().code(),
        "unknown_macro"
    );
    assert_eq!(
        b.plan_macro("m", "k1", "b", "en", 30).unwrap_err().code(),
        "not_participant"
    );
    assert_eq!(snapshot(&b), before);
    for step in b.plan_macro("m", "k1", "a", "en", 30).unwrap_or_default() {
        if let MacroStep::Op { op } = step {
            b.apply(&op).unwrap();
        }
    }
    assert!(b.record("k1").unwrap().tags.is_empty());
}

#[test]
fn attachment_limits_and_readers() {
    let mut b = active();
    let att = |id: &str, uploader: &str, ct: &str, size: u64, kind| DeskOp::AddAttachment {
        attachment: Attachment {
            id: id.into(),
            conversation_id: "k1".into(),
            uploader: uploader.into(),
            file_name: "f".into(),
            content_type: ct.into(),
            size,
            kind,
            now_ms: 11,
        },
    };
    use AttachmentKind::*;
    assert_eq!(kind_for("IMAGE/PNG; x=y"), Some(Image));
    assert_eq!(kind_for("application/x-msdownload"), None);
    assert_eq!(check_media("image/png", MAX_IMAGE_BYTES), Ok(Image));
    let big = att("x", "r1", "image/png", MAX_IMAGE_BYTES + 1, Image);
    assert_eq!(code(b.apply(&big)), "attachment_too_large");
    let exe = att("x", "r1", "application/x-msdownload", 1, File);
    assert_eq!(code(b.apply(&exe)), "unsupported_media_type");
    assert_eq!(
        code(b.apply(&att("x", "c", "image/png", 1, Image))),
        "not_participant"
    );
    b.apply(&att("x", "r1", "image/png", 1, Image)).unwrap();
    b.apply(&att("y", "a", "application/pdf", 1, File)).unwrap();
    assert_eq!(b.attachment("y").unwrap().kind, File);
    assert!(b.may_read_attachment(&Who::Requester("r1".into()), "x"));
    assert!(b.may_read_attachment(&Who::Person("a".into()), "x"));
    assert!(!b.may_read_attachment(&Who::Person("b".into()), "x"));
    assert!(!b.may_read_attachment(&Who::Requester("r2".into()), "x"));
    assert!(!b.may_read_conversation(&Who::Person("r1".into()), "k1"));
}

#[test]
fn analyst_chat_needs_a_mutual_link() {
    let mut b = book();
    b.apply(&person_op("m", PersonKind::Analyst, 2)).unwrap();
    let link = |a: &str, o: &str| DeskOp::LinkContact {
        analyst: a.into(),
        other: o.into(),
    };
    let start = DeskOp::StartAnalystChat {
        conversation_id: "x1".into(),
        from: "n".into(),
        to: "m".into(),
        now_ms: 1,
    };
    b.apply(&link("n", "m")).unwrap();
    assert!(!b.may_chat("n", "m"));
    assert_eq!(code(b.apply(&start)), "not_linked");
    b.apply(&link("m", "n")).unwrap();
    assert!(b.may_chat("n", "m") && b.may_chat("m", "n"));
    b.apply(&link("n", "a")).unwrap();
    b.apply(&link("a", "n")).unwrap();
    assert!(!b.may_chat("n", "a"), "a is an attendant");
    b.apply(&start).unwrap();
    assert!(b.may_read_conversation(&Who::Person("m".into()), "x1"));
    assert!(!b.may_read_conversation(&Who::Person("a".into()), "x1"));
    b.apply(&DeskOp::UnlinkContact {
        analyst: "m".into(),
        other: "n".into(),
    })
    .unwrap();
    assert!(!b.may_chat("n", "m"));
}
