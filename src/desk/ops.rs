//! The vocabulary of the desk book's write-ahead log: [`DeskOp`], the one
//! and only way to change a [`super::DeskBook`], plus the value types the
//! operations carry (contacts, quick replies, macros, attachments) and the
//! attachment allow-list with its size limits. Every operation that depends
//! on time carries its own `now_ms`, so replaying the log rebuilds the exact
//! state. Operations serialize as JSON objects tagged by `"op"`
//! (`{"op":"capture","conversation_id":..}`); the names are stable.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Channel, DeskError, Person, PersonId, PresenceState, Project, ProjectId};

pub type ConversationId = String;
/// A requester id (web chat visitor or WhatsApp number), also a contact id.
pub type RequesterId = String;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Default, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContractStatus {
    #[default]
    Active,
    Blocked,
}

/// A requester known to the desk (the contact book).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct Contact {
    /// The requester id.
    pub id: RequesterId,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub project_id: Option<ProjectId>,
    pub contract: Option<String>,
    pub contract_status: ContractStatus,
}

/// How a conversation reached the desk.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Handed over by the assistant (bot).
    Assistant,
    /// Started by an attendant (or the requester answering one).
    Outbound,
}

/// A canned answer, typed as its shortcut (`/hello`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct QuickReply {
    /// `/` followed by `[a-z0-9_-]+`; unique desk-wide.
    pub shortcut: String,
    /// Language tag (`pt-BR`, `es`, `en`) -> text.
    pub texts: BTreeMap<String, String>,
    /// `None`: shared with everyone; `Some(p)`: visible to `p` only.
    pub owner: Option<PersonId>,
}

/// One step of a macro, applied in order.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum MacroAction {
    Tag { tag: String },
    Untag { tag: String },
    Transfer { to: PersonId },
    SendQuickReply { shortcut: String },
    Close { reason: String },
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct Macro {
    pub id: String,
    pub name: String,
    pub actions: Vec<MacroAction>,
}

/// A concrete step of a planned macro: an op to apply, or a text the caller
/// sends as a message from the person running the macro.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum MacroStep {
    Op { op: DeskOp },
    Say { text: String },
}

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttachmentKind {
    Image,
    Video,
    Audio,
    File,
}

pub const MIB: u64 = 1024 * 1024;
pub const MAX_IMAGE_BYTES: u64 = 10 * MIB;
pub const MAX_VIDEO_BYTES: u64 = 50 * MIB;
pub const MAX_AUDIO_BYTES: u64 = 20 * MIB;
pub const MAX_FILE_BYTES: u64 = 20 * MIB;

impl AttachmentKind {
    pub fn max_bytes(self) -> u64 {
        match self {
            AttachmentKind::Image => MAX_IMAGE_BYTES,
            AttachmentKind::Video => MAX_VIDEO_BYTES,
            AttachmentKind::Audio => MAX_AUDIO_BYTES,
            AttachmentKind::File => MAX_FILE_BYTES,
        }
    }
}

/// Allow-listed content types and their kind.
pub const ALLOWED_MEDIA: &[(&str, AttachmentKind)] = &[
    ("image/png", AttachmentKind::Image),
    ("image/jpeg", AttachmentKind::Image),
    ("image/gif", AttachmentKind::Image),
    ("image/webp", AttachmentKind::Image),
    ("video/mp4", AttachmentKind::Video),
    ("video/webm", AttachmentKind::Video),
    ("audio/mpeg", AttachmentKind::Audio),
    ("audio/ogg", AttachmentKind::Audio),
    ("audio/webm", AttachmentKind::Audio),
    ("audio/mp4", AttachmentKind::Audio),
    ("application/pdf", AttachmentKind::File),
    ("text/plain", AttachmentKind::File),
    ("text/csv", AttachmentKind::File),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        AttachmentKind::File,
    ),
    (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        AttachmentKind::File,
    ),
];

/// Kind of an allow-listed content type (case-insensitive, parameters such
/// as `; charset=utf-8` ignored); `None` when not allowed.
/// `type/subtype` of a content type, lower case, without parameters.
pub fn media_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

pub fn kind_for(content_type: &str) -> Option<AttachmentKind> {
    let essence = media_essence(content_type);
    ALLOWED_MEDIA
        .iter()
        .find(|(ct, _)| *ct == essence)
        .map(|(_, k)| *k)
}

/// Validates a content type and size: the kind, or `unsupported_media_type`
/// / `attachment_too_large`.
pub fn check_media(content_type: &str, size: u64) -> Result<AttachmentKind, DeskError> {
    let kind = kind_for(content_type)
        .ok_or_else(|| DeskError::UnsupportedMediaType(content_type.to_string()))?;
    let limit = kind.max_bytes();
    if size > limit {
        return Err(DeskError::AttachmentTooLarge { size, limit });
    }
    Ok(kind)
}

/// A file name safe to show and to put in a header: its last path segment, without control
/// characters or quotes, at most 120 characters; `attachment` when nothing is left.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(120)
        .collect();
    match cleaned.trim() {
        "" => "attachment".to_string(),
        name => name.to_string(),
    }
}

