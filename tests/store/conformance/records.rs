//! Conformance checks on the other records: tickets (lifecycle, request keys, numbering
//! under concurrency), parameters, the desk log, tokens, invalid input and a closed store.

use std::collections::BTreeSet;
use std::sync::Arc;

use ponte::store::{NewToken, Store, StoreError, TicketStatus};
use sha2::Digest;

use super::*;

pub async fn tickets_lifecycle(store: &Arc<dyn Store>) {
    let requester = unique_id("requester");
    let conversation = store
        .create_conversation(sample_conversation(&requester))
        .await
        .unwrap();

    let mut new = sample_ticket(&requester, Some(&conversation.id));
    new.tags = vec!["origem-chat".into(), "origem-chat".into(), "urgente".into()];
    let first = store.create_ticket(new.clone()).await.unwrap();
    let first_serial = serial_of(&first.number);
    assert!(first_serial >= 1);
    assert_eq!(first.requester_id, requester);
    assert_eq!(first.activity_id, new.activity_id);
    assert_eq!(first.contract, new.contract);
    assert_eq!(first.group, new.group);
    assert_eq!(first.description, new.description);
    assert_eq!(first.status, TicketStatus::Open);
    assert_eq!(
        first.tags,
        vec!["origem-chat", "urgente"],
        "tags are deduplicated"
    );
    assert_eq!(
        first.conversation_id.as_deref(),
        Some(conversation.id.as_str())
    );
    assert_eq!(
        store.get_ticket(&first.number).await.unwrap().as_ref(),
        Some(&first),
        "stored ticket reads back equal"
    );
    let linked = store
        .get_conversation(&conversation.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(linked.ticket_number.as_deref(), Some(first.number.as_str()));
    assert_eq!(
        linked.version, conversation.version,
        "linking a ticket keeps the version"
    );

    let mut in_progress = sample_ticket(&requester, None);
    in_progress.status = TicketStatus::InProgress;
    let second = store.create_ticket(in_progress).await.unwrap();
    assert_eq!(
        serial_of(&second.number),
        first_serial + 1,
        "numbers are sequential"
    );
    let someone_else = store
        .create_ticket(sample_ticket(&unique_id("requester"), None))
        .await
        .unwrap();

    let open = store.open_tickets_for(&requester).await.unwrap();
    assert_eq!(
        open,
        vec![first.clone(), second.clone()],
        "open and in progress, oldest first"
    );

    let closed = store
        .set_ticket_status(&second.number, TicketStatus::Closed)
        .await
        .unwrap();
    assert_eq!(closed.status, TicketStatus::Closed);
    let open = store.open_tickets_for(&requester).await.unwrap();
    assert_eq!(open, vec![first.clone()], "closed tickets are not open");

    let tagged = store
        .add_ticket_tags(&first.number, &["chat-perdido".into(), "urgente".into()])
        .await
        .unwrap();
    assert_eq!(tagged.tags, vec!["origem-chat", "urgente", "chat-perdido"]);
    assert_eq!(
        store.get_ticket(&first.number).await.unwrap().unwrap().tags,
        tagged.tags
    );

    // Resuming a ticket in a new conversation links both ways.
    let resumed_in = store
        .create_conversation(sample_conversation(&requester))
        .await
        .unwrap();
    store
        .attach_ticket(&second.number, &resumed_in.id)
        .await
        .unwrap();
    let attached = store.get_ticket(&second.number).await.unwrap().unwrap();
    assert_eq!(
        attached.conversation_id.as_deref(),
        Some(resumed_in.id.as_str())
    );
    let resumed_after = store
        .get_conversation(&resumed_in.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        resumed_after.ticket_number.as_deref(),
        Some(second.number.as_str())
    );

    let unknown_number = "T-999999";
    assert_eq!(store.get_ticket(unknown_number).await.unwrap(), None);
    expect_code(
        store.attach_ticket(unknown_number, &resumed_in.id).await,
        "not_found",
        "attaching an unknown ticket",
    );
    expect_code(
        store.attach_ticket(&first.number, &unique_id("conv")).await,
        "not_found",
        "attaching to an unknown conversation",
    );
    expect_code(
        store.add_ticket_tags(unknown_number, &["x".into()]).await,
        "not_found",
        "tagging an unknown ticket",
    );
    expect_code(
        store
            .set_ticket_status(unknown_number, TicketStatus::Closed)
            .await,
        "not_found",
        "closing an unknown ticket",
    );
    expect_code(
        store.add_ticket_tags(&first.number, &[" ".into()]).await,
        "invalid_input",
        "a blank tag",
    );
    expect_code(
        store
            .create_ticket(sample_ticket(&requester, Some(&unique_id("conv"))))
            .await,
        "not_found",
        "a ticket for an unknown conversation",
    );
    // The failed creations above must not have used up a number.
    let next = store
        .create_ticket(sample_ticket(&requester, None))
        .await
        .unwrap();
    assert_eq!(
        serial_of(&next.number),
        serial_of(&someone_else.number) + 1,
        "a failed creation leaves no gap"
    );
}

/// A ticket created twice with the same request key is created once: the second call
/// returns the first ticket, and the counter does not move.
pub async fn ticket_request_key_is_idempotent(store: &Arc<dyn Store>) {
    let requester = unique_id("idem-requester");
    let mut new = sample_ticket(&requester, None);
    new.request_key = Some(unique_id("conversation-x:1"));
    let first = store.create_ticket(new.clone()).await.unwrap();
    let again = store.create_ticket(new.clone()).await.unwrap();
    assert_eq!(first.number, again.number);
    assert_eq!(store.open_tickets_for(&requester).await.unwrap().len(), 1);
    new.request_key = Some(unique_id("conversation-x:2"));
    let other = store.create_ticket(new).await.unwrap();
    assert_ne!(other.number, first.number);
}

pub async fn ticket_numbers_concurrent(store: &Arc<dyn Store>) {
    let requester = unique_id("requester");
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let task_store = store.clone();
        let new = sample_ticket(&requester, None);
        tasks.push(tokio::spawn(
            async move { task_store.create_ticket(new).await },
        ));
    }
    let mut serials = BTreeSet::new();
    for task in tasks {
        let ticket = task.await.unwrap().unwrap();
        assert!(
            serials.insert(serial_of(&ticket.number)),
            "ticket numbers are unique"
        );
    }
    let first = *serials.first().unwrap();
    let last = *serials.last().unwrap();
    assert_eq!(
        last - first + 1,
        50,
        "50 concurrent tickets take 50 consecutive numbers"
    );
    assert_eq!(store.open_tickets_for(&requester).await.unwrap().len(), 50);
}

