//! Conformance checks on the bridge's records: bridge definitions, the outbox written with a
//! step (atomically, with the right `seq`), lane order and retry times, attempts and their
//! outcomes, replays, health figures, inbound receipts, accept deadlines and the files that crossed a bridge. Every check
//! works on its own bridges and conversations, so the global listings (`due_outbox`,
//! `due_deadlines`) are filtered down to what the check wrote.

use std::sync::Arc;

use ponte::store::{
    AttemptOutcome, BridgeDeadline, BridgeFile, BridgeRecord, DeliveryAttempt, FileOrigin,
    InboundReceipt, NewOutboxEvent, OutboxEvent, OutboxFilter, OutboxStatus, Replay, Step,
    StepTarget, Store, StoreError,
};
use serde_json::json;

use super::*;

fn now() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_millis()).unwrap()
}

/// An hour from now: every event created so far is due by then.
fn later() -> i64 {
    now() + 3_600_000
}

fn bridge(id: &str, enabled: bool) -> BridgeRecord {
    BridgeRecord {
        id: id.to_owned(),
        config: json!({"kind": "webhook", "endpoint": "https://chat.example/hook"}),
        enabled,
        disabled_reason: None,
        updated_at: 0,
    }
}

fn event(bridge_id: &str, conversation_id: &str, message_index: Option<usize>) -> NewOutboxEvent {
    NewOutboxEvent {
        id: unique_id("msg"),
        bridge_id: bridge_id.to_owned(),
        conversation_id: conversation_id.to_owned(),
        event_type: "message.created".into(),
        data: json!({"text": "olá", "n": [1, 2]}),
        message_index,
    }
}

fn attempt(event_id: &str, number: u32, status_code: Option<u16>, at: i64) -> DeliveryAttempt {
    DeliveryAttempt {
        event_id: event_id.to_owned(),
        attempt: number,
        at,
        status_code,
        latency_ms: 42,
        error: match status_code {
            Some(200..=299) => None,
            Some(code) => Some(format!("status {code}")),
            None => Some("connection refused".into()),
        },
    }
}

/// A bridge stored enabled, with a fresh id.
async fn enabled_bridge(store: &Arc<dyn Store>) -> String {
    let id = unique_id("bridge");
    store.put_bridge(bridge(&id, true)).await.unwrap();
    id
}

/// A fresh conversation without messages.
async fn conversation(store: &Arc<dyn Store>) -> String {
    store
        .create_conversation(sample_conversation(&unique_id("requester")))
        .await
        .unwrap()
        .id
}

/// Puts `events` in the outbox with a step that keeps the conversation and appends nothing.
async fn enqueue_with_step(
    store: &Arc<dyn Store>,
    conversation_id: &str,
    events: Vec<NewOutboxEvent>,
) {
    store
        .commit_step(Step {
            target: StepTarget::Keep {
                id: conversation_id.to_owned(),
            },
            messages: Vec::new(),
            outbox: events,
            deadline: None,
        })
        .await
        .unwrap();
}

/// The due events of the given bridges, in the order the store gave them.
async fn due_of(store: &Arc<dyn Store>, now: i64, bridges: &[&str]) -> Vec<OutboxEvent> {
    store
        .due_outbox(now, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|event| bridges.contains(&event.bridge_id.as_str()))
        .collect()
}

fn ids(events: &[OutboxEvent]) -> Vec<&str> {
    events.iter().map(|event| event.id.as_str()).collect()
}

