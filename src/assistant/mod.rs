//! The assistant's understanding of requester text: the dialogue-control intents loaded from
//! `intents/`, and the matcher that decides, for one text, among a control intent, catalogue
//! activities, knowledge articles, a short "which one?" question, or fallback; and the domain's
//! short forms (`shorthand`) it writes out before reading a text.

#[cfg(feature = "devtools")]
pub mod bench;
pub mod intents;
pub mod matcher;
mod shorthand;

pub use intents::{IntentFile, load_intents};
pub use matcher::{Decision, MatchInput, Matcher, MatcherError, MatcherSettings, Signal};