fn serial_of(number: &str) -> i64 {
    let digits = number
        .strip_prefix("T-")
        .unwrap_or_else(|| panic!("ticket number {number:?} must start with T-"));
    assert_eq!(
        digits.len(),
        6,
        "ticket number {number:?} must have 6 digits"
    );
    digits
        .parse()
        .unwrap_or_else(|_| panic!("ticket number {number:?} must end in digits"))
}

pub async fn parameters_roundtrip(store: &Arc<dyn Store>) {
    let named = unique_id("setting");
    store.set_parameter("299", "on").await.unwrap();
    store.set_parameter("447", "").await.unwrap();
    store
        .set_parameter(&named, "Atendente indisponível — volte já")
        .await
        .unwrap();
    let all = store.parameters().await.unwrap();
    assert_eq!(all.get("299").map(String::as_str), Some("on"));
    assert_eq!(
        all.get("447").map(String::as_str),
        Some(""),
        "an empty value is a value"
    );
    assert_eq!(
        all.get(&named).map(String::as_str),
        Some("Atendente indisponível — volte já")
    );

    store.set_parameter("299", "off").await.unwrap();
    assert_eq!(
        store.parameter("299").await.unwrap().as_deref(),
        Some("off"),
        "set replaces"
    );
    assert_eq!(store.parameter(&unique_id("missing")).await.unwrap(), None);
    expect_code(
        store.set_parameter("", "x").await,
        "invalid_input",
        "an empty parameter key",
    );
}