/// Bridges are stored, listed by id, turned off with a reason and on again, and deleted.
pub async fn bridges_put_list_enable_delete(store: &Arc<dyn Store>) {
    let first = unique_id("bridge");
    let second = unique_id("bridge");
    let stored = store.put_bridge(bridge(&second, true)).await.unwrap();
    assert_eq!(stored.config, bridge(&second, true).config);
    store.put_bridge(bridge(&first, false)).await.unwrap();

    let listed: Vec<BridgeRecord> = store
        .bridges()
        .await
        .unwrap()
        .into_iter()
        .filter(|record| record.id == first || record.id == second)
        .collect();
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [first.as_str(), second.as_str()],
        "bridges are listed by id"
    );
    assert!(!listed[0].enabled);
    assert!(listed[1].enabled);

    // A second put replaces the definition.
    let mut replaced = bridge(&second, true);
    replaced.config = json!({"kind": "webhook", "endpoint": "https://other.example/hook"});
    store.put_bridge(replaced.clone()).await.unwrap();

    let off = store
        .set_bridge_enabled(&second, false, Some("gone"))
        .await
        .unwrap();
    assert!(!off.enabled);
    assert_eq!(off.disabled_reason.as_deref(), Some("gone"));
    assert_eq!(
        off.config, replaced.config,
        "the replaced definition is kept"
    );
    let on = store.set_bridge_enabled(&second, true, None).await.unwrap();
    assert!(on.enabled);
    assert_eq!(
        on.disabled_reason, None,
        "turning on forgets why it was off"
    );

    store.delete_bridge(&first).await.unwrap();
    assert!(
        !store.bridges().await.unwrap().iter().any(|r| r.id == first),
        "a deleted bridge is not listed"
    );
    expect_code(
        store.set_bridge_enabled(&first, true, None).await,
        "not_found",
        "enabling a deleted bridge",
    );
    expect_code(
        store.delete_bridge(&first).await,
        "not_found",
        "deleting an unknown bridge",
    );
}

