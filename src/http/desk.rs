//! The desk's setup and people: attendants and analysts, projects, routing and reasons
//! (admins); presence per channel and analyst links (staff); and the staff's live feed.
//! Admins supervise: they see what staff see ([`DeskViewer`]) and act only where no desk
//! person is needed. Contacts are in [`super::contacts`], quick replies and macros in
//! [`super::replies`].
//!
//! A staff token's subject is the person's id in the desk. Every change is one logged desk
//! operation; errors carry the desk's stable codes (`unknown_person`, `channel_not_enabled`,
//! `unknown_pause_reason`, ...).

use super::{Json, Path};
use crate::attendance::Attendance;
use crate::auth::{Identity, Role};
use crate::desk::{
    Channel, DeskOp, Person, PersonKind, PresenceState, Project, QueueMap, RoutingConfig,
};
use crate::http::auth::{Admins, Authenticated, Authorized, Staff};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use axum::extract::State;
use axum::extract::ws;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// People who work chats.
pub const STAFF: &[Role] = &[Role::Attendant, Role::Analyst];
/// Who may set the desk up.
const ADMINS: &[Role] = &[Role::Admin];
/// Staff or admin.
pub const STAFF_OR_ADMIN: &[Role] = &[Role::Attendant, Role::Analyst, Role::Admin];

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_people))
        .routes(routes!(put_person))
        .routes(routes!(list_projects))
        .routes(routes!(put_project))
        .routes(routes!(get_config, put_config))
        .routes(routes!(get_presence, put_presence))
        .routes(routes!(link, unlink))
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
    let known = |book: &crate::desk::DeskBook| book.desk().person(&id).is_some();
    // Unknown here may be new on another node: look at the shared log before refusing.
    if !desk.book(known).await && !desk.book_fresh(known).await? {
        return Err(ApiError::Desk(crate::desk::DeskError::UnknownPerson(id)));
    }
    Ok(id)
}

/// An attendant or analyst with their presence and load.
#[derive(Debug, Serialize, ToSchema)]
struct PersonView {
    id: String,
    name: String,
    /// `attendant` or `analyst`.
    #[schema(value_type = String)]
    kind: PersonKind,
    groups: Vec<String>,
    /// Presence per enabled channel: `{state: online|paused|offline, reason?}`.
    #[schema(value_type = BTreeMap<String, Object>)]
    channels: BTreeMap<&'static str, PresenceState>,
    max_chats: u32,
    active_chats: u32,
    channels_online: u32,
    channels_enabled: u32,
    time_online_ms: u64,
    time_paused_ms: u64,
}

fn person_view(desk_book: &crate::desk::DeskBook, person: &Person, now_ms: u64) -> PersonView {
    let presence = desk_book.desk().presence(&person.id);
    let channels = person
        .channels
        .iter()
        .map(|channel| {
            let state = presence
                .map(|presence| presence.state(*channel))
                .cloned()
                .unwrap_or(PresenceState::Offline);
            (channel.as_str(), state)
        })
        .collect();
    let (online, enabled) = desk_book
        .desk()
        .channel_counts(&person.id)
        .unwrap_or((0, 0));
    PersonView {
        id: person.id.clone(),
        name: person.name.clone(),
        kind: person.kind,
        groups: person.groups.clone(),
        channels,
        max_chats: person.max_chats,
        active_chats: desk_book.desk().active_chats(&person.id),
        channels_online: online,
        channels_enabled: enabled,
        time_online_ms: presence.map(|p| p.time_online_ms(now_ms)).unwrap_or(0),
        time_paused_ms: presence.map(|p| p.time_paused_ms(now_ms)).unwrap_or(0),
    }
}

#[derive(Debug, Serialize, ToSchema)]
struct PeopleList {
    people: Vec<PersonView>,
}

/// Attendants and analysts with their presence and load.
#[utoipa::path(get, path = "/api/desk/people", tag = "desk",
    responses((status = 200, description = "`{people}`", body = PeopleList)))]
async fn list_people(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<PeopleList>, ApiError> {
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
    Ok(axum::Json(PeopleList { people }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PersonBody {
    name: String,
    /// `attendant` or `analyst`.
    #[schema(value_type = String)]
    kind: PersonKind,
    #[serde(default)]
    groups: Vec<String>,
    /// `web_chat`, `whatsapp`.
    #[schema(value_type = Vec<String>)]
    channels: Vec<Channel>,
    max_chats: u32,
}

/// Creates or updates an attendant or analyst (admins).
#[utoipa::path(put, path = "/api/desk/people/{id}", tag = "desk",
    params(("id" = String, Path, description = "person id (their token's subject)")),
    request_body = PersonBody,
    responses((status = 200, description = "the person", body = PersonView)))]
async fn put_person(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Admins>,
    Path(id): Path<String>,
    Json(body): Json<PersonBody>,
) -> Result<axum::Json<PersonView>, ApiError> {
    identity.require(ADMINS)?;
    for group in &body.groups {
        crate::http::error::check_id("group", group)?;
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
    responses((status = 200, description = "`{projects}`", body = ProjectList)))]
async fn list_projects(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<ProjectList>, ApiError> {
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
    Ok(axum::Json(ProjectList { projects }))
}

#[derive(Debug, Serialize, ToSchema)]
struct ProjectList {
    projects: Vec<Project>,
}

#[derive(Debug, Deserialize, ToSchema)]
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
    request_body = ProjectBody,
    responses((status = 200, description = "the project", body = Project)))]
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
            crate::http::error::check_id(field, value)?;
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
    responses((status = 200, description = "`{routing, pause_reasons, queues, close_reasons, reason_labels}`", body = ConfigView)))]