/// The desk log keeps operations in order, a snapshot drops the ones it covers, and what is
/// not JSON is refused without touching the log.
pub async fn desk_log_roundtrip(store: &Arc<dyn Store>) {
    let ops = [
        r#"{"op":"a","n":1}"#,
        r#"{"op":"b","n":2}"#,
        r#"{"op":"c","n":3}"#,
    ];
    let mut seqs = Vec::new();
    for op in ops {
        seqs.push(store.desk_append(op).await.unwrap());
    }
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");
    let loaded = store.desk_load().await.unwrap();
    let tail: Vec<(i64, String)> = seqs
        .iter()
        .zip(ops)
        .map(|(seq, op)| (*seq, op.to_string()))
        .collect();
    assert!(loaded.ops.ends_with(&tail), "{loaded:?}");

    assert!(matches!(
        store.desk_append("not json").await,
        Err(StoreError::InvalidInput(_))
    ));
    store
        .desk_snapshot(r#"{"state":"after b"}"#, seqs[1])
        .await
        .unwrap();
    let loaded = store.desk_load().await.unwrap();
    assert_eq!(
        loaded.snapshot,
        Some((r#"{"state":"after b"}"#.to_string(), seqs[1]))
    );
    assert_eq!(loaded.ops, vec![(seqs[2], ops[2].to_string())]);
    // Sequence numbers are never reused after the covered operations are dropped.
    let next = store.desk_append(r#"{"op":"d"}"#).await.unwrap();
    assert!(next > seqs[2]);
}

/// Issued tokens are stored by hash with whom they identify, listed without secrets, refused
/// twice under one id or hash, and gone once deleted.
pub async fn tokens_roundtrip(store: &Arc<dyn Store>) {
    let id = unique_id("tok");
    let sha256: String = sha2::Sha256::digest(id.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let new = NewToken {
        id: id.clone(),
        sha256: sha256.clone(),
        role: "requester".into(),
        subject: "maria".into(),
        groups: vec!["rh".into(), "ti".into()],
        expires_at: Some(4_102_444_800_000),
    };
    let stored = store.insert_token(new.clone()).await.unwrap();
    assert_eq!(stored.id, id);
    assert_eq!(stored.groups, ["rh", "ti"]);
    assert_eq!(stored.expires_at, Some(4_102_444_800_000));
    assert!(stored.created_at > 0);
    let listed = store.tokens().await.unwrap();
    assert_eq!(
        listed.iter().find(|token| token.id == id),
        Some(&stored),
        "a stored token is listed as it was stored"
    );

    let mut same_hash = new.clone();
    same_hash.id = unique_id("tok");
    expect_code(
        store.insert_token(same_hash).await,
        "already_exists",
        "a second token with the same hash",
    );
    let mut same_id = new.clone();
    same_id.sha256 = "f".repeat(64);
    expect_code(
        store.insert_token(same_id).await,
        "already_exists",
        "a second token with the same id",
    );
    let mut plaintext = new.clone();
    plaintext.id = unique_id("tok");
    plaintext.sha256 = "not-a-hash".into();
    expect_code(
        store.insert_token(plaintext).await,
        "invalid_input",
        "a token stored without its hash",
    );
    let mut long_subject = new.clone();
    long_subject.id = unique_id("tok");
    long_subject.sha256 = "e".repeat(64);
    long_subject.subject = "s".repeat(ponte::store::MAX_ID_LEN + 1);
    expect_code(
        store.insert_token(long_subject).await,
        "invalid_input",
        "an oversized token subject",
    );

    let deleted = store.delete_token(&id).await.unwrap();
    assert_eq!(deleted, stored);
    assert!(
        store
            .tokens()
            .await
            .unwrap()
            .iter()
            .all(|token| token.id != id),
        "a deleted token is not listed"
    );
    expect_code(
        store.delete_token(&id).await,
        "not_found",
        "deleting a token twice",
    );
}

pub async fn invalid_input_rejected(store: &Arc<dyn Store>) {
    let mut blank_id = sample_conversation("requester");
    blank_id.id = "  ".into();
    expect_code(
        store.create_conversation(blank_id).await,
        "invalid_input",
        "a blank conversation id",
    );
    let mut control = sample_conversation("requester");
    control.requester_id = "bad\nid".into();
    expect_code(
        store.create_conversation(control).await,
        "invalid_input",
        "a requester id with a newline",
    );
    expect_code(
        store.get_conversation("").await,
        "invalid_input",
        "getting an empty id",
    );

    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    let long_client_id = "x".repeat(ponte::store::MAX_ID_LEN + 1);
    expect_code(
        store
            .append_message(text_message(&conversation.id, "x", Some(&long_client_id)))
            .await,
        "invalid_input",
        "an oversized client message id",
    );
    let stored = store.messages_after(&conversation.id, 0, 10).await.unwrap();
    assert!(stored.is_empty(), "rejected input stores nothing");
}

pub async fn closed_store_rejects_calls(store: &Arc<dyn Store>) {
    let conversation = store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap();
    store.close().await;
    expect_code(
        store
            .append_message(text_message(&conversation.id, "late", None))
            .await,
        "store_closed",
        "appending after close",
    );
    expect_code(
        store.get_conversation(&conversation.id).await,
        "store_closed",
        "reading after close",
    );
    // A second close is harmless.
    store.close().await;
}
