//! The assistant's understanding of requester text: the dialogue-control intents loaded from
//! `intents/`, and the matcher that decides, for one text, among a control intent, catalogue
//! activities, knowledge articles, a short "which one?" question, or fallback.

#[cfg(feature = "devtools")]
pub mod bench;
pub mod intents;
pub mod matcher;

pub use intents::{IntentFile, load_intents};
pub use matcher::{Decision, MatchInput, Matcher, MatcherError, MatcherSettings, Signal};
