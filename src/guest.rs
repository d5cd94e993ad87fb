//! Anonymous guests of the portal widget. A visitor who is not signed in to the portal
//! still gets a requester identity of their own, `guest-<random>`, that sees public
//! knowledge only. Its token is `g1.<subject>.<HMAC-SHA256(key, subject) in hex>`: the server
//! stores nothing per guest, and a guest keeps their conversation across server restarts
//! because the key lives in the data directory (`guest.key`, created on first start, readable
//! by its owner only).
//!
//! A guest may say who they are in the widget's pre-chat form ([`GuestProfile`]: a name, an
//! optional e-mail), which the desk keeps as the guest's contact so attendants see a person.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

/// What every guest token starts with.
pub const PREFIX: &str = "g1.";
/// What every guest subject starts with.
pub const SUBJECT_PREFIX: &str = "guest-";

/// The secret that signs guest tokens.
#[derive(Clone)]
pub struct GuestKey([u8; 32]);

impl std::fmt::Debug for GuestKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GuestKey(***)")
    }
}

impl GuestKey {
    /// A fresh random key.
    pub fn random() -> std::io::Result<GuestKey> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(std::io::Error::other)?;
        Ok(GuestKey(key))
    }

    /// The key kept at `path`, created there (mode 0600) when absent. A file that does not
    /// hold 64 hex digits is an error, never silently replaced: that would sign every guest
    /// out.
    pub fn load_or_create(path: &Path) -> std::io::Result<GuestKey> {
        match std::fs::read_to_string(path) {
            Ok(text) => bytes32(&text).map(GuestKey).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{} does not hold 64 hex digits", path.display()),
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let key = GuestKey::random()?;
                write_private(path, &hex::encode(key.0))?;
                Ok(key)
            }
            Err(error) => Err(error),
        }
    }

    /// A new guest: `(token, subject)`.
    pub fn issue(&self) -> std::io::Result<(String, String)> {
        let mut id = [0u8; 12];
        getrandom::fill(&mut id).map_err(std::io::Error::other)?;
        let subject = format!("{SUBJECT_PREFIX}{}", hex::encode(id));
        Ok((self.token_for(&subject), subject))
    }

    fn token_for(&self, subject: &str) -> String {
        format!(
            "{PREFIX}{subject}.{}",
            hex::encode(self.mac(subject).finalize().into_bytes())
        )
    }

    fn mac(&self, subject: &str) -> Hmac<Sha256> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(PREFIX.as_bytes());
        mac.update(subject.as_bytes());
        mac
    }

    /// The subject of a genuine guest token (compared in constant time), else `None`.
    pub fn verify(&self, token: &str) -> Option<String> {
        let rest = token.strip_prefix(PREFIX)?;
        let (subject, signature) = rest.rsplit_once('.')?;
        if !subject.starts_with(SUBJECT_PREFIX) || subject.len() > 64 {
            return None;
        }
        let signature = bytes32(signature)?;
        self.mac(subject)
            .verify_slice(&signature)
            .ok()
            .map(|()| subject.to_string())
    }
}

/// Longest name a guest may give, in characters.
pub const MAX_NAME_CHARS: usize = 80;
/// Longest e-mail address, in bytes (RFC 5321's path limit).
pub const MAX_EMAIL_BYTES: usize = 254;

/// Who a guest says they are, checked and tidied: a name of 1 to [`MAX_NAME_CHARS`]
/// characters (blanks and control characters folded into single spaces) and, when given, an
/// e-mail address of the usual `local@domain.tld` shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuestProfile {
    pub name: String,
    pub email: Option<String>,
}

/// Why a pre-chat form was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("a name is required to start a chat")]
    NameRequired,
    #[error("the name is longer than {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("{0:?} is not an e-mail address")]
    InvalidEmail(String),
}

