//! The table of every stable error code the API answers with: each `ApiError` variant, each
//! desk error, and what the conversation, machine, store, knowledge and attendance errors turn
//! into, with its HTTP status and `type`. Codes and statuses are a contract with clients: a
//! change here is a change of the API.

use super::ApiError;
use crate::attendance::AttendanceError;
use crate::conversation::MachineError;
use crate::desk::{Channel, DeskError};
use crate::knowledge::KnowledgeError;
use crate::orchestrator::ChatError;
use crate::store::StoreError;

const INVALID: &str = "invalid_request";
const AUTH: &str = "auth";
const INTERNAL: &str = "internal";

/// `(error, status, code, type)`.
type Row = (ApiError, u16, &'static str, &'static str);

fn text() -> String {
    "x".to_string()
}

fn api_rows() -> Vec<Row> {
    vec![
        (ApiError::NameRequired, 422, "name_required", INVALID),
        (
            ApiError::NameTooLong { max: 80 },
            422,
            "name_too_long",
            INVALID,
        ),
        (
            ApiError::InvalidEmail(text()),
            422,
            "invalid_email",
            INVALID,
        ),
        (
            ApiError::SeqOutOfRange(text()),
            400,
            "seq_out_of_range",
            INVALID,
        ),
        (ApiError::BadRequest(text()), 400, "bad_request", INVALID),
        (
            ApiError::MalformedJson(text()),
            400,
            "malformed_json",
            INVALID,
        ),
        (ApiError::EmptyText(text()), 400, "empty_text", INVALID),
        (ApiError::TextTooLong(text()), 413, "text_too_long", INVALID),
        (
            ApiError::InvalidDocument(text()),
            422,
            "invalid_document",
            INVALID,
        ),
        (ApiError::Unauthorized("x"), 401, "unauthorized", AUTH),
        (ApiError::TokenExpired, 401, "token_expired", AUTH),
        (
            ApiError::InvalidCredentials,
            401,
            "invalid_credentials",
            AUTH,
        ),
        (
            ApiError::TooManyAttempts {
                retry_after_secs: 1,
            },
            429,
            "too_many_attempts",
            "rate_limit",
        ),
        (
            ApiError::WeakPassword(text()),
            422,
            "weak_password",
            INVALID,
        ),
        (
            ApiError::CrossSiteRefused("x"),
            403,
            "cross_site_refused",
            AUTH,
        ),
        (ApiError::InvalidId(text()), 400, "invalid_id", INVALID),
        (
            ApiError::MethodNotAllowed,
            405,
            "method_not_allowed",
            INVALID,
        ),
        (ApiError::RequestTimeout, 408, "request_timeout", INTERNAL),
        (
            ApiError::WebSocketRequired(text()),
            400,
            "websocket_required",
            INVALID,
        ),
        (ApiError::Forbidden(text()), 403, "forbidden", AUTH),
        (
            ApiError::InvalidParameter(text()),
            422,
            "invalid_parameter",
            INVALID,
        ),
        (
            ApiError::OptionNotOffered(text()),
            409,
            "option_not_offered",
            INVALID,
        ),
        (
            ApiError::ChatDisabled(text()),
            409,
            "chat_disabled",
            INVALID,
        ),
        (
            ApiError::ConversationFinished(text()),
            409,
            "conversation_finished",
            INVALID,
        ),
        (
            ApiError::TicketNotFound(text()),
            404,
            "ticket_not_found",
            INVALID,
        ),
        (
            ApiError::UnexpectedEvent(text()),
            409,
            "unexpected_event",
            INVALID,
        ),
        (
            ApiError::InvalidEvent(text()),
            400,
            "invalid_event",
            INVALID,
        ),
        (ApiError::Conflict(text()), 409, "conflict", INVALID),
        (
            ApiError::InvalidPeriod(text()),
            400,
            "invalid_period",
            INVALID,
        ),
        (ApiError::AlreadyRated, 409, "already_rated", INVALID),
        (
            ApiError::ConversationOpen,
            409,
            "conversation_open",
            INVALID,
        ),
        (
            ApiError::NotFound {
                what: "thing",
                id: text(),
            },
            404,
            "not_found",
            INVALID,
        ),
        (ApiError::ContactBlocked, 403, "contact_blocked", AUTH),
        (
            ApiError::GuestChatDisabled,
            403,
            "guest_chat_disabled",
            AUTH,
        ),
        (
            ApiError::RateLimited {
                retry_after_secs: 1,
            },
            429,
            "rate_limited",
            "rate_limit",
        ),
        (ApiError::PayloadTooLarge, 413, "payload_too_large", INVALID),
        (ApiError::UnknownRoute, 404, "unknown_route", INVALID),
        (ApiError::Unavailable, 503, "unavailable", INTERNAL),
        (
            ApiError::IndexUnavailable,
            503,
            "index_unavailable",
            INTERNAL,
        ),
        (
            ApiError::StoreUnavailable,
            503,
            "store_unavailable",
            INTERNAL,
        ),
        (ApiError::NatsUnavailable, 503, "nats_unavailable", INTERNAL),
        (ApiError::Internal(text()), 500, "internal", INTERNAL),
    ]
}

