//! Text normalisation shared by training and prediction: lowercase, accent folding,
//! punctuation to spaces and collapsed whitespace, so that "Não consigo!" and "nao consigo"
//! produce the same tokens.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lowercases `text`, folds accents (NFKD, then drops combining marks), turns every
/// character that is not a letter or a digit into a space and collapses runs of spaces.
/// The result has no leading or trailing space.
pub fn normalize(text: &str) -> String {
    let mut normalized = String::with_capacity(text.len());
    let mut pending_space = false;
    for ch in text.nfkd() {
        if is_combining_mark(ch) {
            continue;
        }
        if ch.is_alphanumeric() {
            if pending_space && !normalized.is_empty() {
                normalized.push(' ');
            }
            pending_space = false;
            normalized.extend(ch.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    normalized
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_portuguese_and_spanish_accents() {
        assert_eq!(normalize("Não consigo acessar"), "nao consigo acessar");
        assert_eq!(normalize("Olvidé mi CONTRASEÑA"), "olvide mi contrasena");
        assert_eq!(normalize("ação, coração e pôr"), "acao coracao e por");
    }

    #[test]
    fn turns_punctuation_into_single_spaces() {
        assert_eq!(normalize("  Hello,   world!! "), "hello world");
        assert_eq!(normalize("what's up?"), "what s up");
        assert_eq!(normalize("e-mail/VPN"), "e mail vpn");
        assert_eq!(normalize("¿Cómo?"), "como");
    }

    #[test]
    fn keeps_digits_and_handles_empty_input() {
        assert_eq!(normalize("Ticket #4521"), "ticket 4521");
        assert_eq!(normalize(""), "");
        assert_eq!(normalize("?!..."), "");
    }

    #[test]
    fn folds_compatibility_forms() {
        // Full-width letters and ligatures come out as plain ASCII.
        assert_eq!(normalize("ＶＰＮ ﬁle"), "vpn file");
    }
}
