//! Hygiene of what the requester types, and the few deterministic look-ups the machine does on it:
//! cleaning (control characters, length), resolving a typed option number or label to an offered
//! option, and spotting a ticket number. None of this is language understanding: that is the
//! matcher's job.

use super::effect::Offer;
use super::error::MachineError;
use super::texts::render_label;
use crate::lang::Language;

/// Longest requester text accepted, in characters, after cleaning and trimming.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Most articles or tickets listed as options at once.
pub const MAX_LISTED: usize = 5;
/// Most candidates offered when the matcher is unsure.
pub const MAX_CANDIDATES: usize = 3;
/// Longest description echoed back in the confirmation, in characters.
pub const MAX_ECHO_CHARS: usize = 300;

/// Removes control characters (keeping newline and tab), invisible bidi and zero-width format
/// characters, and trims. Fails on an empty result or on more than [`MAX_TEXT_CHARS`].
pub(crate) fn clean_text(raw: &str) -> Result<String, MachineError> {
    let kept: String = raw.chars().filter(|&c| is_kept(c)).collect();
    let trimmed = kept.trim();
    if trimmed.is_empty() {
        return Err(MachineError::EmptyText);
    }
    let length = trimmed.chars().count();
    if length > MAX_TEXT_CHARS {
        return Err(MachineError::TextTooLong {
            length,
            limit: MAX_TEXT_CHARS,
        });
    }
    Ok(trimmed.to_string())
}

fn is_kept(c: char) -> bool {
    if c == '\n' || c == '\t' {
        return true;
    }
    if c.is_control() {
        return false;
    }
    // Zero-width characters and bidi overrides can hide or reorder text in the attendant's view.
    !matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// Cleans a value coming from the orchestrator (names, numbers) that is shown to the requester.
pub(crate) fn clean_value(raw: &str) -> String {
    let kept: String = raw.chars().filter(|&c| is_kept(c)).collect();
    kept.trim().to_string()
}

/// Shortens `text` to at most `max` characters, ending with an ellipsis when cut.
pub(crate) fn excerpt(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

/// The offered option the requester typed: its number in the list ("2", "2.", "2)") or its label
/// in the conversation language, ignoring case and surrounding punctuation.
pub(crate) fn typed_offer(text: &str, offers: &[Offer], language: Language) -> Option<String> {
    let normalized = normalize(text);
    if normalized.is_empty() {
        return None;
    }
    if let Ok(position) = normalized.parse::<usize>() {
        if (1..=offers.len()).contains(&position) {
            return Some(offers[position - 1].id.clone());
        }
        return None;
    }
    offers
        .iter()
        .find(|offer| normalize(&render_label(offer, language)) == normalized)
        .map(|offer| offer.id.clone())
}

fn normalize(text: &str) -> String {
    text.trim()
        .trim_matches(|c: char| matches!(c, '.' | ')' | '!' | '?' | '"' | '\'' | '¡' | '¿'))
        .trim()
        .to_lowercase()
}

/// Words of `text` that could be ticket numbers, without a leading `#`.
fn number_like_tokens(text: &str) -> impl Iterator<Item = (&str, bool)> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '#' || c == '/'))
        .filter(|token| !token.is_empty())
        .map(|token| {
            let hashed = token.starts_with('#');
            (token.trim_start_matches('#').trim_matches('-'), hashed)
        })
        .filter(|(token, _)| !token.is_empty())
}

/// Whether the requester named ticket `number` in `text` (as a word, `#` allowed).
pub(crate) fn mentions_ticket(text: &str, number: &str) -> bool {
    number_like_tokens(text).any(|(token, _)| token.eq_ignore_ascii_case(number))
}

/// The first word of `text` that looks like a ticket number: it contains a digit, is made of
/// letters, digits, `-` and `/`, and has at least three characters or a leading `#`
/// ("1234", "#7", "INC-2024-0042").
pub(crate) fn ticket_number_in(text: &str) -> Option<String> {
    number_like_tokens(text)
        .find(|(token, hashed)| {
            token.chars().any(|c| c.is_ascii_digit())
                && token
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '/')
                && (*hashed || token.chars().count() >= 3)
        })
        .map(|(token, _)| token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::texts::TextKey;

    #[test]
    fn control_characters_are_stripped_but_newlines_and_tabs_kept() {
        let cleaned = clean_text("\u{0}  my\u{7} printer\r\n\tjams\u{1b}[31m \u{202E}  ").unwrap();
        assert_eq!(cleaned, "my printer\n\tjams[31m");
    }

    #[test]
    fn empty_and_whitespace_only_texts_are_rejected() {
        for raw in ["", "   ", "\n\t  \n", "\u{0}\u{1}\u{2}", "\u{200B}"] {
            assert_eq!(clean_text(raw), Err(MachineError::EmptyText), "{raw:?}");
        }
    }

    #[test]
    fn the_limit_counts_characters_after_trimming() {
        let at_limit = format!("  {}  ", "é".repeat(MAX_TEXT_CHARS));
        assert_eq!(
            clean_text(&at_limit).unwrap().chars().count(),
            MAX_TEXT_CHARS
        );
        let huge = "a".repeat(100 * 1024);
        assert_eq!(
            clean_text(&huge),
            Err(MachineError::TextTooLong {
                length: 100 * 1024,
                limit: MAX_TEXT_CHARS
            })
        );
    }

    #[test]
    fn excerpt_cuts_with_an_ellipsis() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("abcdef ghijkl", 8), "abcdef…");
    }

    #[test]
    fn typed_numbers_and_labels_choose_offers() {
        let offers = vec![
            Offer::new("yes", TextKey::OptionYes),
            Offer::new("no", TextKey::OptionNo),
        ];
        assert_eq!(
            typed_offer("2", &offers, Language::En).as_deref(),
            Some("no")
        );
        assert_eq!(
            typed_offer(" 1) ", &offers, Language::En).as_deref(),
            Some("yes")
        );
        assert_eq!(
            typed_offer("SÍ!", &offers, Language::Es).as_deref(),
            Some("yes")
        );
        assert_eq!(
            typed_offer("não", &offers, Language::PtBr).as_deref(),
            Some("no")
        );
        assert_eq!(typed_offer("3", &offers, Language::En), None);
        assert_eq!(typed_offer("yes please", &offers, Language::En), None);
    }

    #[test]
    fn ticket_numbers_are_spotted() {
        assert_eq!(
            ticket_number_in("retomar o chamado 1234").as_deref(),
            Some("1234")
        );
        assert_eq!(ticket_number_in("ticket #7 please").as_deref(), Some("7"));
        assert_eq!(
            ticket_number_in("INC-2024-0042?").as_deref(),
            Some("INC-2024-0042")
        );
        assert_eq!(ticket_number_in("my 2 tickets"), None);
        assert_eq!(ticket_number_in("no number here"), None);
        assert!(mentions_ticket("quero o #4521, por favor", "4521"));
        assert!(!mentions_ticket("quero o 45210", "4521"));
    }
}