/// Outbox events and the deadline are written with their step or not at all: the seq comes
/// from the message named by `message_index`, or the conversation's `last_seq`; a step
/// refused for a version conflict, or a replayed step, writes none of them.
pub async fn outbox_written_with_step(store: &Arc<dyn Store>) {
    let bridge_id = enabled_bridge(store).await;
    let new = sample_conversation(&unique_id("requester"));
    let id = new.id.clone();
    let handoff = event(&bridge_id, &id, None);
    let about_second = event(&bridge_id, &id, Some(1));
    let due_at = now() + 60_000;
    let before = now();
    let created = store
        .commit_step(Step {
            target: StepTarget::Create(new),
            messages: vec![
                text_message(&id, "quero falar com alguém", Some("in-1")),
                text_message(&id, "vou te transferir", None),
                text_message(&id, "aguarde", None),
            ],
            outbox: vec![handoff.clone(), about_second.clone()],
            deadline: Some(BridgeDeadline {
                conversation_id: id.clone(),
                bridge_id: bridge_id.clone(),
                due_at,
            }),
        })
        .await
        .unwrap();
    let conversation = created.conversation.unwrap();
    assert_eq!(conversation.last_seq, 3);

    let stored = store.outbox_event(&handoff.id).await.unwrap().unwrap();
    assert_eq!(
        stored.seq, 3,
        "without a message index, seq is last_seq after the step"
    );
    assert_eq!(stored.bridge_id, bridge_id);
    assert_eq!(stored.conversation_id, id);
    assert_eq!(stored.event_type, "message.created");
    assert_eq!(stored.data, handoff.data);
    assert_eq!(stored.status, OutboxStatus::Pending);
    assert_eq!(stored.attempts, 0);
    assert!(stored.created_at >= before);
    assert_eq!(stored.next_attempt_at, stored.created_at, "due at once");
    assert_eq!(stored.last_error, None);
    assert_eq!(stored.delivered_at, None);
    let second = store.outbox_event(&about_second.id).await.unwrap().unwrap();
    assert_eq!(
        second.seq, 2,
        "seq is the seq of the message at message_index"
    );
    assert!(
        second.position > stored.position,
        "events keep the step's order"
    );
    assert!(
        store
            .due_deadlines(due_at)
            .await
            .unwrap()
            .iter()
            .any(|d| d.conversation_id == id && d.bridge_id == bridge_id && d.due_at == due_at),
        "the deadline is set with the step"
    );

    // A conflicting step writes no event and no deadline.
    let stale = conversation.to_update();
    let mut fresh = conversation.to_update();
    fresh.machine_state = json!({"moved": true});
    store
        .commit_step(Step {
            target: StepTarget::Update(fresh),
            messages: Vec::new(),
            outbox: Vec::new(),
            deadline: None,
        })
        .await
        .unwrap();
    let lost = event(&bridge_id, &id, Some(0));
    let refused = store
        .commit_step(Step {
            target: StepTarget::Update(stale),
            messages: vec![text_message(&id, "tarde demais", Some("in-2"))],
            outbox: vec![lost.clone()],
            deadline: Some(BridgeDeadline {
                conversation_id: id.clone(),
                bridge_id: bridge_id.clone(),
                due_at: due_at + 1,
            }),
        })
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict { .. })),
        "{refused:?}"
    );
    assert_eq!(
        store.outbox_event(&lost.id).await.unwrap(),
        None,
        "a refused step puts nothing in the outbox"
    );
    let deadlines = store.due_deadlines(due_at + 1).await.unwrap();
    let ours: Vec<_> = deadlines
        .iter()
        .filter(|d| d.conversation_id == id)
        .collect();
    assert_eq!(ours.len(), 1);
    assert_eq!(
        ours[0].due_at, due_at,
        "a refused step leaves the deadline as it was"
    );

    // A replayed input writes none of its events or deadline.
    let replayed_event = event(&bridge_id, &id, None);
    let replay = store
        .commit_step(Step {
            target: StepTarget::Keep { id: id.clone() },
            messages: vec![text_message(&id, "quero falar com alguém", Some("in-1"))],
            outbox: vec![replayed_event.clone()],
            deadline: Some(BridgeDeadline {
                conversation_id: id.clone(),
                bridge_id: bridge_id.clone(),
                due_at: due_at + 2,
            }),
        })
        .await
        .unwrap();
    assert!(replay.duplicate.is_some());
    assert_eq!(store.outbox_event(&replayed_event.id).await.unwrap(), None);
    assert!(
        !store
            .due_deadlines(due_at + 2)
            .await
            .unwrap()
            .iter()
            .any(|d| d.conversation_id == id && d.due_at != due_at),
        "a duplicate step sets no deadline"
    );

    // A webhook-id already stored fails the whole step.
    let reused = NewOutboxEvent {
        id: handoff.id.clone(),
        ..event(&bridge_id, &id, None)
    };
    let result = store
        .commit_step(Step {
            target: StepTarget::Keep { id: id.clone() },
            messages: vec![text_message(&id, "de novo", Some("in-3"))],
            outbox: vec![reused],
            deadline: None,
        })
        .await;
    assert!(
        result.is_err(),
        "a reused webhook-id is refused: {result:?}"
    );
    assert_eq!(
        store.message_by_client_id(&id, "in-3").await.unwrap(),
        None,
        "the step's message goes with it"
    );

    // Outside a step, each event carries its seq.
    let outside = event(&bridge_id, &id, None);
    store
        .enqueue_outbox(vec![(outside.clone(), 7)])
        .await
        .unwrap();
    assert_eq!(
        store.outbox_event(&outside.id).await.unwrap().unwrap().seq,
        7
    );
}