async fn get_config(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<ConfigView>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let view = desk
        .book(|book| {
            let config = book.desk().config();
            ConfigView {
                routing: config.routing.clone(),
                pause_reasons: config.pause_reasons.0.clone(),
                queues: config.queues.clone(),
                close_reasons: book.close_reasons().to_vec(),
                reason_labels: book.reason_labels().clone(),
            }
        })
        .await;
    Ok(axum::Json(view))
}

/// The desk's configuration.
#[derive(Debug, Serialize, ToSchema)]
struct ConfigView {
    routing: RoutingConfig,
    pause_reasons: Vec<String>,
    /// Channel -> queue name.
    #[schema(value_type = BTreeMap<String, String>)]
    queues: QueueMap,
    close_reasons: Vec<String>,
    /// Reason -> language (`pt-BR`, `es`, `en`) -> label.
    #[schema(value_type = BTreeMap<String, BTreeMap<String, String>>)]
    reason_labels: crate::desk::ReasonLabels,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ConfigBody {
    routing: RoutingConfig,
    pause_reasons: Vec<String>,
    close_reasons: Vec<String>,
    /// Channel -> queue name; channels with the same queue pause together.
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, String>>)]
    queues: Option<QueueMap>,
    /// Reason -> language (`pt-BR`, `es`, `en`) -> label; absent: unchanged. A label of a
    /// reason not in the lists is dropped.
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, BTreeMap<String, String>>>)]
    reason_labels: Option<crate::desk::ReasonLabels>,
}

/// Sets the routing modes and the reasons (admins).
#[utoipa::path(put, path = "/api/desk/config", tag = "desk",
    request_body = ConfigBody,
    responses((status = 200, description = "the configuration", body = ConfigView)))]
async fn put_config(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Admins>,
    Json(body): Json<ConfigBody>,
) -> Result<axum::Json<ConfigView>, ApiError> {
    identity.require(ADMINS)?;
    for reason in body.pause_reasons.iter().chain(&body.close_reasons) {
        crate::http::error::check_id("reason", reason)?;
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
        labels: body.reason_labels,
    })
    .await?;
    get_config(State(state), Authenticated(identity)).await
}

/// The caller's presence: state per channel, time online and paused, channels online /
/// channels enabled.
#[utoipa::path(get, path = "/api/desk/presence", tag = "desk",
    responses((status = 200, description = "the caller as in `/api/desk/people`", body = PersonView)))]
async fn get_presence(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<Option<PersonView>>, ApiError> {
    let desk = state.desk()?;
    let id = staff_person(desk, &identity).await?;
    let now = desk.now_ms();
    let view = desk
        .book(|book| {
            book.desk()
                .person(&id)
                .map(|person| person_view(book, person, now))
        })
        .await;
    Ok(axum::Json(view))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PresenceBody {
    /// `web_chat` or `whatsapp`.
    #[schema(value_type = String)]
    channel: Channel,
    /// online, paused or offline.
    state: String,
    reason: Option<String>,
}

/// Goes online, pauses (with a reason) or goes offline on one channel; pausing pauses
/// every channel sharing its queue.
#[utoipa::path(put, path = "/api/desk/presence", tag = "desk",
    request_body = PresenceBody,
    responses((status = 200, description = "the caller's presence", body = PersonView),
              (status = 422, description = "`pause_reason_required`, `unknown_pause_reason`, `channel_not_enabled`", body = ErrorBody)))]
async fn put_presence(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Json(body): Json<PresenceBody>,
) -> Result<axum::Json<Option<PersonView>>, ApiError> {
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
    responses((status = 200, description = "`{analyst, other, linked}`", body = Link)))]
async fn link(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(other): Path<String>,
) -> Result<axum::Json<Link>, ApiError> {
    set_link(state, identity, other, true).await
}

/// Removes the link.
#[utoipa::path(delete, path = "/api/desk/links/{other}", tag = "desk",
    params(("other" = String, Path, description = "the other analyst")),
    responses((status = 200, description = "`{analyst, other, linked}`", body = Link)))]
async fn unlink(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(other): Path<String>,
) -> Result<axum::Json<Link>, ApiError> {
    set_link(state, identity, other, false).await
}

/// Whether an analyst links another as a contact.
#[derive(Debug, Serialize, ToSchema)]
struct Link {
    analyst: String,
    other: String,
    linked: bool,
}

async fn set_link(
    state: AppState,
    identity: Identity,
    other: String,
    linked: bool,
) -> Result<axum::Json<Link>, ApiError> {
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
    Ok(axum::Json(Link {
        analyst,
        other,
        linked,
    }))
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
                        if socket.send(ws::Message::Text(event.frame.clone().into())).await.is_err() {
                            return;
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                        let notice = crate::live::StaffEvent::Lagged { missed }.to_frame();
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
