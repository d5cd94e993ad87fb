//! Carrying out a transition: each step of the machine is one atomic write (its state, the
//! input's message, its replies), published on the live bus once stored; effects with a
//! result (a ticket to create, tickets to list or attach) run only after their step is
//! durable, and their result is the next step's event.

use super::bridged::BridgeWrites;
use super::{ChatError, Envelope, Orchestrator, Outcome, machine_error, status_of, to_json};
use crate::conversation::{self, ChatStatus, Effect, Event, State, TicketSummary, texts};
use crate::insight::facts as insight;
use crate::knowledge::{DocKind, Document};
use crate::lang::Language;
#[cfg(doc)]
use crate::store::Store;
use crate::store::{
    self, ArticleUse, ConversationStatus, ConversationUpdate, NewConversation, NewMessage,
    NewTicket, SenderKind, Step, StepTarget, TicketStatus,
};
use serde_json::json;

impl Orchestrator {
    /// Carries out a transition and the ones its effects lead to, until nothing is pending.
    ///
    /// Each step is one atomic write ([`Store::commit_step`]): the machine's new state, the
    /// input's own message (`input`, with the first step only) and every reply of the step
    /// are stored together or not at all, then published. Effects with a result (a ticket
    /// to create, tickets to list or attach) run only after their step is durable, and
    /// their result is the next step's event; the state that waits for one is what
    /// start-up resumes ([`Orchestrator::resume_pending`]), and each is idempotent. So a
    /// crash anywhere leaves either the input unstored (the client's retry runs it) or the
    /// input processed with its replies, never a half.
    pub(super) async fn carry_out(
        &self,
        target: Target,
        input: Vec<NewMessage>,
        mut envelope: Envelope,
        first: conversation::Transition,
        params: &conversation::Params,
    ) -> Result<Outcome, ChatError> {
        let mut record = target;
        let mut input = input;
        let mut messages = Vec::new();
        let mut handoff = None;
        let mut transition = first;
        loop {
            let (routed, route) = self.route_handoff(transition, params).await?;
            transition = routed;
            envelope.machine = transition.conversation.clone();
            let language = envelope.machine.language();
            let id = record.id().to_string();
            let mut status = status_of(envelope.machine.status());
            let mut queue_group = record.queue_group().cloned();
            let mut replies: Vec<NewMessage> = Vec::new();
            let mut shown = Vec::new();
            let mut actions = Vec::new();
            let mut bridge_writes = BridgeWrites::default();
            let mut facts = crate::store::ReportBatch::default();
            let now_ms = crate::store::now_millis();
            let viewing = match envelope.machine.state() {
                State::ViewingArticle { article_id, .. } => Some(article_id.clone()),
                _ => None,
            };
            for effect in transition.effects {
                match effect {
                    Effect::Handoff { group, ticket, .. } => {
                        facts
                            .conversations
                            .push(insight::handoff(&id, now_ms, &group, false));
                        handoff = Some(group.clone());
                        status = ConversationStatus::Queued;
                        queue_group = Some(group.clone());
                        shown.push(json!({
                            "event": "handoff", "group": group, "ticket": ticket,
                        }));
                    }
                    // A hand-off in the same step decides the status; the machine's own
                    // status applies otherwise.
                    Effect::SetStatus(chat_status) => {
                        if status != ConversationStatus::Queued || chat_status != ChatStatus::Bot {
                            status = status_of(chat_status);
                        }
                    }
                    Effect::Say(reply) => {
                        let body = texts::render_text(reply.text_key, &reply.args, language);
                        let mut payload = json!({
                            "text_key": reply.text_key,
                            "options": offers_json(&reply.options, language),
                        });
                        // A reply about a ticket names it, for the client's ticket display.
                        if let Some((_, number)) = reply
                            .args
                            .iter()
                            .find(|(arg, _)| *arg == texts::Arg::Ticket)
                        {
                            payload["ticket"] = json!(number);
                        }
                        replies.push(assistant_message(&id, body, payload));
                    }
                    // Display events for the client (the article card, its collapse, the
                    // portal page to open) travel as bodiless assistant messages after the
                    // step's replies.
                    Effect::ShowArticle { article_id } => {
                        facts.articles.push(insight::article(
                            &id,
                            now_ms,
                            &article_id,
                            ArticleUse::Opened,
                        ));
                        let article = self.article_card(&article_id, &envelope.groups)?;
                        shown.push(json!({ "event": "show_article", "article": article }));
                    }
                    Effect::CollapseArticle { article_id } => {
                        shown
                            .push(json!({ "event": "collapse_article", "article_id": article_id }));
                    }
                    Effect::OpenUrl { url } => {
                        if let Some(article_id) = &viewing {
                            facts.articles.push(insight::article(
                                &id,
                                now_ms,
                                article_id,
                                ArticleUse::Viewed,
                            ));
                        }
                        shown.push(json!({ "event": "open_url", "url": url }));
                    }
                    action @ (Effect::CreateTicket(_)
                    | Effect::ListOpenTickets { .. }
                    | Effect::AttachTicket { .. }) => actions.push(action),
                    Effect::Forward { text } => {
                        if let Some(bridge) = envelope.machine.state().bridge()
                            && !input.is_empty()
                        {
                            bridge_writes.message(&id, bridge, &text);
                        }
                    }
                    Effect::BridgeHandoff {
                        bridge,
                        group,
                        ticket,
                    } => {
                        // Only routing, in this same step, asks for a bridge hand-off.
                        let Some(route) = route.as_ref() else {
                            return Err(ChatError::Corrupt(format!(
                                "hand-off to bridge {bridge:?} without its route"
                            )));
                        };
                        facts
                            .conversations
                            .push(insight::handoff(&id, now_ms, &group, true));
                        bridge_writes.handoff(
                            &record,
                            &envelope,
                            &bridge,
                            &group,
                            ticket.as_deref(),
                            route,
                        );
                        shown.push(json!({
                            "event": "handoff", "group": group, "ticket": ticket,
                        }));
                    }
                    Effect::BridgeEnded { bridge, accepted } => {
                        bridge_writes.ended(&id, &bridge, accepted);
                    }
                }
            }
            let wakes_dispatcher = !bridge_writes.outbox.is_empty();
            let lanes: Vec<(String, String)> = bridge_writes
                .outbox
                .iter()
                .map(|event| (event.bridge_id.clone(), event.conversation_id.clone()))
                .collect();
            // A chat handed to an external service is neither bot nor Ponte's desk queue.
            if let State::Bridged { group, .. } = envelope.machine.state() {
                status = ConversationStatus::Bridged;
                queue_group = Some(group.clone());
            }
            let machine_state = to_json(&envelope)?;
            let step_messages: Vec<NewMessage> = input
                .drain(..)
                .chain(replies)
                .chain(
                    shown
                        .into_iter()
                        .map(|payload| assistant_message(&id, String::new(), payload)),
                )
                .collect();
            let step_target = match &record {
                Target::New(new) => Some(StepTarget::Create(NewConversation {
                    status,
                    queue_group,
                    machine_state,
                    ..new.clone()
                })),
                Target::Existing(stored) => {
                    // A step that changed nothing (a message forwarded in a live chat)
                    // only appends.
                    let unchanged = status == stored.status
                        && queue_group == stored.queue_group
                        && machine_state == stored.machine_state;
                    let writes_bridge = wakes_dispatcher || bridge_writes.deadline.is_some();
                    match (unchanged, step_messages.is_empty() && !writes_bridge) {
                        (true, true) => None,
                        (true, false) => Some(StepTarget::Keep { id: id.clone() }),
                        (false, _) => Some(StepTarget::Update(ConversationUpdate {
                            id: id.clone(),
                            expected_version: stored.version,
                            status,
                            queue_group,
                            machine_state,
                        })),
                    }
                }
            };
            if let Some(step_target) = step_target {
                let committed = self
                    .commit(Step {
                        target: step_target,
                        messages: step_messages,
                        outbox: bridge_writes.outbox,
                        deadline: bridge_writes.deadline,
                    })
                    .await?;
                if wakes_dispatcher {
                    self.outbox_written(lanes);
                }
                if let Some(stored) = committed.duplicate {
                    // Another node stored the same client id between our check and now.
                    return Ok(Outcome {
                        conversation: record.into_existing()?,
                        messages: vec![stored],
                        duplicate: true,
                        handoff: None,
                    });
                }
                let conversation = match committed.conversation {
                    Some(conversation) => {
                        if matches!(record, Target::New(_)) {
                            let outbound = conversation.status != ConversationStatus::Bot;
                            facts
                                .conversations
                                .insert(0, insight::opened(&conversation, outbound));
                        }
                        conversation
                    }
                    // A kept row only moved its last sequence number.
                    None => {
                        let mut conversation = record.into_existing()?;
                        if let Some(last) = committed.messages.last() {
                            conversation.last_seq = conversation.last_seq.max(last.seq);
                        }
                        conversation
                    }
                };
                record = Target::Existing(conversation);
                messages.extend(committed.messages);
                self.insight.record(std::mem::take(&mut facts));
            }
            debug_assert!(actions.len() <= 1, "one effect with a result per step");
            let mut follow_up = None;
            for action in actions {
                follow_up = Some(self.perform(record.existing()?, action).await?);
            }
            let Some(event) = follow_up else {
                return Ok(Outcome {
                    conversation: record.into_existing()?,
                    messages,
                    duplicate: false,
                    handoff,
                });
            };
            transition = envelope
                .machine
                .step(params, event)
                .map_err(|error| machine_error(error, language))?;
        }
    }

