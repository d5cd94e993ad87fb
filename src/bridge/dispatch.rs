//! The outbox's dispatcher and the accept deadlines. The dispatcher delivers every bridge's
//! events in order per lane (bridge, conversation): it only ever takes a lane's oldest
//! pending event (the store's [`Store::due_outbox`] and [`Store::lane_head`]), never two of
//! one lane at once, and different lanes in parallel. Every attempt is recorded with its outcome in one write:
//! delivered, retried later by the schedule, or dead-lettered. A delivered
//! `handoff.requested` initiates the hand-off; an exhausted one fails it (the chat falls back
//! to Ponte's desk); a 410 disables the bridge. The deadlines task fails hand-offs nobody
//! accepted in time. Both run where this node holds their lease, and both survive restarts
//! because everything they work from is in the store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::task::JoinSet;

use super::schedule::{DispatchSettings, Schedule};
use super::service::Bridges;
use super::wire::{OutboundType, outbound_body};
use super::{AttemptResult, OutgoingEvent};
use crate::orchestrator::BridgeInput;
use crate::store::{AttemptOutcome, DeliveryAttempt, OutboxEvent, Store};

/// The most transcript messages a `handoff.requested` carries.
pub const TRANSCRIPT_LIMIT: u32 = 200;

/// Runs the dispatcher until `stop` turns true.
pub async fn run(
    bridges: Arc<Bridges>,
    settings: DispatchSettings,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    under_lease(&bridges, crate::lease::BRIDGE_DISPATCH, stop, || {
        deliver_while_held(&bridges, &settings)
    })
    .await;
}

/// Runs `work` while this node holds lease `name`, starting it again whenever the lease is
/// taken back after a loss, until `stop` turns true.
async fn under_lease<F, Fut>(
    bridges: &Bridges,
    name: &str,
    mut stop: tokio::sync::watch::Receiver<bool>,
    work: F,
) where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let lease = bridges.orchestrator().lease().clone();
    loop {
        let mut held = tokio::select! {
            held = lease.acquire(name) => held,
            _ = stop.changed() => return,
        };
        tokio::select! {
            _ = work() => {}
            _ = held.lost() => tracing::warn!(lease = name, "lease lost"),
            _ = stop.changed() => return,
        }
    }
}

/// How long the dispatcher waits before it tries an event whose attempt could not be recorded.
const RECORD_PAUSE_MS: i64 = 1_000;

/// A (bridge, conversation) pair: the unit of ordering.
type Lane = (String, String);

