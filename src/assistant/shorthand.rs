//! The short forms requesters type in a service-desk chat ("pw", "snh", "pc", "note",
//! "wi-fi", "vc", "porfa"...), written out in full per language, so that "forgot my pw" meets
//! the "password" of the training phrases and the articles. The matcher applies it to its
//! training text and to every query alike, after [`crate::intent::normalize`], so both
//! sides always agree on the spelling.
//!
//! Only forms that mean one thing in a service desk are listed: "pass" is a password in
//! Portuguese and Spanish chat but too many other things in English ("boarding pass"), and
//! the Spanish "contra" is also "against".

use crate::intent::normalize;
use crate::lang::Language;

/// Two-word spellings of one word, whatever the language ("wi-fi" normalises to "wi fi").
const JOINED: &[(&str, &str, &str)] = &[
    ("wi", "fi", "wifi"),
    ("e", "mail", "email"),
    ("log", "in", "login"),
];

/// Short forms of every language.
const COMMON: &[(&str, &str)] = &[("2fa", "mfa"), ("wlan", "wifi"), ("mail", "email")];

const PT_BR: &[(&str, &str)] = &[
    ("pw", "senha"),
    ("pwd", "senha"),
    ("psw", "senha"),
    ("pswd", "senha"),
    ("passwd", "senha"),
    ("pass", "senha"),
    ("snh", "senha"),
    ("pc", "computador"),
    ("note", "notebook"),
    ("cel", "celular"),
    ("vc", "voce"),
    ("vcs", "voces"),
    ("pq", "porque"),
    ("q", "que"),
    ("n", "nao"),
    ("tb", "tambem"),
    ("tbm", "tambem"),
    ("obg", "obrigado"),
    ("brigado", "obrigado"),
    ("vlw", "valeu"),
    ("msg", "mensagem"),
    ("wpp", "whatsapp"),
    ("zap", "whatsapp"),
    ("hj", "hoje"),
    ("mt", "muito"),
    ("mto", "muito"),
    ("qdo", "quando"),
    ("qnd", "quando"),
    ("ngm", "ninguem"),
];

const ES: &[(&str, &str)] = &[
    ("pw", "contrasena"),
    ("pwd", "contrasena"),
    ("psw", "contrasena"),
    ("pswd", "contrasena"),
    ("passwd", "contrasena"),
    ("pass", "contrasena"),
    ("pc", "ordenador"),
    ("compu", "ordenador"),
    ("cel", "movil"),
    ("q", "que"),
    ("pq", "porque"),
    ("xq", "porque"),
    ("tb", "tambien"),
    ("tmb", "tambien"),
    ("porfa", "por favor"),
    ("xfa", "por favor"),
    ("pf", "por favor"),
    ("msj", "mensaje"),
    ("grax", "gracias"),
    ("grs", "gracias"),
    ("wasap", "whatsapp"),
];

const EN: &[(&str, &str)] = &[
    ("pw", "password"),
    ("pwd", "password"),
    ("psw", "password"),
    ("pswd", "password"),
    ("passwd", "password"),
    ("pc", "computer"),
    ("u", "you"),
    ("ur", "your"),
    ("pls", "please"),
    ("plz", "please"),
    ("thx", "thanks"),
    ("thnx", "thanks"),
    ("tks", "thanks"),
    ("acct", "account"),
    ("msg", "message"),
    // Contractions typed without the apostrophe, as `normalize` spells them with it.
    ("im", "i m"),
    ("cant", "can t"),
    ("dont", "don t"),
    ("wont", "won t"),
    ("doesnt", "doesn t"),
    ("didnt", "didn t"),
    ("isnt", "isn t"),
];

fn table(language: Language) -> &'static [(&'static str, &'static str)] {
    match language {
        Language::PtBr => PT_BR,
        Language::Es => ES,
        Language::En => EN,
    }
}

fn lookup(table: &[(&'static str, &'static str)], word: &str) -> Option<&'static str> {
    table
        .iter()
        .find(|(short, _)| *short == word)
        .map(|(_, long)| *long)
}

/// `text` normalised, with the short forms of `language` (and those of every language)
/// written out in full.
pub fn expand(text: &str, language: Language) -> String {
    let normalized = normalize(text);
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out: Vec<&str> = Vec::with_capacity(words.len());
    let mut index = 0;
    while index < words.len() {
        let word = words[index];
        if let Some(next) = words.get(index + 1)
            && let Some((_, _, joined)) = JOINED
                .iter()
                .find(|(first, second, _)| *first == word && second == next)
        {
            out.push(joined);
            index += 2;
            continue;
        }
        let full = lookup(table(language), word)
            .or_else(|| lookup(COMMON, word))
            .unwrap_or(word);
        out.push(full);
        index += 1;
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_spelled_out_in_each_language() {
        assert_eq!(expand("forgot my pw", Language::En), "forgot my password");
        assert_eq!(expand("Esqueci a SNH", Language::PtBr), "esqueci a senha");
        assert_eq!(
            expand("olvidé la pass", Language::Es),
            "olvide la contrasena"
        );
        // "pass" is not a password in English.
        assert_eq!(expand("boarding pass", Language::En), "boarding pass");
    }

    #[test]
    fn devices_and_joined_spellings() {
        assert_eq!(
            expand("o note não liga no Wi-Fi", Language::PtBr),
            "o notebook nao liga no wifi"
        );
        assert_eq!(
            expand("mi pc y el e-mail", Language::Es),
            "mi ordenador y el email"
        );
        assert_eq!(
            expand("my PC wont boot", Language::En),
            "my computer won t boot"
        );
        // "note" is only short for a laptop in Portuguese.
        assert_eq!(expand("take a note", Language::En), "take a note");
    }

    #[test]
    fn text_without_short_forms_is_only_normalised() {
        assert_eq!(
            expand("¿Cómo configuro la VPN?", Language::Es),
            "como configuro la vpn"
        );
        assert_eq!(expand("", Language::En), "");
    }
}
