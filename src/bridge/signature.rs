//! Standard Webhooks 1.0 signatures, both directions. A secret is `whsec_` followed by the
//! base64 of its key bytes; a signature is `v1,` followed by the base64 HMAC-SHA256 of
//! `{webhook-id}.{webhook-timestamp}.{body}`. During a rotation a sender signs with every
//! current secret (space-separated signatures) and a receiver accepts any one that matches.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// How far a webhook timestamp may be from our clock, either way.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A signing secret (`whsec_…`). Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Secret {
    key: Vec<u8>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

impl Secret {
    pub fn from_key(key: Vec<u8>) -> Self {
        Secret { key }
    }

    /// A new random secret of 32 bytes.
    pub fn generate() -> Self {
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key).expect("the OS has randomness");
        Secret { key }
    }

    /// The `whsec_…` spelling (for the configuration; never for logs or API answers).
    pub fn expose(&self) -> String {
        format!("whsec_{}", BASE64.encode(&self.key))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// `v1,<base64>` for this message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", BASE64.encode(tag))
    }

    /// The HMAC-SHA256 of any other message under this secret (the file download links).
    pub fn tag(&self, message: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(message);
        mac.finalize().into_bytes().to_vec()
    }

    /// Whether `tag` is [`Secret::tag`] of `message` (constant time).
    pub fn tag_matches(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(message);
        mac.verify_slice(tag).is_ok()
    }

    fn verifies(&self, id: &str, timestamp: i64, body: &[u8], signature: &str) -> bool {
        let Some(encoded) = signature.strip_prefix("v1,") else {
            return false;
        };
        let Ok(tag) = BASE64.decode(encoded) else {
            return false;
        };
        // Constant-time comparison.
        self.mac(id, timestamp, body).verify_slice(&tag).is_ok()
    }
}

impl TryFrom<String> for Secret {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let encoded = text
            .strip_prefix("whsec_")
            .ok_or_else(|| "a secret starts with whsec_".to_string())?;
        let key = BASE64
            .decode(encoded)
            .map_err(|_| "a secret is whsec_ followed by base64".to_string())?;
        if key.len() < 16 {
            return Err("a secret has at least 16 bytes of key".into());
        }
        Ok(Secret { key })
    }
}

impl From<Secret> for String {
    fn from(secret: Secret) -> String {
        secret.expose()
    }
}

/// The `webhook-signature` header value: one signature per secret, space-separated.
pub fn sign_all(secrets: &[Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Why a signed message was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Its timestamp is more than [`TOLERANCE_SECS`] from `now`.
    Stale,
    /// No signature matches any secret.
    BadSignature,
}

/// Checks a received message: the timestamp within tolerance of `now` (unix seconds) and at
/// least one of the header's signatures made by one of `secrets`.
pub fn verify(
    secrets: &[Secret],
    id: &str,
    timestamp: i64,
    body: &[u8],
    header: &str,
    now: i64,
) -> Result<(), Refusal> {
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(Refusal::Stale);
    }
    let matched = header.split_whitespace().any(|signature| {
        secrets
            .iter()
            .any(|secret| secret.verifies(id, timestamp, body, signature))
    });
    if matched {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse().unwrap()
    }

    #[test]
    fn a_signature_verifies_and_a_changed_body_does_not() {
        let header = secret().sign("msg_1", 1_700_000_000, b"{\"a\":1}");
        assert!(header.starts_with("v1,"));
        assert_eq!(
            verify(
                &[secret()],
                "msg_1",
                1_700_000_000,
                b"{\"a\":1}",
                &header,
                1_700_000_010
            ),
            Ok(())
        );
        assert_eq!(
            verify(
                &[secret()],
                "msg_1",
                1_700_000_000,
                b"{\"a\":2}",
                &header,
                1_700_000_010
            ),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(
                &[secret()],
                "msg_2",
                1_700_000_000,
                b"{\"a\":1}",
                &header,
                1_700_000_010
            ),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn a_rotated_secret_is_accepted_beside_the_old_one() {
        let new = Secret::generate();
        let header = sign_all(&[secret(), new.clone()], "msg_1", 10, b"x");
        assert_eq!(header.split(' ').count(), 2);
        assert_eq!(
            verify(std::slice::from_ref(&new), "msg_1", 10, b"x", &header, 10),
            Ok(())
        );
        assert_eq!(verify(&[secret()], "msg_1", 10, b"x", &header, 10), Ok(()));
        let only_new = new.sign("msg_1", 10, b"x");
        assert_eq!(
            verify(&[secret()], "msg_1", 10, b"x", &only_new, 10),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn a_timestamp_five_minutes_off_is_stale() {
        let header = secret().sign("m", 1000, b"x");
        assert_eq!(
            verify(&[secret()], "m", 1000, b"x", &header, 1000 + 300),
            Ok(())
        );
        assert_eq!(
            verify(&[secret()], "m", 1000, b"x", &header, 1000 + 301),
            Err(Refusal::Stale)
        );
        assert_eq!(
            verify(&[secret()], "m", 1000, b"x", &header, 1000 - 301),
            Err(Refusal::Stale)
        );
    }

    #[test]
    fn malformed_secrets_are_refused_and_debug_hides_the_key() {
        assert!("MfKQ9r8GKYqrTwjU".parse::<Secret>().is_err());
        assert!("whsec_%%%".parse::<Secret>().is_err());
        assert!("whsec_c2hvcnQ=".parse::<Secret>().is_err());
        assert_eq!(format!("{:?}", secret()), "Secret(whsec_…)");
        assert_eq!(secret().expose(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }
}
