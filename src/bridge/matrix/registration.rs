//! The application-service registration file of a `matrix` bridge, as the homeserver reads
//! it (Synapse's `app_service_config_files`): Ponte's id, URL and both tokens, its sender
//! user, and the namespaces it owns exclusively (its sender user and the `#ponte_…` room
//! aliases).

use super::{MatrixError, settings};
use crate::bridge::config::BridgeConfig;

/// The registration YAML of a bridge; `url` is where the homeserver reaches Ponte's
/// application-service endpoint for this bridge (the homeserver appends
/// `/_matrix/app/v1/...`).
pub fn registration_yaml(bridge: &BridgeConfig, url: &str) -> Result<String, MatrixError> {
    let settings = settings(bridge)?;
    let user = format!(
        "@{}:{}",
        regex_escape(&settings.sender_localpart),
        regex_escape(&settings.server_name)
    );
    // JSON strings are YAML double-quoted scalars: every value is quoted and escaped.
    let quote = |text: &str| serde_json::to_string(text).expect("a string serialises");
    Ok(format!(
        "# Ponte's application-service registration for bridge {id}.\n\
         id: {id}\n\
         url: {url}\n\
         as_token: {as_token}\n\
         hs_token: {hs_token}\n\
         sender_localpart: {sender}\n\
         rate_limited: false\n\
         namespaces:\n\
         \x20 users:\n\
         \x20   - exclusive: true\n\
         \x20     regex: {user}\n\
         \x20 aliases:\n\
         \x20   - exclusive: true\n\
         \x20     regex: {aliases}\n\
         \x20 rooms: []\n",
        id = quote(&bridge.id),
        url = quote(url),
        as_token = quote(&settings.as_token),
        hs_token = quote(&settings.hs_token),
        sender = quote(&settings.sender_localpart),
        user = quote(&user),
        aliases = quote("#ponte_.*"),
    ))
}

/// Escapes a literal for a regular expression.
fn regex_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if "\\.+*?()|[]{}^$#&-~".contains(c) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::config::{BridgeKind, MatrixSettings};

    #[test]
    fn the_registration_names_tokens_and_exclusive_namespaces() {
        let bridge = BridgeConfig {
            id: "matrix-test".into(),
            kind: BridgeKind::Matrix,
            endpoint: "http://127.0.0.1:8008".into(),
            outbound_secrets: vec![],
            inbound_secrets: vec![],
            routes: Default::default(),
            accept_deadline_secs: 120,
            allow_private: true,
            attachment_hosts: vec![],
            matrix: Some(MatrixSettings {
                as_token: "a\"s".into(),
                hs_token: "hs".into(),
                server_name: "chat.example.org".into(),
                sender_localpart: "ponte".into(),
                agents: vec![],
            }),
        };
        let yaml =
            registration_yaml(&bridge, "https://ponte/api/bridges/matrix-test/matrix").unwrap();
        assert!(yaml.contains("id: \"matrix-test\"\n"), "{yaml}");
        assert!(yaml.contains("as_token: \"a\\\"s\"\n"), "{yaml}");
        assert!(
            yaml.contains("regex: \"@ponte:chat\\\\.example\\\\.org\""),
            "{yaml}"
        );
        assert!(yaml.contains("regex: \"#ponte_.*\""), "{yaml}");
        assert!(yaml.contains("sender_localpart: \"ponte\"\n"), "{yaml}");
    }
}