    /// Commits one step and publishes the messages it stored, in order, on the live bus.
    pub(super) async fn commit(&self, step: Step) -> Result<store::StepCommitted, ChatError> {
        let committed = self.store.commit_step(step).await?;
        for message in &committed.messages {
            self.bus.publish_message(message);
        }
        Ok(committed)
    }

    /// Performs an effect that has a result (after the step asking for it is durable) and
    /// returns the event that reports it to the machine.
    async fn perform(
        &self,
        conversation: &store::Conversation,
        effect: Effect,
    ) -> Result<Event, ChatError> {
        Ok(match effect {
            Effect::CreateTicket(new) => {
                let created = self
                    .store
                    .create_ticket(NewTicket {
                        requester_id: new.requester.clone(),
                        activity_id: new.activity_id.clone(),
                        contract: new.contract.clone(),
                        group: new.group.clone(),
                        description: new.description.clone(),
                        status: TicketStatus::Open,
                        tags: new.tags.clone(),
                        conversation_id: Some(conversation.id.clone()),
                        request_key: Some(format!("{}:{}", conversation.id, new.request_seq)),
                    })
                    .await;
                match created {
                    Ok(ticket) => {
                        self.insight.record(insight::ticket(
                            &conversation.id,
                            ticket.created_at,
                            &ticket.activity_id,
                        ));
                        Event::TicketCreated {
                            number: ticket.number,
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "ticket creation failed");
                        Event::EffectFailed
                    }
                }
            }
            Effect::ListOpenTickets { preferred_activity } => {
                match self
                    .store
                    .open_tickets_for(&conversation.requester_id)
                    .await
                {
                    Ok(mut tickets) => {
                        // The matched activity's tickets first, newest first within.
                        tickets.sort_by_key(|ticket| {
                            (
                                Some(&ticket.activity_id) != preferred_activity.as_ref(),
                                std::cmp::Reverse(ticket.created_at),
                            )
                        });
                        Event::OpenTickets {
                            tickets: tickets
                                .into_iter()
                                .map(|ticket| TicketSummary {
                                    subject: subject_of(&ticket.description),
                                    number: ticket.number,
                                    activity_id: Some(ticket.activity_id),
                                    group: Some(ticket.group),
                                })
                                .collect(),
                        }
                    }
                    Err(error) => {
                        tracing::error!(%error, "listing tickets failed");
                        Event::EffectFailed
                    }
                }
            }
            Effect::AttachTicket { number } => {
                let owned = self
                    .store
                    .get_ticket(&number)
                    .await?
                    .is_some_and(|ticket| ticket.requester_id == conversation.requester_id);
                if !owned {
                    Event::EffectFailed
                } else {
                    match self.store.attach_ticket(&number, &conversation.id).await {
                        Ok(()) => Event::TicketAttached { number },
                        Err(error) => {
                            tracing::error!(%error, "attaching the ticket failed");
                            Event::EffectFailed
                        }
                    }
                }
            }
            other => {
                debug_assert!(false, "{other:?} has no result");
                Event::EffectFailed
            }
        })
    }

