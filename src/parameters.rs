//! The numbered chat parameters (299, 315, 316, 317, 423, 447) and the chat mode, as stored
//! key/value text: their names, defaults, validation, and conversion into the
//! [`Params`](crate::conversation::Params) the conversation machine reads.

use crate::conversation::{ChatMode, Params};
use std::collections::BTreeMap;

/// One known parameter.
#[derive(Debug, Clone, Copy)]
pub struct Parameter {
    pub key: &'static str,
    pub meaning: &'static str,
    pub default: &'static str,
}

/// Every parameter Ponte reads, with its default text value. For 447 the default
/// `default` means "the built-in notice in the conversation's language"; an empty value
/// sends none.
pub const PARAMETERS: &[Parameter] = &[
    Parameter {
        key: "299",
        meaning: "chat enabled (on/off)",
        default: "on",
    },
    Parameter {
        key: "315",
        meaning: "default contract for tickets opened from chat",
        default: "default",
    },
    Parameter {
        key: "316",
        meaning: "default group (queue) that receives chats and tickets",
        default: "service-desk",
    },
    Parameter {
        key: "317",
        meaning: "default activity when none was identified",
        default: "general-request",
    },
    Parameter {
        key: "423",
        meaning: "virtual assistant integration (on/off)",
        default: "on",
    },
    Parameter {
        key: "447",
        meaning: "message sent when the other party is offline (empty: none; `default`: built-in)",
        default: "default",
    },
    Parameter {
        key: "chat_mode",
        meaning: "manual, automatic or both",
        default: "both",
    },
    Parameter {
        key: "lost_chat_minutes",
        meaning: "minutes until an unanswered chat is lost",
        default: "30",
    },
    Parameter {
        key: "prechat_form",
        meaning: "the widget asks a guest's name (required) and e-mail before the chat (on/off)",
        default: "off",
    },
];

/// A value a parameter cannot take.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parameter {key}: {reason}")]
pub struct ParameterError {
    pub key: String,
    pub reason: String,
}

/// An on/off parameter's value (`on`, `true`, `sim`, ... or `off`, `false`, `não`, ...).
pub fn flag(key: &str, value: &str) -> Result<bool, ParameterError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" | "s" | "sim" => Ok(true),
        "off" | "false" | "0" | "no" | "n" | "nao" | "não" => Ok(false),
        other => Err(ParameterError {
            key: key.to_string(),
            reason: format!("expected on or off, got {other:?}"),
        }),
    }
}

/// Checks `value` for `key` before it is stored.
pub fn validate(key: &str, value: &str) -> Result<(), ParameterError> {
    let error = |reason: String| ParameterError {
        key: key.to_string(),
        reason,
    };
    match key {
        "299" | "423" | "prechat_form" => flag(key, value).map(|_| ()),
        "315" | "316" | "317" => {
            if value.trim().is_empty() || value.len() > 200 {
                Err(error(
                    "must be a non-empty name of at most 200 bytes".to_string(),
                ))
            } else {
                Ok(())
            }
        }
        "447" => {
            if value.chars().count() > 1_000 {
                Err(error("must be at most 1000 characters".to_string()))
            } else {
                Ok(())
            }
        }
        "chat_mode" => parse_mode(value)
            .map(|_| ())
            .ok_or_else(|| error(format!("expected manual, automatic or both, got {value:?}"))),
        "lost_chat_minutes" => match value.trim().parse::<u32>() {
            Ok(minutes) if (1..=24 * 60).contains(&minutes) => Ok(()),
            _ => Err(error("expected whole minutes from 1 to 1440".to_string())),
        },
        _ => Err(error("unknown parameter".to_string())),
    }
}

fn parse_mode(value: &str) -> Option<ChatMode> {
    match value.trim().to_ascii_lowercase().as_str() {
        "manual" => Some(ChatMode::Manual),
        "automatic" => Some(ChatMode::Automatic),
        "both" => Some(ChatMode::Both),
        _ => None,
    }
}

/// The stored values merged over the defaults.
pub fn effective(stored: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    PARAMETERS
        .iter()
        .map(|parameter| {
            let value = stored
                .get(parameter.key)
                .cloned()
                .unwrap_or_else(|| parameter.default.to_string());
            (parameter.key.to_string(), value)
        })
        .collect()
}

/// Converts stored values into machine parameters; an invalid stored value falls back to
/// its default (and is logged), so a bad row never stops the chat.
pub fn to_params(stored: &BTreeMap<String, String>) -> Params {
    let values = effective(stored);
    let get = |key: &str| values.get(key).map(String::as_str).unwrap_or_default();
    let defaults = Params::default();
    let checked_flag = |key: &str, fallback: bool| {
        flag(key, get(key)).unwrap_or_else(|error| {
            tracing::warn!(%error, "invalid stored parameter, using the default");
            fallback
        })
    };
    let text_or = |key: &str, fallback: &str| {
        let value = get(key).trim();
        if value.is_empty() {
            fallback.to_string()
        } else {
            value.to_string()
        }
    };
    let offline = get("447");
    Params {
        chat_enabled: checked_flag("299", defaults.chat_enabled),
        default_contract: text_or("315", &defaults.default_contract),
        default_group: text_or("316", &defaults.default_group),
        default_activity: text_or("317", &defaults.default_activity),
        assistant_enabled: checked_flag("423", defaults.assistant_enabled),
        offline_message: match offline.trim() {
            "default" => None,
            _ => Some(offline.to_string()),
        },
        mode: parse_mode(get("chat_mode")).unwrap_or(defaults.mode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let params = to_params(&BTreeMap::new());
        assert_eq!(params, Params::default());
    }

    #[test]
    fn stored_values_override_defaults() {
        let stored: BTreeMap<String, String> = [
            ("299", "off"),
            ("315", "gold"),
            ("316", "infra"),
            ("317", "other"),
            ("423", "off"),
            ("447", ""),
            ("chat_mode", "automatic"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let params = to_params(&stored);
        assert!(!params.chat_enabled);
        assert!(!params.assistant_enabled);
        assert_eq!(params.default_contract, "gold");
        assert_eq!(params.default_group, "infra");
        assert_eq!(params.default_activity, "other");
        assert_eq!(params.offline_message, Some(String::new()));
        assert_eq!(params.mode, ChatMode::Automatic);
    }

    #[test]
    fn validation_refuses_bad_values() {
        assert!(validate("299", "maybe").is_err());
        assert!(validate("chat_mode", "robots").is_err());
        assert!(validate("316", " ").is_err());
        assert!(validate("999", "x").is_err());
        assert!(validate("423", "off").is_ok());
        assert!(validate("lost_chat_minutes", "0").is_err());
    }
}
