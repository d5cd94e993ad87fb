//! The conversation state machine: everything a chat with a requester can go through, from the
//! first greeting to the hand-off to a person, as a pure function
//! `(Conversation, Params, Event) -> (Conversation, Vec<Effect>)`. It never does I/O and never
//! classifies text: the orchestrator runs the matcher first and passes its [`Understanding`] in
//! the event, performs the effects (create a ticket, list tickets, queue the chat...) and feeds
//! their results back as events. The [`Conversation`] is serde-serialisable and is the only
//! thing the machine is driven by, so a conversation stored before a restart resumes where it
//! was. The end-user texts in pt-BR, es and en live in [`texts`].
//!
//! # Layout
//! - `params`: the service-desk parameters the machine reads (299, 315, 316, 317, 423, 447, mode).
//! - `event`: what comes in (requester input with the matcher's understanding, effect results,
//!   attendant events).
//! - `effect`: what goes out (replies with offered options, tickets, hand-off, status).
//! - `state`: the serialisable [`Conversation`] and its [`State`].
//! - `input`: hygiene of requester text (control characters, length) and option/ticket lookup.
//! - `machine`: the transition function [`step`].
//! - `error`: [`MachineError`] with stable codes and the reply a requester should see.
//! - `catalog`: every text key with its arguments and its three translations.
//! - `texts`: every text key rendered in the three languages.
//!
//! # Bad input: a polite reply or an error?
//! An error ([`MachineError`]) is returned, with the conversation left untouched, when the input
//! cannot be acted on at all: an empty or whitespace-only message, a message longer than
//! [`MAX_TEXT_CHARS`], an option id that is not among the current offers (a stale or forged
//! button; `ticket:<n>` ids answer `ticket_not_found`), chat disabled by parameter 299, an event
//! the state does not expect, or anything after the conversation finished. Every requester-caused
//! error has a localised [`MachineError::user_reply`]. Text that can be acted on but does not fit
//! the current step (unclear text while options are offered, "yes" with nothing to confirm, a
//! typed ticket number that is not one of the requester's open tickets) gets a polite reply and
//! the current question again.

mod catalog;
mod effect;
mod error;
mod event;
mod input;
mod machine;
mod params;
mod state;
pub mod texts;

#[cfg(test)]
mod tests;

pub use effect::{ChatStatus, Effect, NewTicket, Offer, Reply, TICKET_TAG_CHAT};
pub use error::MachineError;
pub use event::{
    ActivityHit, ArticleHit, Candidate, ControlIntent, Event, TicketSummary, Understanding,
};
pub(crate) use input::clean_text;
pub use input::{MAX_LISTED, MAX_TEXT_CHARS};
pub use machine::{Transition, step};
pub use params::{ChatMode, Params};
pub use state::{ActivityRef, Conversation, Expecting, HandoffPhase, State, TicketDraft};
pub use texts::{Arg, TextKey};