    fn article_card(
        &self,
        article_id: &str,
        groups: &[String],
    ) -> Result<serde_json::Value, ChatError> {
        let document = self.knowledge.get(DocKind::Article, article_id)?;
        Ok(match document {
            Some(Document::Article(article)) if article.visibility.allows(groups) => json!({
                "id": article.id,
                "title": article.title,
                "summary": article.summary,
                "url": article.url,
            }),
            _ => json!({ "id": article_id }),
        })
    }
}

/// Where the first step of [`Orchestrator::carry_out`] writes.
pub(super) enum Target {
    /// A stored conversation, updated.
    Existing(store::Conversation),
    /// A conversation created by the step.
    New(NewConversation),
}

impl Target {
    pub(super) fn id(&self) -> &str {
        match self {
            Target::Existing(conversation) => &conversation.id,
            Target::New(new) => &new.id,
        }
    }

    pub(super) fn channel(&self) -> crate::channel::Channel {
        match self {
            Target::Existing(conversation) => conversation.channel,
            Target::New(new) => new.channel,
        }
    }

    /// The stored conversation: a new one exists once its first step is committed.
    fn existing(&self) -> Result<&store::Conversation, ChatError> {
        match self {
            Target::Existing(conversation) => Ok(conversation),
            Target::New(new) => Err(not_created(&new.id)),
        }
    }