fn desk_rows() -> Vec<(DeskError, u16, &'static str)> {
    let web = Channel::Web;
    vec![
        (DeskError::UnknownPerson(text()), 404, "unknown_person"),
        (DeskError::UnknownProject(text()), 404, "unknown_project"),
        (DeskError::UnknownChat(text()), 404, "unknown_chat"),
        (DeskError::DuplicateChat(text()), 409, "duplicate_chat"),
        (
            DeskError::ChannelNotEnabled(web),
            422,
            "channel_not_enabled",
        ),
        (DeskError::PauseReasonRequired, 422, "pause_reason_required"),
        (
            DeskError::UnknownPauseReason(text()),
            422,
            "unknown_pause_reason",
        ),
        (DeskError::AttendantFull(text()), 409, "attendant_full"),
        (DeskError::NotOnline(web), 409, "not_online"),
        (DeskError::NotEligible(text()), 409, "not_eligible"),
        (DeskError::AlreadyCaptured(text()), 409, "already_captured"),
        (DeskError::NotQueued(text()), 409, "not_queued"),
        (DeskError::NotActive(text()), 409, "not_active"),
        (
            DeskError::NotResponsible {
                chat: text(),
                person: text(),
            },
            409,
            "not_responsible",
        ),
        (
            DeskError::UnknownConversation(text()),
            404,
            "unknown_conversation",
        ),
        (DeskError::ContactBlocked(text()), 403, "contact_blocked"),
        (DeskError::CloseReasonRequired, 422, "close_reason_required"),
        (
            DeskError::InvalidReasonLabel(text()),
            422,
            "invalid_reason_label",
        ),
        (
            DeskError::UnknownCloseReason(text()),
            422,
            "unknown_close_reason",
        ),
        (
            DeskError::NotParticipant {
                chat: text(),
                person: text(),
            },
            409,
            "not_participant",
        ),
        (
            DeskError::ResponsibleCannotLeave,
            409,
            "responsible_cannot_leave",
        ),
        (DeskError::NotLinked(text(), text()), 409, "not_linked"),
        (
            DeskError::UnknownQuickReply(text()),
            404,
            "unknown_quick_reply",
        ),
        (DeskError::EmptyQuickReply, 422, "empty_quick_reply"),
        (DeskError::UnknownMacro(text()), 404, "unknown_macro"),
        (DeskError::InvalidShortcut(text()), 422, "invalid_shortcut"),
        (DeskError::InvalidTag, 422, "invalid_tag"),
        (DeskError::InvalidId, 422, "invalid_id"),
        (
            DeskError::UnsupportedMediaType(text()),
            415,
            "unsupported_media_type",
        ),
        (
            DeskError::AttachmentTooLarge { size: 2, limit: 1 },
            413,
            "attachment_too_large",
        ),
        (
            DeskError::DuplicateAttachment(text()),
            409,
            "duplicate_attachment",
        ),
        (DeskError::AlreadyClosed(text()), 409, "already_closed"),
        (DeskError::NotClosed(text()), 409, "not_closed"),
        (DeskError::NotWaiting(text()), 409, "not_waiting"),
    ]
}

