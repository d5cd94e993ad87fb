//! The assistant's understanding of requester text: the dialogue-control intents loaded from
//! `intents/`, and the matcher that decides, for one text, among a control intent, catalogue
//! activities, knowledge articles, a short "which one?" question, or fallback; with what it
//! reads the text by: the domain's short forms (`shorthand`), questions asking how (`howto`)
//! and the words of the domain (`domain`).

#[cfg(feature = "devtools")]
pub mod bench;
mod domain;
mod howto;
pub mod intents;
pub mod matcher;
mod shorthand;

pub use intents::{IntentFile, load_intents};
pub use matcher::{Decision, MatchInput, Matcher, MatcherError, MatcherSettings, Signal};