/// The dispatcher's loop. A lane is started from a hint (a step just wrote to it: its head
/// is read by lane, one index seek) or from a full look at the outbox ([`Store::due_outbox`],
/// at start, when a retry falls due, when asked after a replay or a bridge change, and at
/// least every `idle` for what other nodes wrote). A hint for a lane in flight is kept and
/// the lane looked at again once it finishes, so no event written meanwhile waits for the
/// next full look.
async fn deliver_while_held(bridges: &Arc<Bridges>, settings: &DispatchSettings) {
    let mut in_flight: HashSet<Lane> = HashSet::new();
    let mut again: HashSet<Lane> = HashSet::new();
    let mut tasks: JoinSet<(Lane, Option<AttemptOutcome>)> = JoinSet::new();
    // Bridges whose latest attempt failed: their first success again brings every waiting
    // retry forward (the receiver is back; nothing should wait out a 5-minute step).
    let mut failing: HashSet<String> = HashSet::new();
    let mut look = true;
    let mut overflow = false;
    // Hinted lanes that found no room, in order.
    let mut waiting: std::collections::VecDeque<Lane> = std::collections::VecDeque::new();
    let mut queued: HashSet<Lane> = HashSet::new();
    let mut next_look = tokio::time::Instant::now();
    let spawn = |tasks: &mut JoinSet<(Lane, Option<AttemptOutcome>)>,
                 lane: Lane,
                 head: Option<OutboxEvent>| {
        let bridges = bridges.clone();
        let schedule = settings.schedule.clone();
        tasks.spawn(async move {
            let outcome = deliver_lane(&bridges, &schedule, &lane, head).await;
            (lane, outcome)
        });
    };
    loop {
        look |= bridges.take_look_request();
        if look {
            look = false;
            let now = crate::store::now_millis();
            let room = settings.concurrency.saturating_sub(in_flight.len());
            if room > 0 {
                // In-flight lanes' heads come back too (they are the oldest): ask past them.
                let limit = in_flight.len() + room * 2;
                match bridges.store().due_outbox(now, limit as u32).await {
                    Ok(due) => {
                        // A full page may have left due lanes out: look again once a lane
                        // finishes.
                        overflow |= due.len() >= limit;
                        for event in due {
                            if in_flight.len() >= settings.concurrency {
                                overflow = true;
                                break;
                            }
                            let lane = (event.bridge_id.clone(), event.conversation_id.clone());
                            if in_flight.insert(lane.clone()) {
                                spawn(&mut tasks, lane, Some(event));
                            }
                        }
                    }
                    Err(error) => tracing::error!(%error, "reading the outbox failed"),
                }
            }
            next_look = tokio::time::Instant::now()
                + next_wake(bridges.store().as_ref(), settings.idle).await;
        }
        for lane in bridges.take_hints() {
            if in_flight.contains(&lane) {
                again.insert(lane);
            } else if in_flight.len() >= settings.concurrency {
                // No room now: started as soon as a lane finishes.
                if queued.insert(lane.clone()) {
                    waiting.push_back(lane);
                }
            } else {
                in_flight.insert(lane.clone());
                spawn(&mut tasks, lane, None);
            }
        }
        tokio::select! {
            done = tasks.join_next(), if !tasks.is_empty() => {
                if let Some(Ok((lane, outcome))) = done {
                    let delivered = outcome.map(|outcome| outcome == AttemptOutcome::Delivered);
                    look |= finished(bridges, &mut in_flight, &mut failing, lane.clone(), delivered).await;
                    if let Some(AttemptOutcome::Retry { next_attempt_at }) = outcome {
                        // The next look comes by the retry's time.
                        let wait = (next_attempt_at - crate::store::now_millis()).max(0) as u64;
                        next_look = next_look
                            .min(tokio::time::Instant::now() + Duration::from_millis(wait));
                    }
                    if again.remove(&lane) {
                        in_flight.insert(lane.clone());
                        spawn(&mut tasks, lane, None);
                    }
                    while in_flight.len() < settings.concurrency {
                        let Some(lane) = waiting.pop_front() else { break };
                        queued.remove(&lane);
                        if in_flight.contains(&lane) {
                            again.insert(lane);
                        } else {
                            in_flight.insert(lane.clone());
                            spawn(&mut tasks, lane, None);
                        }
                    }
                    if overflow {
                        overflow = false;
                        look = true;
                    }
                }
            }
            _ = bridges.wake.notified() => {}
            _ = tokio::time::sleep_until(next_look) => look = true,
        }
    }
}

/// Delivers a lane from `head` (or its head as stored) on, one event after the other, while
/// each is taken and the next is due (its next event is read by lane, not by looking at
/// every lane again). Returns the last attempt's outcome (`None` when none was made).
async fn deliver_lane(
    bridges: &Bridges,
    schedule: &Schedule,
    lane: &Lane,
    head: Option<OutboxEvent>,
) -> Option<AttemptOutcome> {
    let (bridge_id, conversation_id) = lane;
    let mut next = head;
    let mut delivered = None;
    loop {
        let event = match next.take() {
            Some(event) => event,
            None => {
                let enabled = bridges.get(bridge_id).is_some_and(|held| held.enabled);
                if !enabled {
                    return delivered;
                }
                match bridges.store().lane_head(bridge_id, conversation_id).await {
                    Ok(Some(head)) if head.next_attempt_at <= crate::store::now_millis() => head,
                    Ok(_) => return delivered,
                    Err(error) => {
                        tracing::error!(%error, "reading a lane's next event failed");
                        return delivered;
                    }
                }
            }
        };
        delivered = deliver(bridges, schedule, event).await;
        if delivered != Some(AttemptOutcome::Delivered) {
            return delivered;
        }
    }
}

