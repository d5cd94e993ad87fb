//! Languages Ponte speaks (pt-BR, es, en): parsing, display and a small detector
//! based on function words, used when a requester did not say which language they use.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One of the three end-user languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Language {
    #[serde(rename = "pt-BR", alias = "pt", alias = "pt-br", alias = "pt_BR")]
    PtBr,
    #[serde(rename = "es")]
    Es,
    #[serde(rename = "en")]
    En,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::PtBr, Language::Es, Language::En];

    /// The BCP 47 tag used in files, the API and the CLI.
    pub fn tag(self) -> &'static str {
        match self {
            Language::PtBr => "pt-BR",
            Language::Es => "es",
            Language::En => "en",
        }
    }

    /// Guesses the language of a short text from common function words and letters.
    /// Returns `None` when there is no evidence at all (e.g. "ok", "vpn").
    pub fn detect(text: &str) -> Option<Language> {
        let lower = text.to_lowercase();
        let mut scores = [0i32; 3];
        for word in lower.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            if PT_WORDS.contains(&word) {
                scores[0] += 2;
            }
            if ES_WORDS.contains(&word) {
                scores[1] += 2;
            }
            if EN_WORDS.contains(&word) {
                scores[2] += 2;
            }
        }
        for ch in lower.chars() {
            match ch {
                'ã' | 'õ' | 'ç' | 'ê' | 'ô' | 'à' => scores[0] += 3,
                'ñ' | '¿' | '¡' => scores[1] += 3,
                _ => {}
            }
        }
        let best = (0..3).max_by_key(|&i| (scores[i], std::cmp::Reverse(i)))?;
        if scores[best] == 0 {
            return None;
        }
        Some(Language::ALL[best])
    }
}

const PT_WORDS: &[&str] = &[
    "não",
    "nao",
    "você",
    "voce",
    "meu",
    "minha",
    "com",
    "uma",
    "para",
    "pra",
    "está",
    "esta",
    "estou",
    "quero",
    "preciso",
    "obrigado",
    "obrigada",
    "olá",
    "ola",
    "oi",
    "sim",
    "chamado",
    "senha",
    "do",
    "da",
    "dos",
    "das",
    "no",
    "na",
    "em",
    "isso",
    "também",
    "tambem",
    "como",
    "ajuda",
    "consigo",
    "funciona",
    "bom",
    "dia",
    "tchau",
    "acesso",
    "impressora",
    "é",
];
const ES_WORDS: &[&str] = &[
    "no",
    "usted",
    "mi",
    "mis",
    "con",
    "una",
    "para",
    "está",
    "estoy",
    "quiero",
    "necesito",
    "gracias",
    "hola",
    "sí",
    "si",
    "contraseña",
    "del",
    "el",
    "los",
    "las",
    "en",
    "eso",
    "también",
    "como",
    "cómo",
    "ayuda",
    "puedo",
    "funciona",
    "buenos",
    "días",
    "adiós",
    "adios",
    "acceso",
    "impresora",
    "es",
    "tengo",
    "hablar",
    "por",
    "favor",
    "y",
];
const EN_WORDS: &[&str] = &[
    "the", "my", "i", "you", "is", "are", "not", "with", "for", "to", "want", "need", "please",
    "thanks", "thank", "hello", "hi", "yes", "password", "of", "in", "how", "help", "can", "can't",
    "cannot", "works", "working", "good", "morning", "bye", "access", "printer", "it", "a", "an",
    "and", "do", "does", "what", "ticket", "open",
];

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

/// The error for a language tag Ponte does not speak.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown language {0:?}: expected pt-BR, es or en")]
pub struct UnknownLanguage(pub String);

impl FromStr for Language {
    type Err = UnknownLanguage;

    fn from_str(tag: &str) -> Result<Self, Self::Err> {
        match tag.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "pt-br" | "pt" | "ptbr" => Ok(Language::PtBr),
            "es" | "es-es" | "es-419" | "es-mx" | "es-ar" => Ok(Language::Es),
            "en" | "en-us" | "en-gb" => Ok(Language::En),
            _ => Err(UnknownLanguage(tag.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_tags_case_insensitively() {
        assert_eq!("pt-BR".parse::<Language>().unwrap(), Language::PtBr);
        assert_eq!("pt_br".parse::<Language>().unwrap(), Language::PtBr);
        assert_eq!("ES".parse::<Language>().unwrap(), Language::Es);
        assert!("fr".parse::<Language>().is_err());
    }

    #[test]
    fn detects_the_three_languages() {
        assert_eq!(
            Language::detect("não consigo acessar minha conta"),
            Some(Language::PtBr)
        );
        assert_eq!(
            Language::detect("olvidé mi contraseña, necesito ayuda"),
            Some(Language::Es)
        );
        assert_eq!(Language::detect("i forgot my password"), Some(Language::En));
        assert_eq!(Language::detect("vpn"), None);
    }
}