/// Metadata of a file sent in a conversation (the bytes live elsewhere).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq, utoipa::ToSchema)]
pub struct Attachment {
    pub id: String,
    pub conversation_id: ConversationId,
    /// Requester id or person id.
    pub uploader: String,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub kind: AttachmentKind,
    pub now_ms: u64,
}

/// Who asks to read a conversation (or its attachments).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
#[serde(tag = "who", content = "id", rename_all = "snake_case")]
pub enum Who {
    Requester(RequesterId),
    Person(PersonId),
}

/// What a pause or close reason is called in each language: reason key -> language tag
/// (`pt-BR`, `es`, `en`) -> label. A reason without a label in a language is shown by the
/// pages' own word for a known key, or as the key.
pub type ReasonLabels =
    std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>;

/// The languages a reason label may be given in.
pub const LABEL_LANGUAGES: [&str; 3] = ["pt-BR", "es", "en"];

/// Longest reason label, in characters.
pub const MAX_LABEL_CHARS: usize = 60;

/// One replayable change of the desk book. See `book` for the rules.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DeskOp {
    /// Sets the routing modes, the pause reasons and the close reasons (queues and the
    /// handle-time settings stay as they are).
    Configure {
        routing: super::RoutingConfig,
        pause_reasons: Vec<String>,
        close_reasons: Vec<String>,
        /// Which channels share a queue (absent: unchanged). Chats already waiting keep
        /// the queue they joined.
        #[serde(default)]
        queues: Option<super::QueueMap>,
        /// The reasons' labels per language (absent: unchanged); see [`ReasonLabels`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        labels: Option<ReasonLabels>,
    },
    UpsertPerson {
        person: Person,
        now_ms: u64,
    },
    UpsertProject {
        project: Project,
    },
    SetPresence {
        person: PersonId,
        channel: Channel,
        state: PresenceState,
        now_ms: u64,
    },
    UpsertContact {
        contact: Contact,
    },
    BlockContact {
        id: RequesterId,
        blocked: bool,
        by: PersonId,
        now_ms: u64,
    },
    Enqueue {
        conversation_id: ConversationId,
        requester: RequesterId,
        project_id: ProjectId,
        channel: Channel,
        now_ms: u64,
        origin: Origin,
    },
    /// Routes a waiting chat again (e.g. after someone came online).
    Reroute {
        conversation_id: ConversationId,
        now_ms: u64,
    },
    Choose {
        conversation_id: ConversationId,
        person: PersonId,
        now_ms: u64,
    },
    Decline {
        conversation_id: ConversationId,
        person: PersonId,
        now_ms: u64,
    },
    Capture {
        conversation_id: ConversationId,
        person: PersonId,
        now_ms: u64,
    },
    Transfer {
        conversation_id: ConversationId,
        from: PersonId,
        to: PersonId,
        now_ms: u64,
    },
    Invite {
        conversation_id: ConversationId,
        by: PersonId,
        invitee: PersonId,
        now_ms: u64,
    },
    Leave {
        conversation_id: ConversationId,
        person: PersonId,
        now_ms: u64,
    },
    Close {
        conversation_id: ConversationId,
        by: PersonId,
        reason: String,
        closing_message: Option<String>,
        now_ms: u64,
    },
    Reopen {
        conversation_id: ConversationId,
        by: PersonId,
        now_ms: u64,
    },
    MarkLost {
        conversation_id: ConversationId,
        now_ms: u64,
    },
    SetTicket {
        conversation_id: ConversationId,
        number: String,
    },
    StartOutbound {
        conversation_id: ConversationId,
        person: PersonId,
        requester: RequesterId,
        channel: Channel,
        project_id: ProjectId,
        now_ms: u64,
    },
    Tag {
        conversation_id: ConversationId,
        tag: String,
        by: PersonId,
    },
    Untag {
        conversation_id: ConversationId,
        tag: String,
        by: PersonId,
    },
    MessageFromRequester {
        conversation_id: ConversationId,
        now_ms: u64,
    },
    MarkRead {
        conversation_id: ConversationId,
        person: PersonId,
        now_ms: u64,
    },
    UpsertQuickReply {
        quick_reply: QuickReply,
    },
    DeleteQuickReply {
        shortcut: String,
    },
    UpsertMacro {
        #[serde(rename = "macro")]
        macro_: Macro,
    },
    DeleteMacro {
        id: String,
    },
    AddAttachment {
        attachment: Attachment,
    },
    LinkContact {
        analyst: PersonId,
        other: PersonId,
    },
    UnlinkContact {
        analyst: PersonId,
        other: PersonId,
    },
    StartAnalystChat {
        conversation_id: ConversationId,
        from: PersonId,
        to: PersonId,
        now_ms: u64,
    },
    /// The desk operations of one macro run on a conversation, logged as one entry and
    /// applied all together or not at all (its texts are not desk operations: they go to
    /// the conversation once this is durable).
    Macro {
        conversation_id: ConversationId,
        macro_id: String,
        by: PersonId,
        ops: Vec<DeskOp>,
    },
}