/// Frees a finished delivery's lane; a bridge that answers again after failing has every
/// waiting retry brought forward. Returns whether any was (the outbox wants a full look).
async fn finished(
    bridges: &Bridges,
    in_flight: &mut HashSet<Lane>,
    failing: &mut HashSet<String>,
    lane: Lane,
    delivered: Option<bool>,
) -> bool {
    in_flight.remove(&lane);
    let bridge = lane.0;
    match delivered {
        Some(false) => {
            failing.insert(bridge);
        }
        Some(true) if failing.remove(&bridge) => {
            let hastened = bridges
                .store()
                .replay_outbox(
                    crate::store::Replay::Hasten {
                        bridge_id: bridge.clone(),
                    },
                    crate::store::now_millis(),
                )
                .await;
            match hastened {
                Ok(count) if count > 0 => {
                    tracing::info!(%bridge, count, "the receiver answers again: waiting retries are due now");
                    return true;
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%bridge, %error, "bringing retries forward failed"),
            }
        }
        _ => {}
    }
    false
}

/// How long after a full look the next one comes: when the earliest waiting retry falls
/// due, at most `idle`. A head due already is in flight or was left for lack of room (the
/// loop looks again as soon as a lane finishes), so it does not bring the look forward.
async fn next_wake(store: &dyn Store, idle: Duration) -> Duration {
    match store.next_outbox_due().await {
        Ok(Some(due)) if due > crate::store::now_millis() => {
            let wait = (due - crate::store::now_millis()).max(0) as u64;
            Duration::from_millis(wait).min(idle)
        }
        _ => idle,
    }
}