fn machine_rows() -> Vec<(MachineError, u16, &'static str)> {
    vec![
        (MachineError::ChatDisabled, 409, "chat_disabled"),
        (MachineError::EmptyText, 400, "empty_text"),
        (
            MachineError::TextTooLong {
                length: 2,
                limit: 1,
            },
            413,
            "text_too_long",
        ),
        (
            MachineError::OptionNotOffered { option_id: text() },
            409,
            "option_not_offered",
        ),
        (
            MachineError::TicketNotFound { number: text() },
            404,
            "ticket_not_found",
        ),
        (
            MachineError::UnexpectedEvent {
                event: "e",
                state: "s",
            },
            409,
            "unexpected_event",
        ),
        (
            MachineError::InvalidEvent { reason: "r" },
            400,
            "invalid_event",
        ),
        (
            MachineError::ConversationFinished,
            409,
            "conversation_finished",
        ),
    ]
}

fn store_rows() -> Vec<(StoreError, u16, &'static str)> {
    vec![
        (
            StoreError::NotFound {
                entity: "conversation",
                id: text(),
            },
            404,
            "not_found",
        ),
        (
            StoreError::AlreadyExists {
                entity: "conversation",
                id: text(),
            },
            500,
            "internal",
        ),
        (
            StoreError::Conflict {
                id: text(),
                expected: 1,
                actual: 2,
            },
            409,
            "conflict",
        ),
        (StoreError::InvalidInput(text()), 400, "bad_request"),
        (
            StoreError::UnsupportedUrl {
                scheme: text(),
                reason: "r",
            },
            500,
            "internal",
        ),
        (StoreError::Closed, 500, "internal"),
        (StoreError::Corrupt(text()), 500, "internal"),
        (StoreError::Migration(text()), 500, "internal"),
        (
            StoreError::Database(std::sync::Arc::new(sqlx::Error::PoolClosed)),
            500,
            "internal",
        ),
        (StoreError::Internal(text()), 500, "internal"),
        (StoreError::Unavailable(text()), 503, "store_unavailable"),
    ]
}

fn knowledge_rows() -> Vec<(KnowledgeError, u16, &'static str)> {
    let io = || std::io::Error::other("x");
    vec![
        (
            KnowledgeError::Index(tantivy::TantivyError::InvalidArgument(text())),
            500,
            "internal",
        ),
        (KnowledgeError::io("p", io()), 500, "internal"),
        (KnowledgeError::EmptyCorpus { skipped: 1 }, 500, "internal"),
        (
            KnowledgeError::NoIndex("p".into()),
            503,
            "index_unavailable",
        ),
        (KnowledgeError::Invalid(text()), 422, "invalid_document"),
        (KnowledgeError::UnknownId(text()), 404, "not_found"),
        (KnowledgeError::Corrupt(text()), 500, "internal"),
        (KnowledgeError::NotShared(text()), 500, "internal"),
    ]
}

fn chat_rows() -> Vec<(ChatError, u16, &'static str)> {
    let mut rows = vec![
        (ChatError::UnknownConversation(text()), 404, "not_found"),
        (ChatError::NotYours, 403, "forbidden"),
        (ChatError::Corrupt(text()), 500, "internal"),
        (ChatError::Join(text()), 500, "internal"),
        (ChatError::Blocked, 403, "contact_blocked"),
    ];
    for (error, status, code) in machine_rows() {
        rows.push((ChatError::Machine { error, reply: None }, status, code));
    }
    for (error, status, code) in store_rows() {
        rows.push((ChatError::Store(error), status, code));
    }
    for (error, status, code) in knowledge_rows() {
        rows.push((ChatError::Knowledge(error), status, code));
    }
    rows
}

