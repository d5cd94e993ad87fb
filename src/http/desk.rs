//! The desk's setup and people: attendants and analysts, projects, routing and reasons
//! (admins); contacts with their contract status and blocking, presence per channel,
//! analyst links, quick replies and macros (staff); and the staff's live feed. Admins
//! supervise: they see what staff see ([`DeskViewer`]) and act only where no desk person
//! is needed.
//!
//! A staff token's subject is the person's id in the desk. Every change is one logged desk
//! operation; errors carry the desk's stable codes (`unknown_person`, `channel_not_enabled`,
//! `unknown_pause_reason`, ...).

use super::{Json, Path, Query};
use crate::attendance::Attendance;
use crate::auth::{Admins, Authenticated, Authorized, Identity, Role, Staff, StaffOrAdmins};
use crate::desk::{
    Channel, Contact, ContractStatus, DeskOp, Macro, MacroAction, Person, PersonKind,
    PresenceState, Project, QuickReply, RoutingConfig,
};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::extract::ws;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// People who work chats.
pub const STAFF: &[Role] = &[Role::Attendant, Role::Analyst];
/// Who may set the desk up.
const ADMINS: &[Role] = &[Role::Admin];
/// Staff or admin.
const STAFF_OR_ADMIN: &[Role] = &[Role::Attendant, Role::Analyst, Role::Admin];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people))
        .routes(routes!(put_person))
        .routes(routes!(list_projects))
        .routes(routes!(put_project))
        .routes(routes!(get_config, put_config))
        .routes(routes!(search_contacts))
        .routes(routes!(put_contact))
        .routes(routes!(block_contact))
        .routes(routes!(get_presence, put_presence))
        .routes(routes!(link, unlink))
        .routes(routes!(list_quick_replies))
        .routes(routes!(put_quick_reply, delete_quick_reply))
        .routes(routes!(list_macros))
        .routes(routes!(put_macro, delete_macro))
        .routes(routes!(staff_live))
}

/// Who looks at the desk: one of its people, or an admin supervising it. An admin sees what
/// any attendant sees (the attendance list, every chat and transcript, quick replies,
/// macros, the staff feed) but acts in no chat: acting needs a person of the desk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeskViewer {
    Person(String),
    Supervisor,
}

/// The caller as a [`DeskViewer`]: an admin, or a staff member known to the desk.
pub async fn desk_viewer(desk: &Attendance, identity: &Identity) -> Result<DeskViewer, ApiError> {
    if identity.role == Role::Admin {
        return Ok(DeskViewer::Supervisor);
    }
    staff_person(desk, identity).await.map(DeskViewer::Person)
}

/// The calling staff member's person id, checked to exist in the desk.
pub async fn staff_person(desk: &Attendance, identity: &Identity) -> Result<String, ApiError> {
    identity.require(STAFF)?;
    let id = identity.subject.clone();
    if desk.book(|book| book.desk().person(&id).is_none()).await {
        return Err(ApiError::Desk(crate::desk::DeskError::UnknownPerson(id)));
    }
    Ok(id)
}

fn person_view(desk_book: &crate::desk::DeskBook, person: &Person, now_ms: u64) -> Value {
    let presence = desk_book.desk().presence(&person.id);
    let channels: BTreeMap<&str, Value> = person
        .channels
        .iter()
        .map(|channel| {
            let state = presence
                .map(|presence| presence.state(*channel))
                .cloned()
                .unwrap_or(PresenceState::Offline);
            (
                channel.as_str(),
                serde_json::to_value(state).unwrap_or_default(),
            )
        })
        .collect();
    let (online, enabled) = desk_book
        .desk()
        .channel_counts(&person.id)
        .unwrap_or((0, 0));
    json!({
        "id": person.id,
        "name": person.name,
        "kind": person.kind,
        "groups": person.groups,
        "channels": channels,
        "max_chats": person.max_chats,
        "active_chats": desk_book.desk().active_chats(&person.id),
        "channels_online": online,
        "channels_enabled": enabled,
        "time_online_ms": presence.map(|p| p.time_online_ms(now_ms)).unwrap_or(0),
        "time_paused_ms": presence.map(|p| p.time_paused_ms(now_ms)).unwrap_or(0),
    })
}

/// Attendants and analysts with their presence and load.
#[utoipa::path(get, path = "/api/desk/people", tag = "desk",
    responses((status = 200, description = "`{people}`")))]