    fn into_existing(self) -> Result<store::Conversation, ChatError> {
        match self {
            Target::Existing(conversation) => Ok(conversation),
            Target::New(new) => Err(not_created(&new.id)),
        }
    }

    fn queue_group(&self) -> Option<&String> {
        match self {
            Target::Existing(conversation) => conversation.queue_group.as_ref(),
            Target::New(new) => new.queue_group.as_ref(),
        }
    }
}

fn not_created(id: &str) -> ChatError {
    ChatError::Corrupt(format!("conversation {id} was not created"))
}

fn assistant_message(
    conversation_id: &str,
    body: String,
    payload: serde_json::Value,
) -> NewMessage {
    NewMessage {
        conversation_id: conversation_id.to_string(),
        sender_kind: SenderKind::Assistant,
        sender_id: None,
        body,
        payload: Some(payload),
        client_message_id: None,
    }
}

pub(super) fn offers_json(offers: &[conversation::Offer], language: Language) -> serde_json::Value {
    serde_json::Value::Array(
        offers
            .iter()
            .map(|offer| json!({ "id": offer.id, "label": texts::render_label(offer, language) }))
            .collect(),
    )
}

fn subject_of(description: &str) -> String {
    let line = description.lines().next().unwrap_or_default();
    let mut subject: String = line.chars().take(80).collect();
    if line.chars().count() > 80 {
        subject.push('…');
    }
    subject
}
