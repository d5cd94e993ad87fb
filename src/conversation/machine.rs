//! The transition function of a chat: `step(conversation, params, event)` returns the next
//! conversation and the effects to perform, or an error that leaves the conversation as it was.
//! It owns the rules of flows A (Smart Chat) and B (virtual assistant) of the design: creating a
//! ticket, activity search and resuming one's own tickets, knowledge search, the assistant's
//! fallback, the hand-off to people and the statuses shown to both parties.

use super::effect::{ChatStatus, Effect, NewTicket, Offer, Reply, TICKET_TAG_CHAT};
use super::error::MachineError;
use super::event::{
    ActivityHit, ArticleHit, Candidate, ControlIntent, Event, TicketSummary, Understanding,
};
use super::input::{
    MAX_CANDIDATES, MAX_ECHO_CHARS, MAX_LISTED, clean_text, clean_value, excerpt, mentions_ticket,
    ticket_number_in, typed_offer,
};
use super::params::{ChatMode, Params};
use super::state::{ActivityRef, Conversation, HandoffPhase, State, TicketDraft};
use super::texts::{Arg, TextKey};
use crate::lang::Language;

/// Longest article summary shown in the chat, in characters.
const MAX_SUMMARY_CHARS: usize = 600;

// Option ids. Listed items carry their own id after a prefix: `ticket:<number>`,
// `article:<id>`, `candidate:<1..=3>`.
const OPT_CREATE_TICKET: &str = "create_ticket";
const OPT_SEARCH_ACTIVITY: &str = "search_activity";
const OPT_SEARCH_KNOWLEDGE: &str = "search_knowledge";
const OPT_TALK_TO_ATTENDANT: &str = "talk_to_attendant";
const OPT_RESUME_TICKET: &str = "resume_ticket";
const OPT_YES: &str = "yes";
const OPT_NO: &str = "no";
const OPT_NOT_NOW: &str = "not_now";
const OPT_NONE_OF_THESE: &str = "none_of_these";
const OPT_VIEW: &str = "view";
const OPT_CLOSE: &str = "close";
const PREFIX_TICKET: &str = "ticket:";
const PREFIX_ARTICLE: &str = "article:";
const PREFIX_CANDIDATE: &str = "candidate:";

/// The result of a successful step.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The conversation to store in place of the previous one.
    pub conversation: Conversation,
    /// What the orchestrator must do, in order.
    pub effects: Vec<Effect>,
}

impl Transition {
    /// The replies among the effects, in order.
    pub fn replies(&self) -> impl Iterator<Item = &Reply> {
        self.effects.iter().filter_map(|effect| match effect {
            Effect::Say(reply) => Some(reply),
            _ => None,
        })
    }
}

impl Conversation {
    /// Applies one event; see [`step`].
    pub fn step(&self, params: &Params, event: Event) -> Result<Transition, MachineError> {
        step(self, params, event)
    }
}