/// One attempt of one event, recorded with its outcome, and what it means for the hand-off.
/// Returns whether the receiver took it (`None` when no attempt was made).
async fn deliver(
    bridges: &Bridges,
    schedule: &Schedule,
    event: OutboxEvent,
) -> Option<AttemptOutcome> {
    let held = bridges.get(&event.bridge_id)?;
    let transport = bridges.transport(held.config.kind)?;
    let Some(event_type) = OutboundType::parse(&event.event_type) else {
        tracing::error!(event = %event.id, kind = %event.event_type, "unknown outbox event type");
        return None;
    };
    let started_at = crate::store::now_millis();
    let attempt_number = event.attempts + 1;
    let links = held
        .config
        .link_secrets()
        .into_iter()
        .next()
        .map(|secret| FileLinks {
            public_url: bridges.public_url(),
            secret,
        });
    let (attempt, outcome) = match render(
        bridges.store().as_ref(),
        &event,
        event_type,
        links.as_ref(),
    )
    .await
    {
        Ok(body) => {
            let outgoing = OutgoingEvent {
                id: event.id.clone(),
                event_type,
                conversation_id: event.conversation_id.clone(),
                seq: event.seq,
                body,
            };
            let attempt = transport.deliver(&held.config, &outgoing).await;
            let latency_ms = attempt.latency.as_millis() as i64;
            match attempt.result {
                AttemptResult::Delivered { status } => (
                    record(
                        &event,
                        attempt_number,
                        started_at,
                        Some(status),
                        latency_ms,
                        None,
                    ),
                    AttemptOutcome::Delivered,
                ),
                AttemptResult::Gone { status } => {
                    // The receiver is gone: stop the bridge; the event waits for it to be
                    // turned on again (its hand-off falls back at its deadline).
                    if let Err(error) = bridges
                        .set_enabled(&event.bridge_id, false, Some("gone"))
                        .await
                    {
                        tracing::error!(%error, bridge = %event.bridge_id, "disabling a gone bridge failed");
                    }
                    tracing::warn!(bridge = %event.bridge_id, "receiver answered 410: bridge disabled");
                    (
                        record(
                            &event,
                            attempt_number,
                            started_at,
                            Some(status),
                            latency_ms,
                            Some("410 gone: bridge disabled".into()),
                        ),
                        AttemptOutcome::Retry {
                            next_attempt_at: crate::store::now_millis(),
                        },
                    )
                }
                AttemptResult::Failed {
                    status,
                    error,
                    retry_after,
                } => {
                    let outcome = match schedule.next_attempt(
                        attempt_number,
                        retry_after,
                        crate::store::now_millis(),
                        super::schedule::random_jitter(),
                    ) {
                        Some(next_attempt_at) => AttemptOutcome::Retry { next_attempt_at },
                        None => AttemptOutcome::Dead,
                    };
                    (
                        record(
                            &event,
                            attempt_number,
                            started_at,
                            status,
                            latency_ms,
                            Some(error),
                        ),
                        outcome,
                    )
                }
            }
        }
        Err(error) => {
            // The event cannot be rendered (its conversation is gone): nothing will fix it.
            tracing::error!(event = %event.id, %error, "outbox event cannot be rendered; dead-lettered");
            (
                record(&event, attempt_number, started_at, None, 0, Some(error)),
                AttemptOutcome::Dead,
            )
        }
    };
    if let Err(error) = bridges.store().record_attempt(attempt, outcome).await {
        // The attempt is made again (the receiver deduplicates by webhook-id), after a pause:
        // the event is still due as stored.
        tracing::error!(event = %event.id, %error, "recording a delivery attempt failed");
        return Some(AttemptOutcome::Retry {
            next_attempt_at: crate::store::now_millis() + RECORD_PAUSE_MS,
        });
    }
    if event_type != OutboundType::HandoffRequested {
        return Some(outcome);
    }
    let input = match outcome {
        AttemptOutcome::Delivered => BridgeInput::Initiated,
        AttemptOutcome::Dead => BridgeInput::Failed,
        AttemptOutcome::Retry { .. } => return Some(outcome),
    };
    if let Err(error) = bridges
        .orchestrator()
        .bridge_input(&event.bridge_id, &event.conversation_id, input)
        .await
    {
        tracing::error!(conversation = %event.conversation_id, %error, "hand-off update failed");
    }
    Some(outcome)
}

fn record(
    event: &OutboxEvent,
    attempt: u32,
    at: i64,
    status_code: Option<u16>,
    latency_ms: i64,
    error: Option<String>,
) -> DeliveryAttempt {
    DeliveryAttempt {
        event_id: event.id.clone(),
        attempt,
        at,
        status_code,
        latency_ms,
        error,
    }
}

/// How a requester file's download link is made: Ponte's public address and the bridge's
/// first link secret ([`BridgeConfig::link_secrets`](super::BridgeConfig::link_secrets)).
pub struct FileLinks {
    pub public_url: String,
    pub secret: super::signature::Secret,
}