async fn list_people(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let now = desk.now_ms();
    let people = desk
        .book(|book| {
            book.desk()
                .state()
                .people
                .values()
                .map(|person| person_view(book, person, now))
                .collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(json!({ "people": people })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PersonBody {
    name: String,
    kind: PersonKind,
    #[serde(default)]
    groups: Vec<String>,
    channels: Vec<Channel>,
    max_chats: u32,
}

/// Creates or updates an attendant or analyst (admins).
#[utoipa::path(put, path = "/api/desk/people/{id}", tag = "desk",
    params(("id" = String, Path, description = "person id (their token's subject)")),
    request_body(content = Object, description = "`{name, kind, groups, channels, max_chats}`"),
    responses((status = 200, description = "the person")))]
async fn put_person(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Admins>,
    Path(id): Path<String>,
    Json(body): Json<PersonBody>,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(ADMINS)?;
    for group in &body.groups {
        crate::error::check_id("group", group)?;
    }
    let desk = state.desk()?;
    if body.name.trim().is_empty() || body.max_chats == 0 {
        return Err(ApiError::BadRequest(
            "a person needs a name and room for at least one chat".to_string(),
        ));
    }
    let person = Person {
        id,
        name: body.name.trim().to_string(),
        kind: body.kind,
        groups: body.groups,
        channels: body.channels,
        max_chats: body.max_chats,
    };
    let now = desk.now_ms();
    desk.execute(DeskOp::UpsertPerson {
        person: person.clone(),
        now_ms: now,
    })
    .await?;
    let view = desk.book(|book| person_view(book, &person, now)).await;
    Ok(axum::Json(view))
}

/// The projects.
#[utoipa::path(get, path = "/api/desk/projects", tag = "desk",
    responses((status = 200, description = "`{projects}`")))]
async fn list_projects(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let projects = desk
        .book(|book| {
            book.desk()
                .state()
                .projects
                .values()
                .cloned()
                .collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(json!({ "projects": projects })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProjectBody {
    name: String,
    owner: Option<String>,
    assistant: Option<String>,
    service_group: Option<String>,
}

/// Creates or updates a project with its owner, assistant and service group (admins).
#[utoipa::path(put, path = "/api/desk/projects/{id}", tag = "desk",
    params(("id" = String, Path, description = "project id")),
    request_body(content = Object, description = "`{name, owner?, assistant?, service_group?}`"),
    responses((status = 200, description = "the project")))]
async fn put_project(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Admins>,
    Path(id): Path<String>,
    Json(body): Json<ProjectBody>,
) -> Result<axum::Json<Project>, ApiError> {
    identity.require(ADMINS)?;
    for (field, value) in [
        ("owner", &body.owner),
        ("assistant", &body.assistant),
        ("service group", &body.service_group),
    ] {
        if let Some(value) = value {
            crate::error::check_id(field, value)?;
        }
    }
    let desk = state.desk()?;
    let project = Project {
        id,
        name: body.name,
        owner: body.owner,
        assistant: body.assistant,
        service_group: body.service_group,
    };
    desk.execute(DeskOp::UpsertProject {
        project: project.clone(),
    })
    .await?;
    Ok(axum::Json(project))
}

/// Routing modes (per service group), pause reasons and close reasons.
#[utoipa::path(get, path = "/api/desk/config", tag = "desk",
    responses((status = 200, description = "`{routing, pause_reasons, close_reasons}`")))]
async fn get_config(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let view = desk
        .book(|book| {
            let config = book.desk().config();
            json!({
                "routing": config.routing,
                "pause_reasons": config.pause_reasons.0,
                "queues": config.queues,
                "close_reasons": book.close_reasons(),
            })
        })
        .await;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigBody {
    routing: RoutingConfig,
    pause_reasons: Vec<String>,
    close_reasons: Vec<String>,
    /// Channel -> queue name; channels with the same queue pause together.
    #[serde(default)]
    queues: Option<crate::desk::QueueMap>,
}

/// Sets the routing modes and the reasons (admins).
#[utoipa::path(put, path = "/api/desk/config", tag = "desk",
    request_body(content = Object, description = "`{routing: {default, by_group}, pause_reasons, close_reasons, queues?: {channel: queue}}`"),
    responses((status = 200, description = "the configuration")))]