fn attendance_rows() -> Vec<(AttendanceError, u16, &'static str)> {
    let mut rows = vec![
        (
            AttendanceError::Corrupt {
                seq: 1,
                reason: text(),
            },
            500,
            "internal",
        ),
        (AttendanceError::Io(text()), 500, "internal"),
    ];
    for (error, status, code) in desk_rows() {
        rows.push((AttendanceError::Desk(error), status, code));
    }
    for (error, status, code) in store_rows() {
        rows.push((AttendanceError::Store(error), status, code));
    }
    for (error, status, code) in chat_rows() {
        rows.push((AttendanceError::Chat(error), status, code));
    }
    rows
}

/// The `type` a converted domain error answers with.
fn type_of(code: &str, status: u16, from_desk: bool) -> &'static str {
    match (code, status) {
        _ if from_desk => INVALID,
        ("forbidden" | "contact_blocked", _) => AUTH,
        (_, 500..) => INTERNAL,
        _ => INVALID,
    }
}

fn check(error: ApiError, status: u16, code: &str, kind: &str) {
    let what = format!("{error:?}");
    let (actual_status, actual_code, actual_kind) = error.describe();
    assert_eq!(
        (actual_status.as_u16(), actual_code, actual_kind),
        (status, code, kind),
        "{what}"
    );
}

#[test]
fn every_api_error_keeps_its_status_code_and_type() {
    for (error, status, code, kind) in api_rows() {
        check(error, status, code, kind);
    }
}

#[test]
fn every_desk_error_keeps_its_status_and_code() {
    for (error, status, code) in desk_rows() {
        check(ApiError::from(error), status, code, INVALID);
    }
}

#[test]
fn conversation_store_knowledge_and_attendance_errors_keep_their_answers() {
    for (error, status, code) in chat_rows() {
        check(
            ApiError::from(error),
            status,
            code,
            type_of(code, status, false),
        );
    }
    for (error, status, code) in store_rows() {
        check(
            ApiError::from(error),
            status,
            code,
            type_of(code, status, false),
        );
    }
    for (error, status, code) in knowledge_rows() {
        check(
            ApiError::from(error),
            status,
            code,
            type_of(code, status, false),
        );
    }
    let desk_codes: Vec<&str> = desk_rows().iter().map(|(_, _, code)| *code).collect();
    for (error, status, code) in attendance_rows() {
        let from_desk = matches!(error, AttendanceError::Desk(_));
        assert!(!from_desk || desk_codes.contains(&code));
        check(
            ApiError::from(error),
            status,
            code,
            type_of(code, status, from_desk),
        );
    }
}

/// A domain error's own kind gives the status the API answers it with: the kinds, not the
/// conversions, decide the statuses. (A desk error is answered through its kind by
/// construction; the literal table above pins its statuses.)
#[test]
fn each_domain_error_kind_gives_the_status_it_answers_with() {
    use crate::fault::Coded;
    fn agree(kind: crate::fault::ErrorKind, answered: ApiError, what: String) {
        assert_eq!(super::status(kind), answered.describe().0, "{what}");
    }
    for (error, _, _) in attendance_rows() {
        let (kind, what) = (error.kind(), format!("{error:?}"));
        agree(kind, error.into(), what);
    }
    let limited = crate::ratelimit::RateLimited {
        retry_after_secs: 1,
    };
    agree(limited.kind(), limited.into(), "rate limited".into());
    let running = crate::jobs::JobError::Running { id: text() };
    agree(
        running.kind(),
        running.clone().into(),
        format!("{running:?}"),
    );
    use crate::auth::AuthError;
    for error in [
        AuthError::Unauthorized("x"),
        AuthError::TokenExpired,
        AuthError::Forbidden(text()),
        AuthError::InvalidId(text()),
        AuthError::Internal(text()),
        AuthError::Store(StoreError::Closed),
    ] {
        let (kind, code, what) = (error.kind(), error.code(), format!("{error:?}"));
        let answered = ApiError::from(error);
        if !matches!(code, "internal" | "store_closed") {
            assert_eq!(answered.describe().1, code, "{what}");
        }
        agree(kind, answered, what);
    }
}