/// A lane's second event is never due before its first is delivered or dead, while another
/// conversation's lane is due on its own; retry times are respected; a disabled bridge's
/// events are not due.
pub async fn outbox_lane_order_and_retry(store: &Arc<dyn Store>) {
    let bridge_id = enabled_bridge(store).await;
    let first_conversation = conversation(store).await;
    let second_conversation = conversation(store).await;
    let one = event(&bridge_id, &first_conversation, None);
    let two = event(&bridge_id, &first_conversation, None);
    let three = event(&bridge_id, &first_conversation, None);
    enqueue_with_step(store, &first_conversation, vec![one.clone(), two.clone()]).await;
    enqueue_with_step(store, &first_conversation, vec![three.clone()]).await;
    let other = event(&bridge_id, &second_conversation, None);
    enqueue_with_step(store, &second_conversation, vec![other.clone()]).await;

    let due = due_of(store, later(), &[&bridge_id]).await;
    assert_eq!(
        ids(&due),
        [one.id.as_str(), other.id.as_str()],
        "one head per lane"
    );
    assert!(
        store
            .next_outbox_due()
            .await
            .unwrap()
            .is_some_and(|at| at <= due[0].next_attempt_at),
        "the next due time is no later than a due head"
    );

    // The head waits for its retry time; its lane waits behind it; the other lane does not.
    let retry_at = now() + 600_000;
    let retried = store
        .record_attempt(
            attempt(&one.id, 1, Some(503), now()),
            AttemptOutcome::Retry {
                next_attempt_at: retry_at,
            },
        )
        .await
        .unwrap();
    assert_eq!(retried.status, OutboxStatus::Pending);
    assert_eq!(retried.next_attempt_at, retry_at);
    let due = due_of(store, retry_at - 1, &[&bridge_id]).await;
    assert_eq!(
        ids(&due),
        [other.id.as_str()],
        "a lane waits for its head's retry"
    );
    let due = due_of(store, retry_at, &[&bridge_id]).await;
    assert_eq!(
        ids(&due),
        [other.id.as_str(), one.id.as_str()],
        "due by next_attempt_at, then position"
    );
    let limited = store.due_outbox(retry_at, 1).await.unwrap();
    assert_eq!(limited.len(), 1, "at most limit");

    // Delivered: the next of the lane is the head. Dead: the one after.
    store
        .record_attempt(
            attempt(&one.id, 2, Some(200), now()),
            AttemptOutcome::Delivered,
        )
        .await
        .unwrap();
    // `two` was written before `other`: not later, and at a lower position.
    let due = due_of(store, retry_at, &[&bridge_id]).await;
    assert_eq!(ids(&due), [two.id.as_str(), other.id.as_str()]);
    store
        .record_attempt(attempt(&two.id, 1, Some(400), now()), AttemptOutcome::Dead)
        .await
        .unwrap();
    let due = due_of(store, retry_at, &[&bridge_id]).await;
    assert_eq!(ids(&due), [three.id.as_str(), other.id.as_str()]);

    // A disabled bridge's events are not due; enabled again, they are.
    store
        .set_bridge_enabled(&bridge_id, false, Some("admin"))
        .await
        .unwrap();
    assert!(due_of(store, retry_at, &[&bridge_id]).await.is_empty());
    store
        .set_bridge_enabled(&bridge_id, true, None)
        .await
        .unwrap();
    assert_eq!(due_of(store, retry_at, &[&bridge_id]).await.len(), 2);

    // A bridge without a definition delivers nothing either.
    let undefined = unique_id("bridge");
    let orphan = event(&undefined, &second_conversation, None);
    enqueue_with_step(store, &second_conversation, vec![orphan]).await;
    assert!(due_of(store, retry_at, &[&undefined]).await.is_empty());
}