/// The event's body, the same bytes on every attempt: its stored data, and for a
/// `handoff.requested` the transcript up to the event's sequence number and what the
/// assistant understood and showed (both read from the stored, immutable messages); for a
/// `message.created` with requester files, each file's signed download link (its expiry is
/// counted from the event's creation, so the bytes stay the same).
pub async fn render(
    store: &dyn Store,
    event: &OutboxEvent,
    event_type: OutboundType,
    links: Option<&FileLinks>,
) -> Result<Vec<u8>, String> {
    let mut data = event.data.clone();
    if let (Some(links), Some(files)) = (
        links,
        data.pointer_mut("/message/attachments")
            .and_then(|files| files.as_array_mut()),
    ) {
        let expires = event.created_at + super::files::LINK_LIFETIME_MS;
        for file in files.iter_mut() {
            let Some(id) = file["id"].as_str().map(str::to_string) else {
                continue;
            };
            file["url"] = super::files::signed_link(
                &links.public_url,
                &event.bridge_id,
                &links.secret,
                &id,
                expires,
            )
            .into();
            file["expires_at"] = super::wire::rfc3339(expires).into();
        }
    }
    if event_type == OutboundType::HandoffRequested {
        let messages = store
            .messages_after(&event.conversation_id, 0, TRANSCRIPT_LIMIT)
            .await
            .map_err(|error| error.to_string())?;
        let upto: Vec<_> = messages
            .into_iter()
            .filter(|message| message.seq <= event.seq)
            .collect();
        let transcript: Vec<serde_json::Value> = upto
            .iter()
            .filter(|message| !message.body.is_empty())
            .map(|message| {
                json!({
                    "seq": message.seq,
                    "sender": message.sender_kind.as_str(),
                    "text": message.body,
                    "at": super::wire::rfc3339(message.created_at),
                })
            })
            .collect();
        let last_question = upto
            .iter()
            .rev()
            .find(|message| {
                // The requester's own words, not the label of an option they chose.
                message.sender_kind == crate::store::SenderKind::Requester
                    && message
                        .payload
                        .as_ref()
                        .is_none_or(|payload| payload.get("option").is_none())
            })
            .map(|message| message.body.clone());
        let shown: Vec<serde_json::Value> = upto
            .iter()
            .filter_map(|message| message.payload.as_ref())
            .filter(|payload| payload["event"] == "show_article")
            .map(|payload| payload["article"].clone())
            .collect();
        let offered: Vec<serde_json::Value> = upto
            .iter()
            .filter_map(|message| message.payload.as_ref())
            .filter_map(|payload| payload["options"].as_array())
            .flatten()
            .filter(|option| {
                option["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("article:") || id.starts_with("activity:"))
            })
            .cloned()
            .collect();
        if let Some(object) = data.as_object_mut() {
            object.insert("transcript".into(), transcript.into());
            object.insert(
                "understanding".into(),
                json!({ "last_question": last_question, "articles_shown": shown, "offered": offered }),
            );
        }
    }
    Ok(outbound_body(
        event_type,
        event.created_at,
        event.seq,
        &event.conversation_id,
        &data,
    ))
}

/// Runs the accept deadlines until `stop` turns true: each due deadline fails its hand-off
/// once (a deadline that comes back after a crash finds the chat already moved on and
/// changes nothing).
pub async fn run_deadlines(
    bridges: Arc<Bridges>,
    idle: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    under_lease(&bridges, crate::lease::BRIDGE_DEADLINES, stop, || {
        deadlines_while_held(&bridges, idle)
    })
    .await;
}

async fn deadlines_while_held(bridges: &Arc<Bridges>, idle: Duration) {
    loop {
        let store = bridges.store();
        match store.due_deadlines(crate::store::now_millis()).await {
            Ok(due) => {
                for deadline in due {
                    let fired = bridges
                        .orchestrator()
                        .bridge_input(
                            &deadline.bridge_id,
                            &deadline.conversation_id,
                            BridgeInput::DeadlinePassed,
                        )
                        .await;
                    match fired {
                        Ok(Some(_)) => tracing::info!(
                            conversation = %deadline.conversation_id,
                            bridge = %deadline.bridge_id,
                            "nobody accepted in time: the chat falls back to the desk"
                        ),
                        Ok(None) => {}
                        Err(error) => {
                            tracing::error!(conversation = %deadline.conversation_id, %error, "accept deadline failed");
                            continue;
                        }
                    }
                    if let Err(error) = store.clear_deadline(&deadline.conversation_id).await {
                        tracing::error!(%error, "clearing a deadline failed");
                    }
                }
            }
            Err(error) => tracing::error!(%error, "reading the accept deadlines failed"),
        }
        let wait = match store.next_deadline().await {
            Ok(Some(due)) => {
                Duration::from_millis((due - crate::store::now_millis()).max(0) as u64).min(idle)
            }
            _ => idle,
        };
        tokio::time::sleep(wait.max(Duration::from_millis(20))).await;
    }
}