/// Applies `event` to `conversation` under `params`. Pure: no I/O, no clock, no randomness.
/// On error the caller keeps `conversation`, which this function never modifies.
pub fn step(
    conversation: &Conversation,
    params: &Params,
    event: Event,
) -> Result<Transition, MachineError> {
    let mut machine = Machine {
        conv: conversation.clone(),
        params,
        effects: Vec::new(),
    };
    machine.apply(event)?;
    let Machine {
        conv: mut next,
        effects,
        ..
    } = machine;
    // What may be chosen next is exactly what this step offered; a step that said nothing
    // (presence, an attendant message) leaves the offers as they were.
    if effects
        .iter()
        .any(|effect| matches!(effect, Effect::Say(_)))
    {
        next.offers = effects
            .iter()
            .filter_map(|effect| match effect {
                Effect::Say(reply) => Some(reply.options.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
    }
    debug_assert!(
        {
            let mut ids: Vec<&str> = next.offers.iter().map(|offer| offer.id.as_str()).collect();
            ids.sort_unstable();
            ids.windows(2).all(|pair| pair[0] != pair[1])
        },
        "offered option ids must be unique"
    );
    Ok(Transition {
        conversation: next,
        effects,
    })
}

struct Machine<'p> {
    conv: Conversation,
    params: &'p Params,
    effects: Vec<Effect>,
}

type Outcome = Result<(), MachineError>;

impl Machine<'_> {
    fn apply(&mut self, event: Event) -> Outcome {
        let event_name = event.name();
        match (&self.conv.state, &event) {
            // A close, or a bridge's late news, after the end changes nothing.
            (
                State::Finished,
                Event::Closed
                | Event::BridgeClosed
                | Event::HandoffInitiated
                | Event::HandoffFailed { .. },
            ) => return Ok(()),
            (State::Finished, _) => return Err(MachineError::ConversationFinished),
            (
                State::NotStarted,
                Event::Opened { .. } | Event::OutboundOpened { .. } | Event::Closed,
            ) => {}
            (State::NotStarted, _) | (_, Event::Opened { .. } | Event::OutboundOpened { .. }) => {
                return Err(self.unexpected(event_name));
            }
            _ => {}
        }
        match event {
            Event::Opened {
                language,
                requester,
            } => self.on_opened(language, &requester),
            Event::OutboundOpened {
                language,
                requester,
                attendant,
            } => self.on_outbound(language, &requester, &attendant),
            Event::RequesterText {
                text,
                understanding,
            } => self.on_text(&text, understanding),
            Event::OptionChosen { option_id } => self.on_option(option_id),
            Event::TicketCreated { number } => self.on_ticket_created(event_name, &number),
            Event::OpenTickets { tickets } => self.on_open_tickets(event_name, tickets),
            Event::TicketAttached { number } => self.on_ticket_attached(event_name, &number),
            Event::EffectFailed => self.on_effect_failed(event_name),
            Event::Resumed => {
                self.on_resumed();
                Ok(())
            }
            Event::AttendantJoined { name } => self.on_attendant_joined(event_name, &name),
            Event::AttendantLeft => self.on_attendant_left(event_name),
            Event::AttendantPresence { online } => {
                self.on_presence(online);
                Ok(())
            }
            Event::AttendantMessage => self.on_attendant_message(event_name),
            Event::Closed => {
                self.on_closed();
                Ok(())
            }
            Event::BridgeRouted { bridge } => self.on_bridge_routed(event_name, bridge),
            Event::HandoffInitiated => {
                self.on_handoff_initiated();
                Ok(())
            }
            Event::HandoffFailed { deadline } => {
                self.on_handoff_failed(deadline);
                Ok(())
            }
            Event::BridgeClosed => self.on_bridge_closed(event_name),
        }
    }

    // ----- Small helpers -----

    fn unexpected(&self, event: &'static str) -> MachineError {
        MachineError::UnexpectedEvent {
            event,
            state: self.conv.state.name(),
        }
    }

    fn say(&mut self, reply: Reply) {
        self.effects.push(Effect::Say(reply));
    }

    fn go(&mut self, state: State) {
        self.conv.state = state;
    }

    fn set_status(&mut self, status: ChatStatus) {
        if self.conv.status != status {
            self.conv.status = status;
            self.effects.push(Effect::SetStatus(status));
        }
    }

    fn language(&self) -> Language {
        self.conv.language
    }

    fn menu_offers() -> Vec<Offer> {
        vec![
            Offer::new(OPT_CREATE_TICKET, TextKey::OptionCreateTicket),
            Offer::new(OPT_SEARCH_ACTIVITY, TextKey::OptionSearchActivity),
            Offer::new(OPT_SEARCH_KNOWLEDGE, TextKey::OptionSearchKnowledge),
        ]
    }

    fn help_reply(&self) -> Reply {
        if self.params.assistant_enabled {
            Reply::new(TextKey::AssistantHelp)
        } else {
            Reply::new(TextKey::SmartChatHelp)
        }
    }

    /// The prompt after a flow ends and the chat is back to idle.
    fn end_prompt(&self) -> Reply {
        if self.params.assistant_enabled {
            Reply::new(TextKey::AnythingElse)
        } else {
            Reply::new(TextKey::SmartChatMenu).options(Self::menu_offers())
        }
    }

    /// Back to idle with the end-of-flow prompt.
    fn back_to_idle(&mut self) {
        self.go(State::Idle);
        let prompt = self.end_prompt();
        self.say(prompt);
    }

    /// The question of the current step, asked again (after "thanks", "help", a restart...).
    fn current_prompt(&self) -> Option<Reply> {
        let reply = match &self.conv.state {
            State::NotStarted
            | State::Finished
            | State::Queued { .. }
            | State::Live { .. }
            | State::Bridged { .. } => {
                return None;
            }
            State::Idle if self.params.assistant_enabled => Reply::new(TextKey::HowCanIHelp),
            State::Idle => Reply::new(TextKey::SmartChatMenu).options(Self::menu_offers()),
            State::AwaitingActivityQuery => Reply::new(TextKey::AskActivityQuery),
            State::AwaitingArticleQuery => Reply::new(TextKey::AskArticleQuery),
            State::ActivityFound { activity } => activity_found_reply(activity),
            State::AwaitingDescription {
                activity,
                for_attendant,
            } => ask_description_reply(activity.as_ref(), *for_attendant),
            State::ConfirmingTicket { draft } => confirm_reply(draft),
            State::CreatingTicket { .. } => Reply::new(TextKey::CreatingTicket),
            State::ListingTickets { .. } => Reply::new(TextKey::LookingUpTickets),
            State::ChoosingTicket { activity, tickets } => {
                choose_ticket_reply(tickets, activity.as_ref())
            }
            State::NoOpenTickets { activity } => no_tickets_reply(activity.as_ref()),
            State::AttachingTicket { number, .. } => {
                Reply::new(TextKey::AttachingTicket).arg(Arg::Ticket, number.clone())
            }
            State::ChoosingArticle { articles, .. } => articles_reply(articles),
            State::ViewingArticle {
                articles,
                article_id,
                ..
            } => {
                let article = articles.iter().find(|article| &article.id == article_id)?;
                article_reply(article)
            }
            State::Disambiguating { candidates, .. } => which_one_reply(candidates),
            State::FallbackOffered { .. } => {
                self.fallback_offers_reply(TextKey::OfferAttendantOrResume, TextKey::NoLiveChat)
            }
        };
        Some(reply)
    }

    fn reprompt(&mut self) {
        if let Some(prompt) = self.current_prompt() {
            self.say(prompt);
        }
    }

    /// "I didn't get that, choose one of the options" with the same options.
    fn choose_an_option(&mut self) {
        let options = self.conv.offers.clone();
        self.say(Reply::new(TextKey::ChooseAnOption).options(options));
    }

    /// The activity the current step is about, if any.
    fn context_activity(&self) -> Option<ActivityRef> {
        match &self.conv.state {
            State::ActivityFound { activity } => Some(activity.clone()),
            State::ChoosingTicket { activity, .. }
            | State::NoOpenTickets { activity }
            | State::AwaitingDescription { activity, .. }
            | State::ListingTickets { activity, .. } => activity.clone(),
            _ => None,
        }
    }

    // ----- Opening and closing -----

    fn on_opened(&mut self, language: Language, requester: &str) -> Outcome {
        if !self.params.chat_enabled {
            return Err(MachineError::ChatDisabled);
        }
        let requester = clean_value(requester);
        if requester.is_empty() {
            return Err(MachineError::InvalidEvent {
                reason: "opened without a requester",
            });
        }
        self.conv.language = language;
        self.conv.requester = requester;
        if self.params.mode == ChatMode::Manual {
            let group = self.params.default_group.clone();
            self.say(Reply::new(TextKey::ManualGreeting).arg(Arg::Group, group.clone()));
            self.handoff(group, None);
            return Ok(());
        }
        self.set_status(ChatStatus::Bot);
        self.go(State::Idle);
        if self.params.assistant_enabled {
            self.say(Reply::new(TextKey::AssistantGreeting));
            self.say(Reply::new(TextKey::AssistantHelp));
        } else {
            self.say(Reply::new(TextKey::SmartChatGreeting).options(Self::menu_offers()));
        }
        Ok(())
    }

    fn on_outbound(&mut self, language: Language, requester: &str, attendant: &str) -> Outcome {
        let requester = clean_value(requester);
        let attendant = clean_value(attendant);
        if requester.is_empty() || attendant.is_empty() {
            return Err(MachineError::InvalidEvent {
                reason: "outbound conversation without a requester or an attendant",
            });
        }
        self.conv.language = language;
        self.conv.requester = requester;
        self.conv.attendant_online = Some(true);
        self.say(Reply::new(TextKey::AttendantJoined).arg(Arg::Attendant, attendant.clone()));
        self.go(State::Live {
            group: self.params.default_group.clone(),
            ticket: None,
            attendant,
        });
        self.set_status(ChatStatus::Online);
        Ok(())
    }

    fn on_closed(&mut self) {
        if let State::Bridged { bridge, phase, .. } = &self.conv.state {
            self.effects.push(Effect::BridgeEnded {
                bridge: bridge.clone(),
                accepted: matches!(phase, HandoffPhase::Accepted { .. }),
            });
        }
        if self.conv.state != State::NotStarted {
            self.say(Reply::new(TextKey::ConversationClosed));
        }
        self.finish();
    }

    fn goodbye(&mut self) {
        self.say(Reply::new(TextKey::Goodbye));
        self.finish();
    }

    fn finish(&mut self) {
        self.go(State::Finished);
        self.set_status(ChatStatus::Finished);
    }

    fn cancel(&mut self) {
        self.say(Reply::new(TextKey::Cancelled));
        self.back_to_idle();
    }

    // ----- Requester text -----

    fn on_text(&mut self, raw: &str, understanding: Understanding) -> Outcome {
        if self.conv.state.with_people() {
            let text = clean_text(raw)?;
            self.forward_to_people(text);
            return Ok(());
        }
        if !self.params.chat_enabled {
            return Err(MachineError::ChatDisabled);
        }
        let text = clean_text(raw)?;
        let intent_opt = match &understanding {
            Understanding::Control { intent, .. } => Some(*intent),
            _ => None,
        };
        if self.conv.state.waiting_for_effect() {
            if intent_opt == Some(ControlIntent::Goodbye) {
                self.goodbye();
            } else {
                self.say(Reply::new(TextKey::PleaseWait));
            }
            return Ok(());
        }
        // A ticket number typed while the requester's tickets are listed picks that ticket,
        // before the list positions ("1", "2"...) are considered.
        if let State::ChoosingTicket { tickets, .. } = &self.conv.state
            && let Some(ticket) = tickets
                .iter()
                .find(|ticket| mentions_ticket(&text, &ticket.number))
                .cloned()
        {
            self.attach(&ticket);
            return Ok(());
        }
        if let Some(option_id) = typed_offer(&text, &self.conv.offers, self.language()) {
            return self.choose(&option_id);
        }
        match self.conv.state.clone() {
            State::Idle | State::AwaitingActivityQuery | State::AwaitingArticleQuery => {
                self.understood(&text, understanding, false);
            }
            State::AwaitingDescription {
                activity,
                for_attendant,
            } => self.on_description(text, understanding, activity, for_attendant),
            State::ConfirmingTicket { draft } => self.on_confirmation_text(intent_opt, draft),
            State::ChoosingTicket { .. } => match ticket_number_in(&text) {
                Some(number) => {
                    self.say(Reply::new(TextKey::TicketNotYours).arg(Arg::Ticket, number));
                    self.reprompt();
                }
                None => self.understood(&text, understanding, true),
            },
            State::ActivityFound { .. }
            | State::NoOpenTickets { .. }
            | State::Disambiguating { .. } => self.understood(&text, understanding, true),
            // The assistant could not help, or offered articles: what the requester writes
            // now is a new question (said again in other words, or what the matter really
            // is). Should it fall back, the fallback is about this text, not an earlier one.
            // Smart Chat, which has no free-text understanding, still asks to choose.
            State::ChoosingArticle { .. }
            | State::ViewingArticle { .. }
            | State::FallbackOffered { .. } => {
                self.understood(&text, understanding, !self.params.assistant_enabled);
            }
            State::NotStarted
            | State::Finished
            | State::Queued { .. }
            | State::Live { .. }
            | State::Bridged { .. }
            | State::CreatingTicket { .. }
            | State::ListingTickets { .. }
            | State::AttachingTicket { .. } => {
                // Handled above; kept as an error rather than a panic should that change.
                debug_assert!(false, "text in {} reached the bot", self.conv.state.name());
                return Err(self.unexpected("requester_text"));
            }
        }
        Ok(())
    }

    /// Acts on what the matcher understood. `in_choice`: options are offered, so text that is
    /// not understood asks to choose one of them rather than falling back.
    fn understood(&mut self, text: &str, understanding: Understanding, in_choice: bool) {
        match understanding {
            Understanding::Control { intent, .. } => self.on_intent(intent, text),
            Understanding::Activities { hits } => match best_activity(&hits) {
                Some(hit) => self.activity_found(ActivityRef::from(hit)),
                None => self.nothing_found(text, in_choice),
            },
            Understanding::Articles { hits } => {
                if hits.is_empty() {
                    self.nothing_found(text, in_choice);
                } else {
                    self.list_articles(hits, text.to_string());
                }
            }
            Understanding::Ambiguous { mut candidates } => match candidates.len() {
                0 => self.nothing_found(text, in_choice),
                1 => self.apply_candidate(candidates.remove(0), text),
                _ => self.disambiguate(candidates, text.to_string()),
            },
            Understanding::Fallback => self.nothing_found(text, in_choice),
        }
    }

    fn nothing_found(&mut self, text: &str, in_choice: bool) {
        if in_choice {
            self.choose_an_option();
            return;
        }
        match self.conv.state {
            State::AwaitingActivityQuery => {
                self.go(State::Idle);
                self.say(Reply::new(TextKey::NoActivityFound).options(Self::menu_offers()));
            }
            State::AwaitingArticleQuery => {
                self.go(State::Idle);
                self.say(Reply::new(TextKey::NoArticleFound).options(Self::menu_offers()));
            }
            _ => self.fallback(Some(text.to_string())),
        }
    }

    /// Nothing recognised: Smart Chat shows its menu; the assistant offers at once a person (or a
    /// ticket, without live chat) and resuming a ticket.
    fn fallback(&mut self, text: Option<String>) {
        if !self.params.assistant_enabled {
            self.go(State::Idle);
            self.say(Reply::new(TextKey::FallbackSmartChat).options(Self::menu_offers()));
            return;
        }
        self.go(State::FallbackOffered { text });
        let reply = self
            .fallback_offers_reply(TextKey::FallbackWithAttendant, TextKey::FallbackWithoutChat);
        self.say(reply);
    }

    fn fallback_offers_reply(&self, with_people: TextKey, without_chat: TextKey) -> Reply {
        if self.params.live_chat() {
            Reply::new(with_people).options(vec![
                Offer::new(OPT_TALK_TO_ATTENDANT, TextKey::OptionTalkToAttendant),
                Offer::new(OPT_RESUME_TICKET, TextKey::OptionResumeTicket),
            ])
        } else {
            Reply::new(without_chat).options(vec![
                Offer::new(OPT_CREATE_TICKET, TextKey::OptionCreateTicket),
                Offer::new(OPT_RESUME_TICKET, TextKey::OptionResumeTicket),
            ])
        }
    }

    fn on_intent(&mut self, intent: ControlIntent, text: &str) {
        let in_choice = !self.conv.offers.is_empty() && self.conv.state != State::Idle;
        match intent {
            ControlIntent::CreateTicket => {
                let activity = self.context_activity();
                self.start_create(activity, false);
            }
            ControlIntent::ResumeTicket => {
                let activity = self.context_activity();
                self.start_resume(activity, ticket_number_in(text));
            }
            ControlIntent::TalkToAttendant => {
                let pending = match &self.conv.state {
                    State::FallbackOffered { text } => text.clone(),
                    _ => None,
                };
                self.talk_to_attendant(pending);
            }
            ControlIntent::Greeting => {
                self.say(Reply::new(TextKey::GreetingAgain));
                self.reprompt();
            }
            ControlIntent::Thanks => {
                self.say(Reply::new(TextKey::YoureWelcome));
                match self.conv.state {
                    // Thanks after reading an article: it helped, the search is over.
                    State::ChoosingArticle { .. } | State::ViewingArticle { .. } => {
                        self.back_to_idle();
                    }
                    State::Idle => {
                        let prompt = self.end_prompt();
                        self.say(prompt);
                    }
                    _ => self.reprompt(),
                }
            }
            ControlIntent::Goodbye => self.goodbye(),
            ControlIntent::Help => {
                let help = self.help_reply();
                self.say(help);
                if !(self.conv.state == State::Idle && self.params.assistant_enabled) {
                    self.reprompt();
                }
            }
            ControlIntent::Cancel => {
                if self.conv.state == State::Idle {
                    self.say(Reply::new(TextKey::NothingToCancel));
                    self.reprompt();
                } else {
                    self.cancel();
                }
            }
            ControlIntent::Yes | ControlIntent::No => {
                if let State::NoOpenTickets { activity } = self.conv.state.clone() {
                    if intent == ControlIntent::Yes {
                        self.start_create(activity, false);
                    } else {
                        self.back_to_idle();
                    }
                } else if in_choice {
                    self.choose_an_option();
                } else {
                    self.say(Reply::new(TextKey::NotUnderstood));
                    self.reprompt();
                }
            }
        }
    }

    // ----- Creating a ticket -----

    fn start_create(&mut self, activity: Option<ActivityRef>, for_attendant: bool) {
        self.say(ask_description_reply(activity.as_ref(), for_attendant));
        self.go(State::AwaitingDescription {
            activity,
            for_attendant,
        });
    }

    fn on_description(
        &mut self,
        text: String,
        understanding: Understanding,
        activity: Option<ActivityRef>,
        for_attendant: bool,
    ) {
        let identified = match understanding {
            // A request typed while a description is asked for ("I want to talk to a
            // specialist about...") is the description: the requester answers the question.
            Understanding::Control {
                intent: ControlIntent::TalkToAttendant | ControlIntent::ResumeTicket,
                ..
            } => None,
            Understanding::Control { intent, .. } => {
                match intent {
                    ControlIntent::Cancel => self.cancel(),
                    ControlIntent::Goodbye => self.goodbye(),
                    ControlIntent::Help => {
                        let help = self.help_reply();
                        self.say(help);
                        self.reprompt();
                    }
                    ControlIntent::Greeting => {
                        self.say(Reply::new(TextKey::GreetingAgain));
                        self.reprompt();
                    }
                    ControlIntent::Thanks => {
                        self.say(Reply::new(TextKey::YoureWelcome));
                        self.reprompt();
                    }
                    ControlIntent::TalkToAttendant
                    | ControlIntent::ResumeTicket
                    | ControlIntent::CreateTicket
                    | ControlIntent::Yes
                    | ControlIntent::No => self.say(Reply::new(TextKey::DescriptionNeeded)),
                }
                return;
            }
            // What the requester describes may name the activity the ticket is for.
            Understanding::Activities { hits } => best_activity(&hits).map(ActivityRef::from),
            Understanding::Articles { .. }
            | Understanding::Ambiguous { .. }
            | Understanding::Fallback => None,
        };
        let draft = self.new_draft(activity.or(identified), text, for_attendant);
        if for_attendant {
            self.create(draft);
        } else {
            self.confirm(draft);
        }
    }

    fn new_draft(
        &mut self,
        activity: Option<ActivityRef>,
        description: String,
        for_attendant: bool,
    ) -> TicketDraft {
        self.conv.drafts += 1;
        TicketDraft {
            activity,
            description,
            for_attendant,
            request_seq: self.conv.drafts,
        }
    }

    fn confirm(&mut self, draft: TicketDraft) {
        self.say(confirm_reply(&draft));
        self.go(State::ConfirmingTicket { draft });
    }

    fn on_confirmation_text(&mut self, intent_opt: Option<ControlIntent>, draft: TicketDraft) {
        match intent_opt {
            Some(ControlIntent::Yes) => self.create(draft),
            Some(ControlIntent::No) => self.rewrite(draft),
            Some(ControlIntent::Cancel) => self.cancel(),
            Some(ControlIntent::Goodbye) => self.goodbye(),
            Some(ControlIntent::Help) => {
                let help = self.help_reply();
                self.say(help);
                self.reprompt();
            }
            Some(ControlIntent::Greeting) => {
                self.say(Reply::new(TextKey::GreetingAgain));
                self.reprompt();
            }
            Some(ControlIntent::Thanks) => {
                self.say(Reply::new(TextKey::YoureWelcome));
                self.reprompt();
            }
            Some(
                ControlIntent::CreateTicket
                | ControlIntent::ResumeTicket
                | ControlIntent::TalkToAttendant,
            )
            | None => self.choose_an_option(),
        }
    }

    fn rewrite(&mut self, draft: TicketDraft) {
        self.say(Reply::new(TextKey::RewriteDescription));
        self.go(State::AwaitingDescription {
            activity: draft.activity,
            for_attendant: draft.for_attendant,
        });
    }

    fn create(&mut self, draft: TicketDraft) {
        let ticket = self.new_ticket(&draft);
        self.effects.push(Effect::CreateTicket(ticket));
        self.say(Reply::new(TextKey::CreatingTicket));
        self.go(State::CreatingTicket { draft });
    }

    fn new_ticket(&self, draft: &TicketDraft) -> NewTicket {
        let activity = draft.activity.as_ref();
        NewTicket {
            requester: self.conv.requester.clone(),
            language: self.conv.language,
            activity_id: activity
                .map(|activity| activity.id.clone())
                .filter(|id| !id.trim().is_empty())
                .unwrap_or_else(|| self.params.default_activity.clone()),
            contract: non_empty(activity.and_then(|activity| activity.contract.as_ref()))
                .unwrap_or_else(|| self.params.default_contract.clone()),
            group: self.group_for(activity.and_then(|activity| activity.group.as_ref())),
            description: draft.description.clone(),
            tags: vec![TICKET_TAG_CHAT.to_string()],
            request_seq: draft.request_seq,
        }
    }

    /// `own` when it is set, else parameter 316.
    fn group_for(&self, own: Option<&String>) -> String {
        non_empty(own).unwrap_or_else(|| self.params.default_group.clone())
    }

    fn on_ticket_created(&mut self, event_name: &'static str, number: &str) -> Outcome {
        let State::CreatingTicket { draft } = self.conv.state.clone() else {
            return Err(self.unexpected(event_name));
        };
        let number = clean_value(number);
        if number.is_empty() {
            return Err(MachineError::InvalidEvent {
                reason: "ticket created without a number",
            });
        }
        self.conv.ticket = Some(number.clone());
        if self.params.live_chat() {
            self.say(Reply::new(TextKey::TicketCreatedQueued).arg(Arg::Ticket, number.clone()));
            let group = self.group_for(
                draft
                    .activity
                    .as_ref()
                    .and_then(|activity| activity.group.as_ref()),
            );
            self.handoff(group, Some(number));
        } else {
            self.say(Reply::new(TextKey::TicketCreatedNoChat).arg(Arg::Ticket, number));
            self.back_to_idle();
        }
        Ok(())
    }

    // ----- People -----

    /// "Talk to an attendant": mode manual queues the chat at once; mode both opens a ticket
    /// first (from the text that fell back, else from a description asked now) and then queues
    /// it; mode automatic offers a ticket without live chat.
    fn talk_to_attendant(&mut self, pending: Option<String>) {
        match self.params.mode {
            ChatMode::Manual => {
                let group = self.params.default_group.clone();
                self.say(Reply::new(TextKey::ConnectingToAttendant).arg(Arg::Group, group.clone()));
                let ticket = self.conv.ticket.clone();
                self.handoff(group, ticket);
            }
            ChatMode::Automatic => {
                self.go(State::FallbackOffered { text: pending });
                let reply = self
                    .fallback_offers_reply(TextKey::OfferAttendantOrResume, TextKey::NoLiveChat);
                self.say(reply);
            }
            ChatMode::Both => match pending {
                Some(description) => {
                    let draft = self.new_draft(None, description, true);
                    self.create(draft);
                }
                None => self.start_create(None, true),
            },
        }
    }

    fn handoff(&mut self, group: String, ticket: Option<String>) {
        self.effects.push(Effect::Handoff {
            group: group.clone(),
            ticket: ticket.clone(),
            bridgeable: true,
        });
        self.set_status(ChatStatus::WaitingForAttendant);
        self.go(State::Queued { group, ticket });
    }

    fn forward_to_people(&mut self, text: String) {
        self.effects.push(Effect::Forward { text });
        if self.conv.attendant_online != Some(false) || self.conv.offline_notice_sent {
            return;
        }
        // Parameter 447: once per offline period, so the requester is not flooded.
        self.conv.offline_notice_sent = true;
        match self.params.offline_message.as_deref().map(str::trim) {
            None => self.say(Reply::new(TextKey::OfflineNotice)),
            Some("") => {}
            Some(custom) => self.say(Reply::new(TextKey::OfflineCustom).arg(Arg::Text, custom)),
        }
    }

    fn on_attendant_joined(&mut self, event_name: &'static str, name: &str) -> Outcome {
        if let State::Bridged { .. } = &self.conv.state {
            return self.on_agent_accepted(name);
        }
        let (group, ticket) = match &self.conv.state {
            State::Queued { group, ticket } | State::Live { group, ticket, .. } => {
                (group.clone(), ticket.clone())
            }
            _ => return Err(self.unexpected(event_name)),
        };
        let name = clean_value(name);
        if name.is_empty() {
            return Err(MachineError::InvalidEvent {
                reason: "attendant joined without a name",
            });
        }
        // The person already serving the chat joining it again is no news: an outbound
        // conversation opens with its attendant announced, and the desk then reports that
        // same person as responsible.
        if matches!(&self.conv.state, State::Live { attendant, .. } if *attendant == name) {
            self.conv.attendant_online = Some(true);
            return Ok(());
        }
        self.conv.attendant_online = Some(true);
        self.conv.offline_notice_sent = false;
        self.say(Reply::new(TextKey::AttendantJoined).arg(Arg::Attendant, name.clone()));
        self.go(State::Live {
            group,
            ticket,
            attendant: name,
        });
        self.set_status(ChatStatus::Online);
        Ok(())
    }

    fn on_attendant_left(&mut self, event_name: &'static str) -> Outcome {
        let State::Live { group, ticket, .. } = self.conv.state.clone() else {
            return Err(self.unexpected(event_name));
        };
        self.say(Reply::new(TextKey::AttendantLeft));
        self.go(State::Queued { group, ticket });
        self.set_status(ChatStatus::WaitingForAttendant);
        Ok(())
    }

    fn on_presence(&mut self, online: bool) {
        self.conv.attendant_online = Some(online);
        if online {
            self.conv.offline_notice_sent = false;
        }
        if matches!(self.conv.state, State::Live { .. }) {
            self.set_status(if online {
                ChatStatus::Online
            } else {
                ChatStatus::WaitingForAttendant
            });
        }
    }

    fn on_attendant_message(&mut self, event_name: &'static str) -> Outcome {
        if matches!(
            self.conv.state,
            State::Bridged {
                phase: HandoffPhase::Accepted { .. },
                ..
            }
        ) {
            return Ok(());
        }
        if !matches!(self.conv.state, State::Live { .. }) {
            return Err(self.unexpected(event_name));
        }
        // Someone who writes is present.
        self.on_presence(true);
        Ok(())
    }

    // ----- An external chat service (bridge) -----

    /// The hand-off just queued goes to `bridge` instead: same group, same ticket, the
    /// requester still waits (hollow dot) until an agent accepts.
    fn on_bridge_routed(&mut self, event_name: &'static str, bridge: String) -> Outcome {
        let State::Queued { group, ticket } = self.conv.state.clone() else {
            return Err(self.unexpected(event_name));
        };
        let bridge = clean_value(&bridge);
        if bridge.is_empty() {
            return Err(MachineError::InvalidEvent {
                reason: "hand-off routed to a bridge without an id",
            });
        }
        self.effects.push(Effect::BridgeHandoff {
            bridge: bridge.clone(),
            group: group.clone(),
            ticket: ticket.clone(),
        });
        self.go(State::Bridged {
            group,
            ticket,
            bridge,
            phase: HandoffPhase::Requested,
        });
        self.set_status(ChatStatus::WaitingForAttendant);
        Ok(())
    }

    fn on_handoff_initiated(&mut self) {
        if let State::Bridged { phase, .. } = &mut self.conv.state
            && *phase == HandoffPhase::Requested
        {
            *phase = HandoffPhase::Initiated;
        }
    }

    fn on_agent_accepted(&mut self, name: &str) -> Outcome {
        let name = clean_value(name);
        if name.is_empty() {
            return Err(MachineError::InvalidEvent {
                reason: "agent accepted without a name",
            });
        }
        let State::Bridged { phase, .. } = &mut self.conv.state else {
            return Ok(());
        };
        if matches!(phase, HandoffPhase::Accepted { agent } if *agent == name) {
            return Ok(());
        }
        *phase = HandoffPhase::Accepted {
            agent: name.clone(),
        };
        self.conv.attendant_online = Some(true);
        self.conv.offline_notice_sent = false;
        self.say(Reply::new(TextKey::AttendantJoined).arg(Arg::Attendant, name));
        self.set_status(ChatStatus::Online);
        Ok(())
    }

    /// Falls back to Ponte's own desk queue, telling the requester. Outside a bridged chat
    /// (already fallen back, or never bridged) and for a deadline after an accept, nothing.
    fn on_handoff_failed(&mut self, deadline: bool) {
        let State::Bridged {
            group,
            ticket,
            phase,
            ..
        } = self.conv.state.clone()
        else {
            return;
        };
        if deadline && matches!(phase, HandoffPhase::Accepted { .. }) {
            return;
        }
        self.say(Reply::new(TextKey::HandoffFellBack));
        self.effects.push(Effect::Handoff {
            group: group.clone(),
            ticket: ticket.clone(),
            bridgeable: false,
        });
        self.conv.attendant_online = None;
        self.go(State::Queued { group, ticket });
        self.set_status(ChatStatus::WaitingForAttendant);
    }

    /// The external service closed the chat: it ends without echoing back there.
    fn on_bridge_closed(&mut self, event_name: &'static str) -> Outcome {
        if !matches!(self.conv.state, State::Bridged { .. }) {
            return Err(self.unexpected(event_name));
        }
        self.say(Reply::new(TextKey::ConversationClosed));
        self.finish();
        Ok(())
    }

    // ----- Activities and open tickets -----

    fn activity_found(&mut self, activity: ActivityRef) {
        self.say(activity_found_reply(&activity));
        self.go(State::ActivityFound { activity });
    }

    fn start_resume(&mut self, activity: Option<ActivityRef>, wanted: Option<String>) {
        self.effects.push(Effect::ListOpenTickets {
            preferred_activity: activity.as_ref().map(|activity| activity.id.clone()),
        });
        self.say(Reply::new(TextKey::LookingUpTickets));
        self.go(State::ListingTickets { activity, wanted });
    }

    fn on_open_tickets(
        &mut self,
        event_name: &'static str,
        tickets: Vec<TicketSummary>,
    ) -> Outcome {
        let State::ListingTickets { activity, wanted } = self.conv.state.clone() else {
            return Err(self.unexpected(event_name));
        };
        let mut own: Vec<TicketSummary> = Vec::new();
        for mut ticket in tickets {
            ticket.number = clean_value(&ticket.number);
            ticket.subject = clean_value(&ticket.subject);
            if !ticket.number.is_empty() && !own.iter().any(|seen| seen.number == ticket.number) {
                own.push(ticket);
            }
        }
        if let Some(preferred) = activity.as_ref() {
            // Stable: the preferred activity's tickets first, each group in the given order.
            own.sort_by_key(|ticket| ticket.activity_id.as_deref() != Some(preferred.id.as_str()));
        }
        if let Some(number) = wanted {
            if let Some(ticket) = own
                .iter()
                .find(|ticket| ticket.number.eq_ignore_ascii_case(&number))
                .cloned()
            {
                self.attach(&ticket);
                return Ok(());
            }
            self.say(Reply::new(TextKey::TicketNotYours).arg(Arg::Ticket, number));
        }
        own.truncate(MAX_LISTED);
        if own.is_empty() {
            self.say(no_tickets_reply(activity.as_ref()));
            self.go(State::NoOpenTickets { activity });
        } else {
            self.say(choose_ticket_reply(&own, activity.as_ref()));
            self.go(State::ChoosingTicket {
                activity,
                tickets: own,
            });
        }
        Ok(())
    }

    fn attach(&mut self, ticket: &TicketSummary) {
        self.effects.push(Effect::AttachTicket {
            number: ticket.number.clone(),
        });
        self.say(Reply::new(TextKey::AttachingTicket).arg(Arg::Ticket, ticket.number.clone()));
        self.go(State::AttachingTicket {
            number: ticket.number.clone(),
            group: ticket.group.clone(),
        });
    }

    fn on_ticket_attached(&mut self, event_name: &'static str, number: &str) -> Outcome {
        let State::AttachingTicket {
            number: expected,
            group,
        } = self.conv.state.clone()
        else {
            return Err(self.unexpected(event_name));
        };
        if clean_value(number) != expected {
            return Err(MachineError::InvalidEvent {
                reason: "ticket attached is not the one requested",
            });
        }
        self.conv.ticket = Some(expected.clone());
        if self.params.live_chat() {
            self.say(Reply::new(TextKey::TicketAttachedQueued).arg(Arg::Ticket, expected.clone()));
            let group = self.group_for(group.as_ref());
            self.handoff(group, Some(expected));
        } else {
            self.say(Reply::new(TextKey::TicketAttachedNoChat).arg(Arg::Ticket, expected));
            self.back_to_idle();
        }
        Ok(())
    }

    // ----- Knowledge -----

    fn list_articles(&mut self, hits: Vec<ArticleHit>, query: String) {
        let mut articles: Vec<ArticleHit> = Vec::new();
        for hit in hits {
            if articles.len() == MAX_LISTED {
                break;
            }
            if !hit.id.is_empty() && !articles.iter().any(|seen| seen.id == hit.id) {
                articles.push(hit);
            }
        }
        if articles.is_empty() {
            self.nothing_found(&query, false);
            return;
        }
        self.say(articles_reply(&articles));
        self.go(State::ChoosingArticle { articles, query });
    }

    fn show_article(&mut self, articles: Vec<ArticleHit>, query: String, article: &ArticleHit) {
        self.effects.push(Effect::ShowArticle {
            article_id: article.id.clone(),
        });
        self.say(article_reply(article));
        self.go(State::ViewingArticle {
            articles,
            query,
            article_id: article.id.clone(),
        });
    }

    // ----- Ambiguity -----

    fn disambiguate(&mut self, mut candidates: Vec<Candidate>, text: String) {
        candidates.truncate(MAX_CANDIDATES);
        self.say(which_one_reply(&candidates));
        self.go(State::Disambiguating { candidates, text });
    }

    fn apply_candidate(&mut self, candidate: Candidate, text: &str) {
        // The candidate is acted on as if it had been understood from idle.
        self.go(State::Idle);
        match candidate {
            Candidate::Intent {
                intent: ControlIntent::Cancel,
            } => self.cancel(),
            Candidate::Intent { intent } => self.on_intent(intent, text),
            Candidate::Activity { activity } => self.activity_found(ActivityRef::from(&activity)),
            Candidate::Article { article } => {
                self.show_article(vec![article.clone()], text.to_string(), &article)
            }
        }
    }

    // ----- Options -----

    fn on_option(&mut self, option_id: String) -> Outcome {
        if !self.params.chat_enabled && !self.conv.state.with_people() {
            return Err(MachineError::ChatDisabled);
        }
        if !self.conv.offers.iter().any(|offer| offer.id == option_id) {
            if let Some(number) = option_id.strip_prefix(PREFIX_TICKET) {
                return Err(MachineError::TicketNotFound {
                    number: number.to_string(),
                });
            }
            return Err(MachineError::OptionNotOffered { option_id });
        }
        self.choose(&option_id)
    }

    /// Acts on an offered option (clicked, or typed as its number or label).
    fn choose(&mut self, option_id: &str) -> Outcome {
        let not_offered = || MachineError::OptionNotOffered {
            option_id: option_id.to_string(),
        };
        match self.conv.state.clone() {
            State::Idle => match option_id {
                OPT_CREATE_TICKET => self.start_create(None, false),
                OPT_SEARCH_ACTIVITY => {
                    self.say(Reply::new(TextKey::AskActivityQuery));
                    self.go(State::AwaitingActivityQuery);
                }
                OPT_SEARCH_KNOWLEDGE => {
                    self.say(Reply::new(TextKey::AskArticleQuery));
                    self.go(State::AwaitingArticleQuery);
                }
                _ => return Err(not_offered()),
            },
            State::ActivityFound { activity } => match option_id {
                OPT_CREATE_TICKET => self.start_create(Some(activity), false),
                OPT_RESUME_TICKET => self.start_resume(Some(activity), None),
                _ => return Err(not_offered()),
            },
            State::ConfirmingTicket { draft } => match option_id {
                OPT_YES => self.create(draft),
                OPT_NO => self.rewrite(draft),
                _ => return Err(not_offered()),
            },
            State::ChoosingTicket { activity, tickets } => {
                if option_id == OPT_CREATE_TICKET {
                    self.start_create(activity, false);
                } else {
                    let number = option_id
                        .strip_prefix(PREFIX_TICKET)
                        .ok_or_else(not_offered)?;
                    let ticket = tickets
                        .iter()
                        .find(|ticket| ticket.number == number)
                        .ok_or_else(not_offered)?
                        .clone();
                    self.attach(&ticket);
                }
            }
            State::NoOpenTickets { activity } => match option_id {
                OPT_CREATE_TICKET => self.start_create(activity, false),
                OPT_NOT_NOW => self.back_to_idle(),
                _ => return Err(not_offered()),
            },
            State::ChoosingArticle { articles, query } => {
                if option_id == OPT_NONE_OF_THESE {
                    self.fallback(Some(query));
                } else {
                    let id = option_id
                        .strip_prefix(PREFIX_ARTICLE)
                        .ok_or_else(not_offered)?;
                    let article = articles
                        .iter()
                        .find(|article| article.id == id)
                        .ok_or_else(not_offered)?
                        .clone();
                    self.show_article(articles, query, &article);
                }
            }
            State::ViewingArticle {
                articles,
                query,
                article_id,
            } => {
                let article = articles
                    .iter()
                    .find(|article| article.id == article_id)
                    .ok_or_else(not_offered)?
                    .clone();
                match option_id {
                    OPT_VIEW => {
                        self.effects.push(Effect::OpenUrl {
                            url: article.url.clone(),
                        });
                        let mut reply = article_reply(&article);
                        reply.text_key = TextKey::ArticleOpened;
                        reply.args = vec![(Arg::Title, article.title.clone())];
                        self.say(reply);
                    }
                    OPT_CLOSE => {
                        self.effects.push(Effect::CollapseArticle {
                            article_id: article.id.clone(),
                        });
                        self.say(articles_reply(&articles));
                        self.go(State::ChoosingArticle { articles, query });
                    }
                    _ => return Err(not_offered()),
                }
            }
            State::Disambiguating { candidates, text } => {
                let position: usize = option_id
                    .strip_prefix(PREFIX_CANDIDATE)
                    .and_then(|position| position.parse().ok())
                    .ok_or_else(not_offered)?;
                let candidate = candidates
                    .get(position.wrapping_sub(1))
                    .ok_or_else(not_offered)?
                    .clone();
                self.apply_candidate(candidate, &text);
            }
            State::FallbackOffered { text } => match option_id {
                OPT_TALK_TO_ATTENDANT => self.talk_to_attendant(text),
                OPT_CREATE_TICKET => match text {
                    // The requester already said what it is about: confirm that as the
                    // description rather than asking again.
                    Some(description) => {
                        let draft = self.new_draft(None, description, false);
                        self.confirm(draft);
                    }
                    None => self.start_create(None, false),
                },
                OPT_RESUME_TICKET => {
                    let wanted = text.as_deref().and_then(ticket_number_in);
                    self.start_resume(None, wanted);
                }
                _ => return Err(not_offered()),
            },
            State::NotStarted
            | State::Finished
            | State::AwaitingActivityQuery
            | State::AwaitingArticleQuery
            | State::AwaitingDescription { .. }
            | State::CreatingTicket { .. }
            | State::ListingTickets { .. }
            | State::AttachingTicket { .. }
            | State::Queued { .. }
            | State::Live { .. }
            | State::Bridged { .. } => return Err(not_offered()),
        }
        Ok(())
    }

    // ----- Effect failures and restarts -----

    fn on_effect_failed(&mut self, event_name: &'static str) -> Outcome {
        match self.conv.state.clone() {
            State::CreatingTicket { draft } => {
                // Back to the confirmation: "yes" retries with the same request_seq.
                let mut reply = confirm_reply(&draft);
                reply.text_key = TextKey::TicketCreationFailed;
                reply.args.clear();
                self.say(reply);
                self.go(State::ConfirmingTicket { draft });
            }
            State::ListingTickets { .. } => {
                self.say(Reply::new(TextKey::LookupFailed));
                self.back_to_idle();
            }
            State::AttachingTicket { number, .. } => {
                self.say(Reply::new(TextKey::AttachFailed).arg(Arg::Ticket, number));
                self.back_to_idle();
            }
            _ => return Err(self.unexpected(event_name)),
        }
        Ok(())
    }

    /// After a reload: the pending effect is issued again (ticket creation is idempotent through
    /// its request_seq) and the current question is asked again.
    /// After a restart: a pending effect is issued again (each is idempotent). Its prompt
    /// ("creating your ticket...") was stored with the state that asked for it, so it is
    /// not said twice; any other step asks its question again.
    fn on_resumed(&mut self) {
        match self.conv.state.clone() {
            State::CreatingTicket { draft } => {
                let ticket = self.new_ticket(&draft);
                self.effects.push(Effect::CreateTicket(ticket));
            }
            State::ListingTickets { activity, .. } => {
                self.effects.push(Effect::ListOpenTickets {
                    preferred_activity: activity.map(|activity| activity.id),
                });
            }
            State::AttachingTicket { number, .. } => {
                self.effects.push(Effect::AttachTicket { number });
            }
            _ => self.reprompt(),
        }
    }
}

// ----- Replies built from state -----

fn non_empty(value: Option<&String>) -> Option<String> {
    value
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .map(str::to_string)
}

/// The highest-scoring activity; the first one on ties, NaN scores last.
fn best_activity(hits: &[ActivityHit]) -> Option<&ActivityHit> {
    let score = |hit: &ActivityHit| {
        if hit.score.is_nan() {
            f32::NEG_INFINITY
        } else {
            hit.score
        }
    };
    hits.iter().filter(|hit| !hit.id.trim().is_empty()).fold(
        None,
        |best: Option<&ActivityHit>, hit| match best {
            Some(current) if score(current) >= score(hit) => Some(current),
            _ => Some(hit),
        },
    )
}

fn activity_found_reply(activity: &ActivityRef) -> Reply {
    Reply::new(TextKey::ActivityFound)
        .arg(Arg::Activity, activity.name.clone())
        .options(vec![
            Offer::new(OPT_CREATE_TICKET, TextKey::OptionNewTicketFor)
                .arg(Arg::Activity, activity.name.clone()),
            Offer::new(OPT_RESUME_TICKET, TextKey::OptionResumeMyTickets),
        ])
}

fn ask_description_reply(activity: Option<&ActivityRef>, for_attendant: bool) -> Reply {
    match activity {
        _ if for_attendant => Reply::new(TextKey::AskDescriptionForAttendant),
        Some(activity) => {
            Reply::new(TextKey::AskDescriptionFor).arg(Arg::Activity, activity.name.clone())
        }
        None => Reply::new(TextKey::AskDescription),
    }
}

fn confirm_reply(draft: &TicketDraft) -> Reply {
    let description = excerpt(&draft.description, MAX_ECHO_CHARS);
    let reply = match &draft.activity {
        Some(activity) => Reply::new(TextKey::ConfirmTicketFor)
            .arg(Arg::Activity, activity.name.clone())
            .arg(Arg::Description, description),
        None => Reply::new(TextKey::ConfirmTicket).arg(Arg::Description, description),
    };
    reply.options(vec![
        Offer::new(OPT_YES, TextKey::OptionYes),
        Offer::new(OPT_NO, TextKey::OptionNo),
    ])
}

fn create_offer(activity: Option<&ActivityRef>) -> Offer {
    match activity {
        Some(activity) => Offer::new(OPT_CREATE_TICKET, TextKey::OptionNewTicketFor)
            .arg(Arg::Activity, activity.name.clone()),
        None => Offer::new(OPT_CREATE_TICKET, TextKey::OptionCreateTicket),
    }
}

fn choose_ticket_reply(tickets: &[TicketSummary], activity: Option<&ActivityRef>) -> Reply {
    let mut options: Vec<Offer> = tickets
        .iter()
        .map(|ticket| {
            let id = format!("{PREFIX_TICKET}{}", ticket.number);
            if ticket.subject.is_empty() {
                Offer::new(id, TextKey::OptionTicketNumber).arg(Arg::Ticket, ticket.number.clone())
            } else {
                Offer::new(id, TextKey::OptionTicket)
                    .arg(Arg::Ticket, ticket.number.clone())
                    .arg(Arg::Subject, ticket.subject.clone())
            }
        })
        .collect();
    options.push(create_offer(activity));
    Reply::new(TextKey::ChooseTicket).options(options)
}

fn no_tickets_reply(activity: Option<&ActivityRef>) -> Reply {
    Reply::new(TextKey::NoOpenTickets).options(vec![
        create_offer(activity),
        Offer::new(OPT_NOT_NOW, TextKey::OptionNotNow),
    ])
}

fn articles_reply(articles: &[ArticleHit]) -> Reply {
    let mut options: Vec<Offer> = articles
        .iter()
        .map(|article| {
            Offer::new(
                format!("{PREFIX_ARTICLE}{}", article.id),
                TextKey::OptionArticle,
            )
            .arg(Arg::Title, article.title.clone())
        })
        .collect();
    options.push(Offer::new(OPT_NONE_OF_THESE, TextKey::OptionNoneOfThese));
    Reply::new(TextKey::ArticlesFound).options(options)
}

fn article_reply(article: &ArticleHit) -> Reply {
    let mut options = Vec::new();
    if !article.url.trim().is_empty() {
        options.push(Offer::new(OPT_VIEW, TextKey::OptionView));
    }
    options.push(Offer::new(OPT_CLOSE, TextKey::OptionClose));
    Reply::new(TextKey::ArticleShown)
        .arg(Arg::Title, article.title.clone())
        .arg(Arg::Summary, excerpt(&article.summary, MAX_SUMMARY_CHARS))
        .options(options)
}

fn which_one_reply(candidates: &[Candidate]) -> Reply {
    let options = candidates
        .iter()
        .enumerate()
        .map(|(index, candidate)| {
            let id = format!("{PREFIX_CANDIDATE}{}", index + 1);
            match candidate {
                Candidate::Intent { intent } => Offer::new(id, intent_label(*intent)),
                Candidate::Activity { activity } => {
                    Offer::new(id, TextKey::OptionActivityCandidate)
                        .arg(Arg::Activity, activity.name.clone())
                }
                Candidate::Article { article } => Offer::new(id, TextKey::OptionArticleCandidate)
                    .arg(Arg::Title, article.title.clone()),
            }
        })
        .collect();
    Reply::new(TextKey::WhichOne).options(options)
}

fn intent_label(intent: ControlIntent) -> TextKey {
    match intent {
        ControlIntent::CreateTicket => TextKey::OptionCreateTicket,
        ControlIntent::ResumeTicket => TextKey::OptionResumeTicket,
        ControlIntent::TalkToAttendant => TextKey::OptionTalkToAttendant,
        ControlIntent::Greeting => TextKey::OptionGreeting,
        ControlIntent::Thanks => TextKey::OptionThanks,
        ControlIntent::Goodbye => TextKey::OptionGoodbye,
        ControlIntent::Help => TextKey::OptionHelp,
        ControlIntent::Yes => TextKey::OptionYes,
        ControlIntent::No => TextKey::OptionNo,
        ControlIntent::Cancel => TextKey::OptionCancel,
    }
}
