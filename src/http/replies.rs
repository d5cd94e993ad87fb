//! Quick replies (canned answers typed as `/shortcut`, shared or personal) and macros
//! (ordered actions run on a chat as one operation): listing, writing and deleting them.
//! Staff and admins; an admin writes shared quick replies only.

use super::desk::{DeskViewer, STAFF_OR_ADMIN, desk_viewer};
use super::{Json, Path};
use crate::desk::{DeskOp, Macro, MacroAction, QuickReply};
use crate::http::auth::{Authenticated, Authorized, StaffOrAdmins};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_quick_replies))
        .routes(routes!(put_quick_reply, delete_quick_reply))
        .routes(routes!(list_macros))
        .routes(routes!(put_macro, delete_macro))
}

/// The quick replies the caller may use (shared and their own); an admin sees them all.
#[utoipa::path(get, path = "/api/desk/quick-replies", tag = "desk",
    responses((status = 200, description = "`{quick_replies}`", body = QuickReplyList)))]
async fn list_quick_replies(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<QuickReplyList>, ApiError> {
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
    Ok(axum::Json(QuickReplyList {
        quick_replies: replies,
    }))
}

#[derive(Debug, Serialize, ToSchema)]
struct QuickReplyList {
    quick_replies: Vec<QuickReply>,
}

#[derive(Debug, Deserialize, ToSchema)]
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
    request_body = QuickReplyBody,
    responses((status = 200, description = "the quick reply", body = QuickReply),
              (status = 403, description = "`forbidden`: a personal one asked by an admin", body = ErrorBody),
              (status = 422, description = "`invalid_shortcut`", body = ErrorBody)))]
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
    responses((status = 200, description = "`{deleted}`", body = Deleted),
              (status = 404, description = "`unknown_quick_reply`", body = ErrorBody)))]
async fn delete_quick_reply(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(name): Path<String>,
) -> Result<axum::Json<Deleted>, ApiError> {
    let desk = state.desk()?;
    desk_viewer(desk, &identity).await?;
    let shortcut = format!("/{name}");
    desk.execute(DeskOp::DeleteQuickReply {
        shortcut: shortcut.clone(),
    })
    .await?;
    Ok(axum::Json(Deleted { deleted: shortcut }))
}

/// What a delete removed: a quick reply's shortcut, a macro's id.
#[derive(Debug, Serialize, ToSchema)]
struct Deleted {
    deleted: String,
}

/// The macros.
#[utoipa::path(get, path = "/api/desk/macros", tag = "desk",
    responses((status = 200, description = "`{macros}`", body = MacroList)))]
async fn list_macros(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
) -> Result<axum::Json<MacroList>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let macros = desk
        .book(|book| {
            book.macros()
                .map(|(_, definition)| definition.clone())
                .collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(MacroList { macros }))
}

#[derive(Debug, Serialize, ToSchema)]
struct MacroList {
    macros: Vec<Macro>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct MacroBody {
    name: String,
    /// The steps in order, each `{action: tag|untag|transfer|send_quick_reply|close, ...}`.
    actions: Vec<MacroAction>,
}

/// Creates or replaces a macro: ordered actions (tag, untag, transfer, send a quick reply,
/// close with a reason).
#[utoipa::path(put, path = "/api/desk/macros/{id}", tag = "desk",
    params(("id" = String, Path, description = "macro id")),
    request_body = MacroBody,
    responses((status = 200, description = "the macro", body = Macro)))]
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
    responses((status = 200, description = "`{deleted}`", body = Deleted),
              (status = 404, description = "`unknown_macro`", body = ErrorBody)))]
async fn delete_macro(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Path(id): Path<String>,
) -> Result<axum::Json<Deleted>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    desk.execute(DeskOp::DeleteMacro { id: id.clone() }).await?;
    Ok(axum::Json(Deleted { deleted: id }))
}
