//! The requester's inputs: opening a conversation, posting text, choosing an option, and
//! resuming what a stop interrupted (one conversation on request, or every conversation that
//! waits on an effect, at start and whenever this node takes the
//! [`RESUME`](crate::lease::RESUME) lease over). Each input takes the conversation's lock,
//! steps the machine (validating before anything is stored) and hands the transition to
//! [`Orchestrator::carry_out`].

use super::step::{Target, offers_json};
use super::{
    ChatError, Envelope, Orchestrator, Outcome, Requester, envelope_of, machine_error, new_id,
    to_json,
};
use crate::conversation::{self, Event, Expecting, Understanding, texts};
use crate::lang::Language;
use crate::store::{self, Channel, ConversationStatus, NewConversation, NewMessage, SenderKind};
use serde_json::json;

impl Orchestrator {
    /// Opens a conversation for `requester` and runs its greeting.
    pub async fn open(
        &self,
        requester: &Requester,
        channel: Channel,
        language: Language,
    ) -> Result<Outcome, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let outcome = self.open_inner(requester, channel, language).await?;
        self.after_input(&outcome).await;
        Ok(outcome)
    }

    async fn open_inner(
        &self,
        requester: &Requester,
        channel: Channel,
        language: Language,
    ) -> Result<Outcome, ChatError> {
        let opened = Event::Opened {
            language,
            requester: requester.id.clone(),
        };
        self.start(
            requester,
            channel,
            language,
            opened,
            ConversationStatus::Bot,
        )
        .await
    }

    /// Creates a conversation whose machine starts with `first` (an opening event) and
    /// runs it.
    pub(super) async fn start(
        &self,
        requester: &Requester,
        channel: Channel,
        language: Language,
        first: Event,
        status: ConversationStatus,
    ) -> Result<Outcome, ChatError> {
        let params = self.params().await?;
        let transition = conversation::Conversation::new()
            .step(&params, first)
            .map_err(|error| machine_error(error, language))?;
        let envelope = Envelope {
            machine: conversation::Conversation::new(),
            groups: requester.groups.clone(),
        };
        let new = NewConversation {
            id: new_id(),
            channel,
            requester_id: requester.id.clone(),
            language,
            status,
            queue_group: None,
            machine_state: to_json(&envelope)?,
        };
        let lock = self.lock_for(&new.id);
        let _guard = lock.lock().await;
        self.carry_out(Target::New(new), Vec::new(), envelope, transition, &params)
            .await
    }

    /// Posts requester text; `client_message_id` makes a retried post a no-op.
    pub async fn post(
        &self,
        requester: &Requester,
        conversation_id: &str,
        text: &str,
        client_message_id: Option<String>,
    ) -> Result<Outcome, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let (outcome, question) = self
            .post_inner(requester, conversation_id, text, client_message_id)
            .await?;
        self.after_input(&outcome).await;
        if let Some(question) = question {
            self.spawn_answer(question);
        }
        Ok(outcome)
    }

    /// Streams a grounded answer to `question` in the background, after the input's lock
    /// was released: the assistant's own reply is already stored and published.
    fn spawn_answer(&self, question: super::answers::Question) {
        let Some(llm) = self.llm.clone().filter(|_| self.grounded_answers) else {
            return;
        };
        let answers = super::answers::LiveAnswers {
            llm,
            knowledge: self.knowledge.clone(),
            hybrid: self.hybrid.clone(),
            store: self.store.clone(),
            bus: self.bus.clone(),
        };
        let lock = self.lock_for(&question.conversation_id);
        tokio::spawn(async move {
            match answers.answer(&question, Some(lock), &mut |_| {}).await {
                Ok(message) => tracing::debug!(
                    conversation = %question.conversation_id,
                    seq = message.seq,
                    "grounded answer stored"
                ),
                Err(error) => tracing::info!(
                    conversation = %question.conversation_id,
                    %error,
                    "no grounded answer; the assistant's reply stands"
                ),
            }
        });
    }

    async fn post_inner(
        &self,
        requester: &Requester,
        conversation_id: &str,
        text: &str,
        client_message_id: Option<String>,
    ) -> Result<(Outcome, Option<super::answers::Question>), ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let (record, replayed) = self
            .store
            .conversation_for_input(conversation_id, client_message_id.as_deref())
            .await?
            .ok_or_else(|| ChatError::UnknownConversation(conversation_id.to_string()))?;
        let envelope = super::owned(requester, &record)?;
        // A replayed post is answered from the store before any work: the conversation may
        // have moved on (even finished) since the original was acknowledged.
        if let Some(stored) = replayed {
            return Ok((
                Outcome {
                    conversation: record,
                    messages: vec![stored],
                    duplicate: true,
                    handoff: None,
                },
                None,
            ));
        }
        let language = envelope.machine.language();
        let params = self.params().await?;
        let expecting = envelope.machine.expecting();
        let understanding = match expecting {
            Expecting::HumanChat | Expecting::Nothing => Understanding::Fallback,
            _ => {
                self.understand(text, language, &envelope.groups, expecting)
                    .await?
            }
        };
        // A question the assistant answers with articles, or cannot place at all, may be
        // answered from the articles by the language model, after the reply.
        let is_question = match (&understanding, expecting) {
            (Understanding::Articles { hits }, _) => !hits.is_empty(),
            (Understanding::Fallback, Expecting::FreeText | Expecting::ArticleTitle) => true,
            _ => false,
        };
        let facts = crate::insight::facts::understood(
            &record.id,
            crate::store::now_millis(),
            language.tag(),
            text,
            &understanding,
            expecting,
        );
        let event = Event::RequesterText {
            text: text.to_string(),
            understanding,
        };
        // With people, the machine hears first whether anyone is there to read the text
        // (parameter 447 answers a requester who writes into the void).
        let presence = match expecting {
            Expecting::HumanChat => self.someone_present(&record.id).await,
            _ => None,
        };
        // Validate before storing anything: a refused input leaves no trace.
        let transition = match presence {
            Some(online) => {
                let noticed = envelope
                    .machine
                    .step(&params, Event::AttendantPresence { online })
                    .map_err(|error| machine_error(error, language))?;
                let written = noticed
                    .conversation
                    .step(&params, event)
                    .map_err(|error| machine_error(error, language))?;
                conversation::Transition {
                    conversation: written.conversation,
                    effects: noticed.effects.into_iter().chain(written.effects).collect(),
                }
            }
            None => envelope
                .machine
                .step(&params, event)
                .map_err(|error| machine_error(error, language))?,
        };
        let groups = envelope.groups.clone();
        let input = requester_message(
            &record.id,
            requester,
            text.to_string(),
            None,
            client_message_id,
        );
        let outcome = self
            .carry_out(
                Target::Existing(record),
                vec![input],
                envelope,
                transition,
                &params,
            )
            .await?;
        if outcome.duplicate {
            // Another node stored the same client id between the check above and now.
            return Ok((outcome, None));
        }
        self.insight.record(facts);
        let still_with_assistant =
            outcome.handoff.is_none() && outcome.conversation.status == ConversationStatus::Bot;
        let question = (is_question && still_with_assistant).then(|| super::answers::Question {
            conversation_id: outcome.conversation.id.clone(),
            text: text.to_string(),
            language,
            groups,
        });
        Ok((outcome, question))
    }

    /// Chooses one of the options offered last.
    pub async fn choose(
        &self,
        requester: &Requester,
        conversation_id: &str,
        option_id: &str,
    ) -> Result<Outcome, ChatError> {
        self.refuse_blocked(&requester.id).await?;
        let outcome = self
            .choose_inner(requester, conversation_id, option_id)
            .await?;
        self.after_input(&outcome).await;
        Ok(outcome)
    }

    async fn choose_inner(
        &self,
        requester: &Requester,
        conversation_id: &str,
        option_id: &str,
    ) -> Result<Outcome, ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let (record, envelope) = self.load(requester, conversation_id).await?;
        let language = envelope.machine.language();
        let params = self.params().await?;
        let label = envelope
            .machine
            .offers()
            .iter()
            .find(|offer| offer.id == option_id)
            .map(|offer| texts::render_label(offer, language));
        let transition = envelope
            .machine
            .step(
                &params,
                Event::OptionChosen {
                    option_id: option_id.to_string(),
                },
            )
            .map_err(|error| machine_error(error, language))?;
        let chosen = requester_message(
            &record.id,
            requester,
            label.unwrap_or_else(|| option_id.to_string()),
            Some(json!({ "option": option_id })),
            None,
        );
        self.carry_out(
            Target::Existing(record),
            vec![chosen],
            envelope,
            transition,
            &params,
        )
        .await
    }

    /// Re-issues whatever a conversation was waiting for when the process stopped (a ticket
    /// half created, a list half fetched) and asks its current question again.
    pub async fn resume(&self, conversation_id: &str) -> Result<Outcome, ChatError> {
        self.resume_when(conversation_id, false)
            .await?
            .ok_or_else(|| ChatError::UnknownConversation(conversation_id.to_string()))
    }

    /// [`resume`](Orchestrator::resume), or with `only_waiting` nothing (`None`) when, under
    /// the conversation's lock, it no longer waits on an effect: a step of this node that
    /// was carrying the effect out meanwhile has finished it, and its question must not be
    /// asked again.
    async fn resume_when(
        &self,
        conversation_id: &str,
        only_waiting: bool,
    ) -> Result<Option<Outcome>, ChatError> {
        let lock = self.lock_for(conversation_id);
        let _guard = lock.lock().await;
        let record = self
            .store
            .get_conversation(conversation_id)
            .await?
            .ok_or_else(|| ChatError::UnknownConversation(conversation_id.to_string()))?;
        let envelope = envelope_of(&record)?;
        if only_waiting && !envelope.machine.state().waiting_for_effect() {
            return Ok(None);
        }
        let language = envelope.machine.language();
        let params = self.params().await?;
        let transition = envelope
            .machine
            .step(&params, Event::Resumed)
            .map_err(|error| machine_error(error, language))?;
        self.carry_out(
            Target::Existing(record),
            Vec::new(),
            envelope,
            transition,
            &params,
        )
        .await
        .map(Some)
    }

    /// Resumes every conversation that was waiting on an effect (call once at start). Only
    /// the node holding the [`RESUME`](crate::lease::RESUME) lease does it, and only while it
    /// holds it: another node resuming the same conversation at once would re-issue its
    /// effect twice. The lease is then kept for [`Orchestrator::keep_resuming`], so this node
    /// does not resume the same conversations again. (In one process the lease always holds.)
    pub async fn resume_pending(&self) -> Result<usize, ChatError> {
        let Some(held) = self.lease.try_acquire(crate::lease::RESUME).await else {
            tracing::info!("another node holds the resume lease; nothing resumed here");
            return Ok(0);
        };
        let resumed = self.resume_under(&held).await;
        *self
            .resume_held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(held);
        resumed
    }

    /// Holds the [`RESUME`](crate::lease::RESUME) lease until `stop` turns true: the lease
    /// [`resume_pending`](Orchestrator::resume_pending) kept, or else waits for it; whenever
    /// this node comes to hold it (its holder died or stopped), it resumes what is waiting
    /// on an effect, then keeps it until it is lost and waits again.
    pub async fn keep_resuming(
        self: std::sync::Arc<Self>,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let kept = self
            .resume_held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let mut first = kept;
        loop {
            let mut held = match first.take() {
                Some(held) => held,
                None => {
                    let held = tokio::select! {
                        held = self.lease.acquire(crate::lease::RESUME) => held,
                        _ = stop.wait_for(|stop| *stop) => return,
                    };
                    tokio::select! {
                        resumed = self.resume_under(&held) => match resumed {
                            Ok(0) => {}
                            Ok(resumed) => tracing::info!(resumed, "took the resume lease over: conversations resumed"),
                            Err(error) => tracing::warn!(%error, "resuming after taking the lease over failed"),
                        },
                        _ = stop.wait_for(|stop| *stop) => return,
                    }
                    held
                }
            };
            tokio::select! {
                _ = held.lost() => tracing::warn!("resume lease lost; waiting to hold it again"),
                _ = stop.wait_for(|stop| *stop) => return,
            }
        }
    }

    /// Resumes, while `held` holds, every conversation waiting on an effect.
    async fn resume_under(&self, held: &crate::lease::Held) -> Result<usize, ChatError> {
        let mut resumed = 0;
        let filter = store::ConversationFilter {
            status: Some(ConversationStatus::Bot),
            limit: store::MAX_PAGE,
            ..Default::default()
        };
        for record in self.store.list_conversations(filter).await? {
            if !held.is_held() {
                tracing::warn!(
                    resumed,
                    "resume lease lost; the new holder resumes the rest"
                );
                break;
            }
            let Ok(envelope) = envelope_of(&record) else {
                continue;
            };
            if envelope.machine.state().waiting_for_effect() {
                match self.resume_when(&record.id, true).await {
                    Ok(Some(_)) => resumed += 1,
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(conversation = %record.id, %error, "could not resume")
                    }
                }
            }
        }
        Ok(resumed)
    }

    /// The stored conversation, checked to belong to `requester`.
    pub async fn conversation(
        &self,
        requester: &Requester,
        conversation_id: &str,
    ) -> Result<store::Conversation, ChatError> {
        Ok(self.load(requester, conversation_id).await?.0)
    }

    /// What the conversation offers now and its status, for a client that (re)connects.
    pub async fn machine_view(
        &self,
        requester: &Requester,
        conversation_id: &str,
    ) -> Result<serde_json::Value, ChatError> {
        let (_, envelope) = self.load(requester, conversation_id).await?;
        let language = envelope.machine.language();
        Ok(json!({
            "state": envelope.machine.state().name(),
            "status": envelope.machine.status(),
            "attendant": envelope.machine.attendant(),
            "ticket": envelope.machine.ticket(),
            "options": offers_json(envelope.machine.offers(), language),
        }))
    }

    async fn understand(
        &self,
        text: &str,
        language: Language,
        groups: &[String],
        expecting: Expecting,
    ) -> Result<Understanding, ChatError> {
        let matcher = self.matcher();
        let input = crate::llm::rerank::OwnedInput {
            text: text.to_string(),
            language,
            groups: groups.to_vec(),
            expecting,
        };
        let (decision, input) = {
            let matcher = matcher.clone();
            tokio::task::spawn_blocking(move || (matcher.decide(&input.as_input()), input))
                .await
                .map_err(|error| ChatError::Join(error.to_string()))?
        };
        let decision = decision?;
        Ok(match &self.llm {
            Some(llm) => crate::llm::rerank::refine(llm, &matcher, input, decision).await,
            None => decision.understanding,
        })
    }
}

/// What the requester sent (text, or the label of a chosen option), to store with the step
/// it causes.
fn requester_message(
    conversation_id: &str,
    requester: &Requester,
    body: String,
    payload: Option<serde_json::Value>,
    client_message_id: Option<String>,
) -> NewMessage {
    NewMessage {
        conversation_id: conversation_id.to_string(),
        sender_kind: SenderKind::Requester,
        sender_id: Some(requester.id.clone()),
        body,
        payload,
        client_message_id,
    }
}