async fn put_config(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Admins>,
    Json(body): Json<ConfigBody>,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(ADMINS)?;
    for reason in body.pause_reasons.iter().chain(&body.close_reasons) {
        crate::error::check_id("reason", reason)?;
    }
    let desk = state.desk()?;
    if body.close_reasons.is_empty() || body.pause_reasons.is_empty() {
        return Err(ApiError::BadRequest(
            "give at least one pause reason and one close reason".to_string(),
        ));
    }
    desk.execute(DeskOp::Configure {
        routing: body.routing,
        pause_reasons: body.pause_reasons,
        close_reasons: body.close_reasons,
        queues: body.queues,
    })
    .await?;
    get_config(State(state), Authenticated(identity)).await
}

#[derive(Debug, Deserialize)]
struct ContactQuery {
    q: Option<String>,
}

/// Contacts whose name, e-mail or id contains `q` (accents and case ignored).
#[utoipa::path(get, path = "/api/desk/contacts", tag = "desk",
    params(("q" = Option<String>, Query, description = "text to look for")),
    responses((status = 200, description = "`{contacts}` with `blocked`")))]
async fn search_contacts(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Query(query): Query<ContactQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let text = query.q.unwrap_or_default();
    let contacts = desk
        .book(|book| {
            book.search_contacts(&text)
                .into_iter()
                .map(|contact| {
                    let mut view = serde_json::to_value(contact).unwrap_or_default();
                    view["blocked"] = json!(book.is_blocked(&contact.id));
                    view
                })
                .collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(json!({ "contacts": contacts })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    project_id: Option<String>,
    contract: Option<String>,
    #[serde(default)]
    contract_status: ContractStatus,
}

/// Creates or updates a contact (a requester) with their contract and its status.
#[utoipa::path(put, path = "/api/desk/contacts/{id}", tag = "desk",
    params(("id" = String, Path, description = "the requester id")),
    request_body(content = Object, description = "`{name, email?, phone?, project_id?, contract?, contract_status?}`"),
    responses((status = 200, description = "the contact")))]
async fn put_contact(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<StaffOrAdmins>,
    Path(id): Path<String>,
    Json(body): Json<ContactBody>,
) -> Result<axum::Json<Contact>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    for (field, value) in [
        ("project id", &body.project_id),
        ("contract", &body.contract),
    ] {
        if let Some(value) = value {
            crate::error::check_id(field, value)?;
        }
    }
    let desk = state.desk()?;
    let contact = Contact {
        id,
        name: body.name,
        email: body.email,
        phone: body.phone,
        project_id: body.project_id,
        contract: body.contract,
        contract_status: body.contract_status,
    };
    desk.execute(DeskOp::UpsertContact {
        contact: contact.clone(),
    })
    .await?;
    Ok(axum::Json(contact))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BlockBody {
    blocked: bool,
}

/// Blocks or unblocks a contact: a blocked contact's new messages are refused with
/// `contact_blocked`; nothing of theirs is deleted.
#[utoipa::path(put, path = "/api/desk/contacts/{id}/block", tag = "desk",
    params(("id" = String, Path, description = "the requester id")),
    request_body(content = Object, description = "`{blocked}`"),
    responses((status = 200, description = "`{id, blocked}`")))]
async fn block_contact(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<BlockBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let by = staff_person(desk, &identity).await?;
    desk.execute(DeskOp::BlockContact {
        id: id.clone(),
        blocked: body.blocked,
        by,
        now_ms: desk.now_ms(),
    })
    .await?;
    Ok(axum::Json(json!({ "id": id, "blocked": body.blocked })))
}

/// The caller's presence: state per channel, time online and paused, channels online /
/// channels enabled.
#[utoipa::path(get, path = "/api/desk/presence", tag = "desk",
    responses((status = 200, description = "the caller as in `/api/desk/people`")))]
async fn get_presence(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let id = staff_person(desk, &identity).await?;
    let now = desk.now_ms();
    let view = desk
        .book(|book| {
            book.desk()
                .person(&id)
                .map(|person| person_view(book, person, now))
        })
        .await
        .unwrap_or_default();
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PresenceBody {
    channel: Channel,
    /// online, paused or offline.
    state: String,
    reason: Option<String>,
}

/// Goes online, pauses (with a reason) or goes offline on one channel; pausing pauses
/// every channel sharing its queue.
#[utoipa::path(put, path = "/api/desk/presence", tag = "desk",
    request_body(content = Object, description = "`{channel, state: online|paused|offline, reason?}`"),
    responses((status = 200, description = "the caller's presence"), (status = 422, description = "`pause_reason_required`, `unknown_pause_reason`, `channel_not_enabled`")))]
