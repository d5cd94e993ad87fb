//! Whether a requester's text asks *how* to do something ("how do I add a printer",
//! "cómo configuro la vpn", "como faço pra conectar na vpn"): such a question is answered by
//! an article, where a report of a problem ("the vpn won't connect") is answered by opening
//! a ticket. The cues are a few words per language, read on text already normalised and
//! with its short forms written out ([`super::shorthand`]).

use crate::lang::Language;

/// Word sequences that ask how, wherever they appear in the text.
const EN: &[&[&str]] = &[
    &["how", "do", "i"],
    &["how", "can", "i"],
    &["how", "should", "i"],
    &["how", "do", "you"],
    &["how", "do", "we"],
    &["how", "can", "we"],
    &["how", "to"],
    &["where", "do", "i"],
    &["where", "can", "i"],
    &["is", "there", "a", "way", "to"],
    &["steps", "to"],
];

const ES: &[&[&str]] = &[
    &["como", "puedo"],
    &["como", "hago"],
    &["como", "se"],
    &["de", "que", "manera"],
    &["que", "hago", "para"],
    &["que", "tengo", "que", "hacer", "para"],
    &["donde", "puedo"],
    &["pasos", "para"],
];

const PT_BR: &[&[&str]] = &[
    &["como", "faco"],
    &["como", "eu"],
    &["como", "posso"],
    &["como", "se"],
    &["de", "que", "forma"],
    &["o", "que", "faco", "para"],
    &["o", "que", "eu", "faco", "para"],
    &["onde", "eu"],
    &["onde", "posso"],
    &["passo", "a", "passo"],
];

/// Words after which "como"/"cómo" opens an indirect question ("sabes cómo...",
/// "me explica como..."), as it does at the start of the text.
const BEFORE_HOW: &[&str] = &[
    "sabe", "sabes", "saber", "explica", "explicas", "explicar", "dizer", "decir", "diz", "dime",
    "ensina", "ensinar", "ensenas", "ensename", "mostra", "mostrar", "entender",
];

/// Greetings and courtesies that may come before the question.
const OPENERS: &[&str] = &[
    "oi", "ola", "hola", "hi", "hello", "hey", "bom", "buenas", "buenos", "dia", "dias", "tarde",
    "tardes", "por", "favor", "please", "ei", "oye",
];

/// Whether `text` (normalised, short forms written out) asks how to do something.
pub fn asks_how(text: &str, language: Language) -> bool {
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let cues = match language {
        Language::PtBr => PT_BR,
        Language::Es => ES,
        Language::En => EN,
    };
    if cues
        .iter()
        .any(|cue| words.windows(cue.len()).any(|window| window == *cue))
    {
        return true;
    }
    if language == Language::En {
        return false;
    }
    // "cómo"/"como" opening the question, after any greeting, or after "sabes", "explica"...
    let first = words
        .iter()
        .position(|word| !OPENERS.contains(word))
        .unwrap_or(words.len());
    words.iter().enumerate().any(|(index, word)| {
        *word == "como" && (index == first || (index > 0 && BEFORE_HOW.contains(&words[index - 1])))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_asking_how_in_each_language() {
        assert!(asks_how("how do i add a printer", Language::En));
        assert!(asks_how("hi how to connect to the vpn", Language::En));
        assert!(asks_how(
            "como configuro la vpn en mi portatil",
            Language::Es
        ));
        assert!(asks_how(
            "hola sabes como configuro el correo",
            Language::Es
        ));
        assert!(asks_how("como faco pra conectar na vpn", Language::PtBr));
        assert!(asks_how(
            "bom dia como instalo a impressora",
            Language::PtBr
        ));
    }

    #[test]
    fn problem_reports_do_not_ask_how() {
        assert!(!asks_how("the vpn won t connect", Language::En));
        assert!(!asks_how("la vpn no conecta", Language::Es));
        assert!(!asks_how("a vpn nao conecta como sempre", Language::PtBr));
        assert!(!asks_how("how are you", Language::En));
    }
}
