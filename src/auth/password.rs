//! Staff passwords: the policy a new password must meet, hashing it with Argon2id (a
//! memory-hard hash: 19 MiB and two passes, the crate's defaults) into a PHC string with a
//! random salt, and checking a password against a kept hash. Checking a user name that has
//! no account costs the same as checking a wrong password (against a hash made once), so the
//! time a refusal takes does not tell which names exist.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 10;
/// Most bytes a password may have (a longer one costs time to hash for nothing).
pub const MAX_BYTES: usize = 256;

/// Why a new password is refused; the text says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WeakPassword(pub String);

/// `Ok` when `password` may be set: at least [`MIN_CHARS`] characters, at most
/// [`MAX_BYTES`] bytes, not only blanks, no control characters, and not the user name.
pub fn check_policy(username: &str, password: &str) -> Result<(), WeakPassword> {
    if password.chars().count() < MIN_CHARS || password.trim().is_empty() {
        return Err(WeakPassword(format!(
            "a password must have at least {MIN_CHARS} characters"
        )));
    }
    if password.len() > MAX_BYTES {
        return Err(WeakPassword(format!(
            "a password must have at most {MAX_BYTES} bytes"
        )));
    }
    if password.chars().any(char::is_control) {
        return Err(WeakPassword(
            "a password must not contain control characters".into(),
        ));
    }
    if password.eq_ignore_ascii_case(username) {
        return Err(WeakPassword("a password must not be the user name".into()));
    }
    Ok(())
}

/// The PHC string of `password` hashed with a fresh random salt. Slow on purpose (tens of
/// milliseconds): call it off the async runtime's threads.
pub fn hash(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|error| format!("no random bytes: {error}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|error| error.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|error| format!("hashing the password: {error}"))
}

/// Whether `password` matches `kept` (a PHC string); with no kept hash, `false` after the
/// same work as a real check. An unreadable kept hash is a mismatch. Slow on purpose.
pub fn verify(password: &str, kept: Option<&str>) -> bool {
    let candidate = kept.and_then(|kept| PasswordHash::new(kept).ok());
    match candidate {
        Some(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        None => {
            let stand_in = stand_in_hash();
            if let Ok(parsed) = PasswordHash::new(stand_in) {
                let _ = Argon2::default().verify_password(password.as_bytes(), &parsed);
            }
            false
        }
    }
}

/// A hash of a random password, made once, checked against when there is no account.
fn stand_in_hash() -> &'static str {
    static STAND_IN: OnceLock<String> = OnceLock::new();
    STAND_IN.get_or_init(|| {
        let mut secret = [0u8; 24];
        let _ = getrandom::fill(&mut secret);
        hash(&hex::encode(secret)).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_checks_its_password_only() {
        let kept = hash("correct horse battery").unwrap();
        assert!(kept.starts_with("$argon2id$"), "{kept}");
        assert!(verify("correct horse battery", Some(&kept)));
        assert!(!verify("correct horse batterY", Some(&kept)));
        assert!(!verify("correct horse battery", None));
        assert!(!verify("correct horse battery", Some("not a hash")));
        // A fresh salt each time: the same password never hashes the same.
        assert_ne!(kept, hash("correct horse battery").unwrap());
    }

    #[test]
    fn the_policy_refuses_short_long_and_name_passwords() {
        assert!(check_policy("ana", "ten chars!").is_ok());
        assert!(check_policy("ana", "nine char").is_err());
        assert!(check_policy("ana", "          ").is_err());
        assert!(check_policy("ana", &"x".repeat(MAX_BYTES + 1)).is_err());
        assert!(check_policy("ana", "tab\there12345").is_err());
        assert!(check_policy("anabeatriz1", "AnaBeatriz1").is_err());
    }
}