/// An attempt is recorded with its outcome; the event's attempts, status, error and
/// delivery time follow. Replays (one or a range) put dead and delivered events back,
/// keeping their ids; health figures follow the attempts.
pub async fn outbox_attempts_replay_and_health(store: &Arc<dyn Store>) {
    let bridge_id = enabled_bridge(store).await;
    let mut events = Vec::new();
    for _ in 0..3 {
        let conversation_id = conversation(store).await;
        let new = event(&bridge_id, &conversation_id, None);
        enqueue_with_step(store, &conversation_id, vec![new.clone()]).await;
        events.push(new);
    }
    let empty = store.bridge_health(&bridge_id).await.unwrap();
    assert_eq!(empty.backlog, 3);
    assert_eq!(empty.dead, 0);
    assert_eq!(empty.last_success_at, None);
    assert_eq!(empty.last_failure_at, None);

    let t = now();
    let failed = store
        .record_attempt(
            attempt(&events[0].id, 1, None, t),
            AttemptOutcome::Retry {
                next_attempt_at: t + 1000,
            },
        )
        .await
        .unwrap();
    assert_eq!(failed.attempts, 1);
    assert_eq!(failed.last_error.as_deref(), Some("connection refused"));
    let delivered = store
        .record_attempt(
            attempt(&events[0].id, 2, Some(204), t + 1000),
            AttemptOutcome::Delivered,
        )
        .await
        .unwrap();
    assert_eq!(delivered.status, OutboxStatus::Delivered);
    assert_eq!(delivered.attempts, 2);
    assert!(delivered.delivered_at.is_some());
    assert_eq!(delivered.last_error, None);
    let dead = store
        .record_attempt(
            attempt(&events[1].id, 1, Some(500), t + 2000),
            AttemptOutcome::Dead,
        )
        .await
        .unwrap();
    assert_eq!(dead.status, OutboxStatus::Dead);
    assert_eq!(dead.last_error.as_deref(), Some("status 500"));
    store
        .record_attempt(
            attempt(&events[2].id, 1, Some(429), t + 3000),
            AttemptOutcome::Retry {
                next_attempt_at: t + 9000,
            },
        )
        .await
        .unwrap();

    let attempts = store.delivery_attempts(&events[0].id).await.unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0], attempt(&events[0].id, 1, None, t));
    assert_eq!(attempts[1].attempt, 2);
    assert_eq!(attempts[1].status_code, Some(204));

    let health = store.bridge_health(&bridge_id).await.unwrap();
    assert_eq!(health.last_success_at, Some(t + 1000));
    assert_eq!(health.last_failure_at, Some(t + 3000));
    assert_eq!(health.failures_since_success, 2);
    assert_eq!(health.backlog, 1);
    assert_eq!(health.dead, 1);

    // Listing: newest first, filters, limit.
    let listed = store
        .outbox_events(OutboxFilter {
            bridge_id: Some(bridge_id.clone()),
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(
        ids(&listed),
        [
            events[2].id.as_str(),
            events[1].id.as_str(),
            events[0].id.as_str()
        ],
        "newest first"
    );
    let dead_only = store
        .outbox_events(OutboxFilter {
            bridge_id: Some(bridge_id.clone()),
            status: Some(OutboxStatus::Dead),
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&dead_only), [events[1].id.as_str()]);
    let of_conversation = store
        .outbox_events(OutboxFilter {
            conversation_id: Some(events[0].conversation_id.clone()),
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(ids(&of_conversation), [events[0].id.as_str()]);
    let one = store
        .outbox_events(OutboxFilter {
            bridge_id: Some(bridge_id.clone()),
            limit: 1,
            ..OutboxFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    let none_yet = store
        .outbox_events(OutboxFilter {
            bridge_id: Some(bridge_id.clone()),
            until: Some(listed[2].created_at),
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .unwrap();
    assert!(none_yet.is_empty(), "until is exclusive");

    // Replay one: the dead event is pending again, due at `now`, with its id.
    let replay_at = t + 10_000;
    let replayed = store
        .replay_outbox(
            Replay::One {
                event_id: events[1].id.clone(),
            },
            replay_at,
        )
        .await
        .unwrap();
    assert_eq!(replayed, 1);
    let back = store.outbox_event(&events[1].id).await.unwrap().unwrap();
    assert_eq!(back.status, OutboxStatus::Pending);
    assert_eq!(back.attempts, 0);
    assert_eq!(back.next_attempt_at, replay_at);
    assert_eq!(back.position, dead.position);
    // Its next attempt is recorded after the history of the first round.
    store
        .record_attempt(
            attempt(&events[1].id, 1, Some(200), t + 11_000),
            AttemptOutcome::Delivered,
        )
        .await
        .unwrap();
    let history = store.delivery_attempts(&events[1].id).await.unwrap();
    assert_eq!(
        history.len(),
        2,
        "a replay keeps the attempts made before it"
    );
    assert_eq!(history[1].status_code, Some(200));
    // A pending event is left alone.
    assert_eq!(
        store
            .replay_outbox(
                Replay::One {
                    event_id: events[2].id.clone(),
                },
                replay_at,
            )
            .await
            .unwrap(),
        0
    );

    // Replay a range: the delivered ones come back; the pending one stays as it was.
    let range = store
        .replay_outbox(
            Replay::Range {
                bridge_id: bridge_id.clone(),
                since: listed[2].created_at,
                until: now() + 1,
            },
            replay_at,
        )
        .await
        .unwrap();
    assert_eq!(range, 2);
    let pending = store
        .outbox_events(OutboxFilter {
            bridge_id: Some(bridge_id.clone()),
            status: Some(OutboxStatus::Pending),
            limit: 10,
            ..OutboxFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(pending.len(), 3);
    assert_eq!(
        store
            .outbox_event(&events[2].id)
            .await
            .unwrap()
            .unwrap()
            .attempts,
        1,
        "a pending event is not reset"
    );
    assert_eq!(store.bridge_health(&bridge_id).await.unwrap().backlog, 3);

    expect_code(
        store
            .record_attempt(
                attempt(&unique_id("nobody"), 1, Some(200), t),
                AttemptOutcome::Delivered,
            )
            .await,
        "not_found",
        "an attempt of an unknown event",
    );
    expect_code(
        store
            .replay_outbox(
                Replay::One {
                    event_id: unique_id("nobody"),
                },
                t,
            )
            .await,
        "not_found",
        "replaying an unknown event",
    );
}

/// The first answer to an inbound event is kept; a repeat gets it back; old receipts are
/// forgotten.
pub async fn inbound_receipts_dedup_and_forget(store: &Arc<dyn Store>) {
    let bridge_id = unique_id("bridge");
    let t = now();
    let first = InboundReceipt {
        bridge_id: bridge_id.clone(),
        webhook_id: "msg_1".into(),
        status: 202,
        body: json!({"accepted": true}),
        received_at: t,
    };
    assert_eq!(
        store.inbound_receipt(&bridge_id, "msg_1").await.unwrap(),
        None
    );
    assert_eq!(
        store
            .record_inbound(first.clone(), t - 60_000)
            .await
            .unwrap(),
        first
    );
    let second = InboundReceipt {
        status: 409,
        body: json!({"accepted": false}),
        received_at: t + 5,
        ..first.clone()
    };
    assert_eq!(
        store.record_inbound(second, t - 60_000).await.unwrap(),
        first,
        "the first receipt wins"
    );
    assert_eq!(
        store.inbound_receipt(&bridge_id, "msg_1").await.unwrap(),
        Some(first.clone())
    );
    // The same webhook-id of another bridge is another event.
    let other_bridge = InboundReceipt {
        bridge_id: unique_id("bridge"),
        ..first.clone()
    };
    assert_eq!(
        store
            .record_inbound(other_bridge.clone(), t - 60_000)
            .await
            .unwrap(),
        other_bridge
    );

    // Recording a later receipt forgets those received before `forget_before`.
    let later_receipt = InboundReceipt {
        webhook_id: "msg_2".into(),
        received_at: t + 120_000,
        ..first.clone()
    };
    store
        .record_inbound(later_receipt.clone(), t + 1)
        .await
        .unwrap();
    assert_eq!(
        store.inbound_receipt(&bridge_id, "msg_1").await.unwrap(),
        None
    );
    assert_eq!(
        store.inbound_receipt(&bridge_id, "msg_2").await.unwrap(),
        Some(later_receipt)
    );
}

/// Deadlines are set with a step (replacing the previous one), listed when due, oldest
/// first, and cleared.
pub async fn deadlines_due_and_cleared(store: &Arc<dyn Store>) {
    let bridge_id = unique_id("bridge");
    let first = conversation(store).await;
    let second = conversation(store).await;
    let t = now() + 1_000_000;
    for (id, due_at) in [(&first, t + 20), (&second, t + 10), (&first, t + 30)] {
        store
            .commit_step(Step {
                target: StepTarget::Keep { id: id.clone() },
                messages: Vec::new(),
                outbox: Vec::new(),
                deadline: Some(BridgeDeadline {
                    conversation_id: id.clone(),
                    bridge_id: bridge_id.clone(),
                    due_at,
                }),
            })
            .await
            .unwrap();
    }
    let ours = |deadlines: Vec<BridgeDeadline>| -> Vec<(String, i64)> {
        deadlines
            .into_iter()
            .filter(|d| d.bridge_id == bridge_id)
            .map(|d| (d.conversation_id, d.due_at))
            .collect()
    };
    assert!(ours(store.due_deadlines(t + 9).await.unwrap()).is_empty());
    assert_eq!(
        ours(store.due_deadlines(t + 30).await.unwrap()),
        [(second.clone(), t + 10), (first.clone(), t + 30)],
        "one deadline per conversation, the last set; oldest first"
    );
    assert!(
        store
            .next_deadline()
            .await
            .unwrap()
            .is_some_and(|at| at <= t + 10),
        "the next deadline is no later than ours"
    );
    store.clear_deadline(&second).await.unwrap();
    store.clear_deadline(&second).await.unwrap();
    assert_eq!(
        ours(store.due_deadlines(t + 30).await.unwrap()),
        [(first.clone(), t + 30)]
    );
    store.clear_deadline(&first).await.unwrap();
    assert!(ours(store.due_deadlines(i64::MAX).await.unwrap()).is_empty());
}

/// A file that crossed a bridge is kept as given, once: a second file under the same id is
/// refused and leaves the first; an empty file or a bad id is refused.
pub async fn bridge_files_kept_once(store: &Arc<dyn Store>) {
    let id = unique_id("file").replace('-', "");
    let file = BridgeFile {
        id: id.clone(),
        conversation_id: conversation(store).await,
        bridge_id: unique_id("bridge"),
        origin: FileOrigin::Agent,
        file_name: "relatório março.pdf".into(),
        content_type: "application/pdf".into(),
        kind: "file".into(),
        size: 123_456,
        source_url: Some("https://files.example/a/relatório.pdf".into()),
        created_at: now(),
    };
    assert_eq!(store.put_bridge_file(file.clone()).await.unwrap(), file);
    assert_eq!(store.bridge_file(&id).await.unwrap(), Some(file.clone()));
    let other = BridgeFile {
        origin: FileOrigin::Requester,
        file_name: "other.png".into(),
        source_url: None,
        ..file.clone()
    };
    assert!(matches!(
        store.put_bridge_file(other).await,
        Err(StoreError::AlreadyExists { .. })
    ));
    assert_eq!(store.bridge_file(&id).await.unwrap(), Some(file.clone()));
    assert_eq!(store.bridge_file("absent").await.unwrap(), None);
    let empty = BridgeFile {
        id: unique_id("file"),
        size: 0,
        ..file.clone()
    };
    assert!(matches!(
        store.put_bridge_file(empty).await,
        Err(StoreError::InvalidInput(_))
    ));
    let unnamed = BridgeFile {
        id: String::new(),
        ..file
    };
    assert!(matches!(
        store.put_bridge_file(unnamed).await,
        Err(StoreError::InvalidInput(_))
    ));
}

/// Malformed bridge input is refused before anything is written.
pub async fn bridge_invalid_input_rejected(store: &Arc<dyn Store>) {
    let bridge_id = enabled_bridge(store).await;
    let id = conversation(store).await;
    expect_code(
        store.put_bridge(bridge("", true)).await,
        "invalid_input",
        "empty bridge id",
    );
    expect_code(
        store.set_bridge_enabled(" ", false, None).await,
        "invalid_input",
        "blank bridge id",
    );
    expect_code(
        store
            .enqueue_outbox(vec![(
                NewOutboxEvent {
                    id: String::new(),
                    ..event(&bridge_id, &id, None)
                },
                1,
            )])
            .await,
        "invalid_input",
        "empty webhook-id",
    );
    let step = |outbox: Vec<NewOutboxEvent>, deadline: Option<BridgeDeadline>| Step {
        target: StepTarget::Keep { id: id.clone() },
        messages: vec![text_message(&id, "oi", None)],
        outbox,
        deadline,
    };
    let stranger = event(&bridge_id, &unique_id("conv"), None);
    expect_code(
        store.commit_step(step(vec![stranger], None)).await,
        "invalid_input",
        "an event of another conversation",
    );
    expect_code(
        store
            .commit_step(step(vec![event(&bridge_id, &id, Some(1))], None))
            .await,
        "invalid_input",
        "a message index out of range",
    );
    expect_code(
        store
            .commit_step(step(vec![event("", &id, None)], None))
            .await,
        "invalid_input",
        "an empty bridge id in an event",
    );
    expect_code(
        store
            .commit_step(step(
                Vec::new(),
                Some(BridgeDeadline {
                    conversation_id: unique_id("conv"),
                    bridge_id: bridge_id.clone(),
                    due_at: 1,
                }),
            ))
            .await,
        "invalid_input",
        "a deadline of another conversation",
    );
    assert!(
        store.messages_after(&id, 0, 10).await.unwrap().is_empty(),
        "refused steps append nothing"
    );
    expect_code(
        store.due_outbox(now(), 0).await,
        "invalid_input",
        "a zero limit",
    );
    expect_code(
        store
            .outbox_events(OutboxFilter {
                limit: 0,
                ..OutboxFilter::default()
            })
            .await,
        "invalid_input",
        "a zero listing limit",
    );
    expect_code(
        store.outbox_event("").await,
        "invalid_input",
        "empty event id",
    );
    expect_code(
        store.delivery_attempts("").await,
        "invalid_input",
        "empty event id",
    );
    expect_code(
        store.bridge_health("").await,
        "invalid_input",
        "empty bridge id",
    );
    expect_code(
        store.clear_deadline("").await,
        "invalid_input",
        "empty conversation id",
    );
    expect_code(
        store.inbound_receipt(&bridge_id, "").await,
        "invalid_input",
        "empty webhook id",
    );
    expect_code(
        store
            .record_inbound(
                InboundReceipt {
                    bridge_id: bridge_id.clone(),
                    webhook_id: String::new(),
                    status: 200,
                    body: json!({}),
                    received_at: 0,
                },
                0,
            )
            .await,
        "invalid_input",
        "recording an empty webhook id",
    );
    let unknown: Result<OutboxEvent, StoreError> = store
        .record_attempt(
            attempt(&unique_id("nobody"), 1, None, 0),
            AttemptOutcome::Dead,
        )
        .await;
    expect_code(unknown, "not_found", "an attempt of an unknown event");
}

/// A bridge that answers again has its waiting retries brought forward, attempts kept; other
/// bridges' retries keep their time.
pub async fn outbox_hasten_brings_a_bridges_retries_forward(store: &Arc<dyn Store>) {
    let bridge_id = enabled_bridge(store).await;
    let other_bridge = enabled_bridge(store).await;
    let conversation_id = conversation(store).await;
    let waiting = event(&bridge_id, &conversation_id, None);
    let elsewhere = event(&other_bridge, &conversation_id, None);
    enqueue_with_step(
        store,
        &conversation_id,
        vec![waiting.clone(), elsewhere.clone()],
    )
    .await;
    let retry_at = now() + 300_000;
    for id in [&waiting.id, &elsewhere.id] {
        store
            .record_attempt(
                attempt(id, 1, Some(503), now()),
                AttemptOutcome::Retry {
                    next_attempt_at: retry_at,
                },
            )
            .await
            .unwrap();
    }
    let at = now();
    assert!(
        due_of(store, at, &[&bridge_id, &other_bridge])
            .await
            .is_empty()
    );
    let hastened = store
        .replay_outbox(
            Replay::Hasten {
                bridge_id: bridge_id.clone(),
            },
            at,
        )
        .await
        .unwrap();
    assert_eq!(hastened, 1, "one waiting retry of the bridge");
    let due = due_of(store, at, &[&bridge_id, &other_bridge]).await;
    assert_eq!(
        ids(&due),
        [waiting.id.as_str()],
        "only that bridge's retry moved"
    );
    assert_eq!(due[0].attempts, 1, "its attempts are kept");
    assert_eq!(due[0].next_attempt_at, at);
    // A lane's head is read by lane, due or not.
    let head = store
        .lane_head(&other_bridge, &conversation_id)
        .await
        .unwrap()
        .expect("the other bridge's lane has a pending head");
    assert_eq!(head.id, elsewhere.id);
    assert_eq!(head.next_attempt_at, retry_at);
    assert!(
        store
            .lane_head(&other_bridge, "no-such-lane")
            .await
            .unwrap()
            .is_none()
    );
}