async fn put_presence(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Json(body): Json<PresenceBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let person = staff_person(desk, &identity).await?;
    let presence = match body.state.as_str() {
        "online" => PresenceState::Online,
        "offline" => PresenceState::Offline,
        "paused" => PresenceState::Paused {
            reason: body.reason.unwrap_or_default(),
        },
        other => {
            return Err(ApiError::BadRequest(format!(
                "state must be online, paused or offline, not {other:?}"
            )));
        }
    };
    let coming_online = presence == PresenceState::Online;
    desk.execute(DeskOp::SetPresence {
        person: person.clone(),
        channel: body.channel,
        state: presence,
        now_ms: desk.now_ms(),
    })
    .await?;
    if coming_online {
        offer_waiting_chats(desk, &person).await;
    }
    get_presence(State(state), Authenticated(identity)).await
}

/// `person` came online: the waiting chats they may now serve are routed again, in the
/// order they rank for them (see `Desk::waiting_for`); routing still picks, for each, the
/// best available person by its project's tiers and mode.
async fn offer_waiting_chats(desk: &Arc<Attendance>, person: &str) {
    let waiting = desk.book(|book| book.desk().waiting_for(person)).await;
    for conversation_id in waiting {
        let op = DeskOp::Reroute {
            conversation_id,
            now_ms: desk.now_ms(),
        };
        if let Err(error) = desk.execute(op).await {
            tracing::debug!(%error, "a waiting chat was not rerouted");
        }
    }
}

/// Links another analyst as a contact (flow C needs both links).
#[utoipa::path(put, path = "/api/desk/links/{other}", tag = "desk",
    params(("other" = String, Path, description = "the other analyst")),
    responses((status = 200, description = "`{analyst, other, linked}`")))]
async fn link(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(other): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    set_link(state, identity, other, true).await
}

/// Removes the link.
#[utoipa::path(delete, path = "/api/desk/links/{other}", tag = "desk",
    params(("other" = String, Path, description = "the other analyst")),
    responses((status = 200, description = "`{analyst, other, linked}`")))]
async fn unlink(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(other): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    set_link(state, identity, other, false).await
}

async fn set_link(
    state: AppState,
    identity: Identity,
    other: String,
    linked: bool,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(&[Role::Analyst])?;
    let desk = state.desk()?;
    let analyst = staff_person(desk, &identity).await?;
    let op = if linked {
        DeskOp::LinkContact {
            analyst: analyst.clone(),
            other: other.clone(),
        }
    } else {
        DeskOp::UnlinkContact {
            analyst: analyst.clone(),
            other: other.clone(),
        }
    };
    desk.execute(op).await?;
    Ok(axum::Json(
        json!({ "analyst": analyst, "other": other, "linked": linked }),
    ))
}

/// The quick replies the caller may use (shared and their own); an admin sees them all.
#[utoipa::path(get, path = "/api/desk/quick-replies", tag = "desk",
    responses((status = 200, description = "`{quick_replies}`")))]
async fn list_quick_replies(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    let viewer = desk_viewer(desk, &identity).await?;
    let replies = desk
        .book(|book| {
            let visible = match &viewer {
                DeskViewer::Person(person) => book.quick_replies_for(person),
                DeskViewer::Supervisor => book.quick_replies().collect(),
            };
            visible.into_iter().cloned().collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(json!({ "quick_replies": replies })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuickReplyBody {
    texts: BTreeMap<String, String>,
    /// Shared with everyone (default) or only for the caller.
    #[serde(default)]
    personal: bool,
}

/// Creates or replaces the quick reply typed as `/{name}` (an admin: shared ones only).
#[utoipa::path(put, path = "/api/desk/quick-replies/{name}", tag = "desk",
    params(("name" = String, Path, description = "the shortcut without its slash")),
    request_body(content = Object, description = "`{texts: {pt-BR?, es?, en?}, personal?}`"),
    responses((status = 200, description = "the quick reply"), (status = 403, description = "`forbidden`: a personal one asked by an admin"), (status = 422, description = "`invalid_shortcut`")))]
async fn put_quick_reply(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<StaffOrAdmins>,
    Path(name): Path<String>,
    Json(body): Json<QuickReplyBody>,
) -> Result<axum::Json<QuickReply>, ApiError> {
    let desk = state.desk()?;
    let owner = match desk_viewer(desk, &identity).await? {
        DeskViewer::Person(person) => body.personal.then_some(person),
        DeskViewer::Supervisor if body.personal => {
            return Err(ApiError::Forbidden(
                "a personal quick reply belongs to a person of the desk, not to an admin"
                    .to_string(),
            ));
        }
        DeskViewer::Supervisor => None,
    };
    let reply = QuickReply {
        shortcut: format!("/{name}"),
        texts: body.texts,
        owner,
    };
    desk.execute(DeskOp::UpsertQuickReply {
        quick_reply: reply.clone(),
    })
    .await?;
    Ok(axum::Json(reply))
}

/// Deletes a quick reply.
#[utoipa::path(delete, path = "/api/desk/quick-replies/{name}", tag = "desk",
    params(("name" = String, Path, description = "the shortcut without its slash")),
    responses((status = 200, description = "`{deleted}`"), (status = 404, description = "`unknown_quick_reply`")))]
