//! Every end-user text of the conversation, in pt-BR, es and en, and their rendering. A text is
//! named by a [`TextKey`]; its placeholders (`{ticket}`, `{activity}`...) are the [`Arg`]s the
//! key declares. The keys and their translations live in `catalog`; this module renders them.
//! Values are substituted in one pass, so a value that itself contains `{...}` is never expanded
//! again.

use super::effect::{Offer, Reply};
use crate::lang::Language;

pub use super::catalog::{Arg, TextKey};

/// Renders `key` with `args` in `language`. A placeholder without a value is left as is (the
/// unit tests make sure the machine always passes every argument a key declares).
pub fn render_text(key: TextKey, args: &[(Arg, String)], language: Language) -> String {
    substitute(key.template(language), args)
}

/// The label of an offered option in `language`.
pub fn render_label(offer: &Offer, language: Language) -> String {
    render_text(offer.label_key, &offer.label_args, language)
}

/// A reply as plain text: the message, then the options numbered from 1 (the number typed back
/// in a text-only channel chooses the option).
pub fn render(reply: &Reply, language: Language) -> String {
    let mut out = render_text(reply.text_key, &reply.args, language);
    for (index, offer) in reply.options.iter().enumerate() {
        out.push('\n');
        out.push_str(&format!("{}. {}", index + 1, render_label(offer, language)));
    }
    out
}

fn substitute(template: &str, args: &[(Arg, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value_opt = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(arg, _)| arg.name() == name)
                .map(|(_, value)| (value, close))
        });
        match value_opt {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(arg: Arg) -> String {
        match arg {
            Arg::Ticket => "2024-0042".to_string(),
            Arg::Subject => "VPN drops".to_string(),
            Arg::Activity => "Printer repair".to_string(),
            Arg::Description => "the printer jams".to_string(),
            Arg::Title => "Reset your password".to_string(),
            Arg::Summary => "Use the self-service page.".to_string(),
            Arg::Group => "service-desk".to_string(),
            Arg::Attendant => "Ana".to_string(),
            Arg::Limit => "4000".to_string(),
            Arg::Text => "We are away until 8 a.m.".to_string(),
        }
    }

    fn placeholders(template: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            match after.find('}') {
                Some(close) => {
                    names.push(after[..close].to_string());
                    rest = &after[close + 1..];
                }
                None => break,
            }
        }
        names
    }

    #[test]
    fn every_key_renders_in_every_language_without_leftover_placeholders() {
        for &key in TextKey::ALL {
            for language in Language::ALL {
                let args: Vec<(Arg, String)> =
                    key.args().iter().map(|&arg| (arg, sample(arg))).collect();
                let rendered = render_text(key, &args, language);
                assert!(
                    !rendered.trim().is_empty(),
                    "{key:?} in {language} is empty"
                );
                assert!(
                    !rendered.contains('{') && !rendered.contains('}'),
                    "{key:?} in {language} kept a placeholder: {rendered}"
                );
                for &arg in key.args() {
                    assert!(
                        rendered.contains(&sample(arg)),
                        "{key:?} in {language} does not show {arg:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn templates_use_exactly_the_declared_arguments() {
        for &key in TextKey::ALL {
            for language in Language::ALL {
                let mut used = placeholders(key.template(language));
                used.sort();
                used.dedup();
                let mut declared: Vec<String> = key
                    .args()
                    .iter()
                    .map(|arg| arg.name().to_string())
                    .collect();
                declared.sort();
                assert_eq!(used, declared, "{key:?} in {language}");
            }
        }
    }

    #[test]
    fn texts_are_translated_not_copied() {
        // Keys whose text is only placeholders, or a word Spanish shares with English, may match.
        let same_everywhere = [
            TextKey::ArticleShown,
            TextKey::OfflineCustom,
            TextKey::OptionTicket,
            TextKey::OptionArticle,
            TextKey::OptionNo,
            TextKey::OptionCancel,
            TextKey::OptionTicketNumber,
        ];
        for &key in TextKey::ALL {
            if same_everywhere.contains(&key) {
                continue;
            }
            let pt = key.template(Language::PtBr);
            let es = key.template(Language::Es);
            let en = key.template(Language::En);
            assert!(pt != en && es != en, "{key:?} looks untranslated");
        }
    }

    #[test]
    fn values_are_substituted_once() {
        let args = vec![(Arg::Attendant, "{text}".to_string())];
        assert_eq!(
            render_text(TextKey::AttendantJoined, &args, Language::En),
            "{text} joined the chat."
        );
    }

    #[test]
    fn render_numbers_the_options() {
        let reply = Reply::new(TextKey::SmartChatMenu).options(vec![
            Offer::new("create_ticket", TextKey::OptionCreateTicket),
            Offer::new("search_activity", TextKey::OptionSearchActivity),
        ]);
        assert_eq!(
            render(&reply, Language::PtBr),
            "O que você gostaria de fazer?\n1. Abrir um chamado\n2. Procurar um serviço"
        );
    }

    #[test]
    fn keys_serialise_in_snake_case() {
        let json = serde_json::to_string(&TextKey::TicketCreatedQueued).unwrap();
        assert_eq!(json, "\"ticket_created_queued\"");
    }
}