impl GuestProfile {
    /// Checks what the form sent; a blank e-mail is no e-mail.
    pub fn new(name: &str, email: Option<&str>) -> Result<GuestProfile, ProfileError> {
        let name = name
            .split(|c: char| c.is_whitespace() || c.is_control())
            .filter(|word| !word.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if name.is_empty() {
            return Err(ProfileError::NameRequired);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(ProfileError::NameTooLong);
        }
        let email = match email.map(str::trim).filter(|email| !email.is_empty()) {
            Some(email) if is_email(email) => Some(email.to_string()),
            Some(email) => return Err(ProfileError::InvalidEmail(email.to_string())),
            None => None,
        };
        Ok(GuestProfile { name, email })
    }
}

/// The usual shape of an address people type: `local@domain.tld`, no blanks, one `@`, a
/// domain of dot-separated labels (letters, digits, hyphens inside), a last label of two
/// characters or more. Not RFC 5322's full grammar: quoted local parts and address literals
/// are refused, as most forms do.
fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[],;:\\\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels.last().is_some_and(|last| last.chars().count() >= 2);
    email.len() <= MAX_EMAIL_BYTES && local_ok && domain_ok
}

/// 64 hex digits (surrounding blanks ignored) as 32 bytes: a key or a signature.
fn bytes32(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(text.trim(), &mut out).ok()?;
    Some(out)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_token_verifies_only_with_its_own_key_and_subject() {
        let key = GuestKey::random().unwrap();
        let (token, subject) = key.issue().unwrap();
        assert!(subject.starts_with(SUBJECT_PREFIX));
        assert_eq!(key.verify(&token).as_deref(), Some(subject.as_str()));
        let other = GuestKey::random().unwrap();
        assert_eq!(other.verify(&token), None);
        // Another subject with this signature, or a flipped digit, is refused.
        let (_, signature) = token.rsplit_once('.').unwrap();
        assert_eq!(key.verify(&format!("{PREFIX}guest-000.{signature}")), None);
        let mut flipped = token.clone();
        let last = flipped.pop().unwrap();
        flipped.push(if last == '0' { '1' } else { '0' });
        assert_eq!(key.verify(&flipped), None);
        assert_eq!(key.verify("g1.guest-x"), None);
        assert_eq!(key.verify("g1.admin.00"), None);
    }

    #[test]
    fn a_profile_needs_a_name_of_reasonable_length_and_a_plausible_email() {
        let profile = GuestProfile::new("  Maria \t Souza\n", Some(" maria@example.com ")).unwrap();
        assert_eq!(profile.name, "Maria Souza");
        assert_eq!(profile.email.as_deref(), Some("maria@example.com"));
        assert_eq!(GuestProfile::new("Zé", Some("")).unwrap().email, None);
        assert_eq!(
            GuestProfile::new(" \u{7} ", None),
            Err(ProfileError::NameRequired)
        );
        let long = "a".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            GuestProfile::new(&long, None),
            Err(ProfileError::NameTooLong)
        );
        assert!(GuestProfile::new(&"é".repeat(MAX_NAME_CHARS), None).is_ok());
        for good in [
            "a@b.co",
            "ana.souza+chat@mail.example.com.br",
            "jose@correo-ejemplo.es",
        ] {
            assert!(is_email(good), "{good}");
        }
        for bad in [
            "maria",
            "maria@",
            "@example.com",
            "maria@example",
            "maria@@example.com",
            "ma ria@example.com",
            "maria@example..com",
            "maria@-example.com",
            "maria@example.c",
            ".maria@example.com",
            "\"maria\"@example.com",
        ] {
            assert!(!is_email(bad), "{bad}");
            assert!(matches!(
                GuestProfile::new("Maria", Some(bad)),
                Err(ProfileError::InvalidEmail(_))
            ));
        }
    }

    #[test]
    fn the_key_survives_a_restart_and_a_broken_key_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("guest.key");
        let first = GuestKey::load_or_create(&path).unwrap();
        let (token, subject) = first.issue().unwrap();
        let again = GuestKey::load_or_create(&path).unwrap();
        assert_eq!(again.verify(&token), Some(subject));
        std::fs::write(&path, "not hex").unwrap();
        let error = GuestKey::load_or_create(&path).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not hex");
    }
}