async fn delete_quick_reply(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(name): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let desk = state.desk()?;
    desk_viewer(desk, &identity).await?;
    let shortcut = format!("/{name}");
    desk.execute(DeskOp::DeleteQuickReply {
        shortcut: shortcut.clone(),
    })
    .await?;
    Ok(axum::Json(json!({ "deleted": shortcut })))
}

/// The macros.
#[utoipa::path(get, path = "/api/desk/macros", tag = "desk",
    responses((status = 200, description = "`{macros}`")))]
async fn list_macros(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let macros = desk
        .book(|book| {
            book.macros()
                .map(|(_, definition)| definition.clone())
                .collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(json!({ "macros": macros })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MacroBody {
    name: String,
    actions: Vec<MacroAction>,
}

/// Creates or replaces a macro: ordered actions (tag, untag, transfer, send a quick reply,
/// close with a reason).
#[utoipa::path(put, path = "/api/desk/macros/{id}", tag = "desk",
    params(("id" = String, Path, description = "macro id")),
    request_body(content = Object, description = "`{name, actions: [{action: tag|untag|transfer|send_quick_reply|close, ...}]}`"),
    responses((status = 200, description = "the macro")))]
async fn put_macro(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<StaffOrAdmins>,
    Path(id): Path<String>,
    Json(body): Json<MacroBody>,
) -> Result<axum::Json<Macro>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let definition = Macro {
        id,
        name: body.name,
        actions: body.actions,
    };
    desk.execute(DeskOp::UpsertMacro {
        macro_: definition.clone(),
    })
    .await?;
    Ok(axum::Json(definition))
}

/// Deletes a macro.
#[utoipa::path(delete, path = "/api/desk/macros/{id}", tag = "desk",
    params(("id" = String, Path, description = "macro id")),
    responses((status = 200, description = "`{deleted}`"), (status = 404, description = "`unknown_macro`")))]
async fn delete_macro(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    desk.execute(DeskOp::DeleteMacro { id: id.clone() }).await?;
    Ok(axum::Json(json!({ "deleted": id })))
}

/// WebSocket of desk events for staff and admins: every desk operation (`{"type":"desk","op":...}`)
/// and unread markers (`{"type":"unread","conversation_id":...}`). The token may come in
/// `?token=`.
#[utoipa::path(get, path = "/api/desk/live", tag = "desk",
    params(("token" = Option<String>, Query, description = "bearer token, for browsers")),
    responses((status = 101, description = "switching to WebSocket")))]
async fn staff_live(
    State(state): State<AppState>,
    super::live::LiveAuth(identity): super::live::LiveAuth,
    upgrade: Result<super::live::Upgrade, ApiError>,
) -> Result<Response, ApiError> {
    let desk = state.desk()?;
    desk_viewer(desk, &identity).await?;
    let super::live::Upgrade(upgrade) = upgrade?;
    let mut events = desk.subscribe_staff();
    Ok(super::live::small_buffers(upgrade).on_upgrade(move |mut socket| async move {
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(event) => {
                        if socket.send(ws::Message::Text(event.to_string().into())).await.is_err() {
                            return;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        let notice = json!({ "type": "lagged", "missed": missed }).to_string();
                        if socket.send(ws::Message::Text(notice.into())).await.is_err() {
                            return;
                        }
                    }
                    Err(_) => return,
                },
                incoming = socket.recv() => match incoming {
                    None | Some(Err(_)) | Some(Ok(ws::Message::Close(_))) => return,
                    Some(Ok(_)) => {}
                },
            }
        }
    }))
}
