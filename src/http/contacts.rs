//! The desk's contacts (requesters with their contract and its status): searching them,
//! creating or updating one (staff and admins) and blocking or unblocking one (staff). A
//! blocked contact's new messages are refused; nothing of theirs is deleted.

use super::desk::{STAFF_OR_ADMIN, staff_person};
use super::{Json, Path, Query};
use crate::desk::{Contact, ContractStatus, DeskOp};
use crate::http::auth::{Authenticated, Authorized, Staff, StaffOrAdmins};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_contacts))
        .routes(routes!(put_contact))
        .routes(routes!(block_contact))
}

#[derive(Debug, Deserialize)]
struct ContactQuery {
    q: Option<String>,
}

/// Contacts whose name, e-mail or id contains `q` (accents and case ignored).
#[utoipa::path(get, path = "/api/desk/contacts", tag = "desk",
    params(("q" = Option<String>, Query, description = "text to look for")),
    responses((status = 200, description = "`{contacts}` with `blocked`", body = ContactList)))]
async fn search_contacts(
    State(state): State<AppState>,
    Authenticated(identity): Authenticated,
    Query(query): Query<ContactQuery>,
) -> Result<axum::Json<ContactList>, ApiError> {
    identity.require(STAFF_OR_ADMIN)?;
    let desk = state.desk()?;
    let text = query.q.unwrap_or_default();
    let contacts = desk
        .book(|book| {
            book.search_contacts(&text)
                .into_iter()
                .map(|contact| ContactView {
                    contact: contact.clone(),
                    blocked: book.is_blocked(&contact.id),
                })
                .collect::<Vec<_>>()
        })
        .await;
    Ok(axum::Json(ContactList { contacts }))
}

/// A contact and whether the desk blocks them.
#[derive(Debug, Serialize, ToSchema)]
struct ContactView {
    /// `{id, name, email, phone, project_id, contract, contract_status}`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    contact: Contact,
    blocked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
struct ContactList {
    contacts: Vec<ContactView>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ContactBody {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    project_id: Option<String>,
    contract: Option<String>,
    /// `active` (default) or `blocked`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    contract_status: ContractStatus,
}

/// Creates or updates a contact (a requester) with their contract and its status.
#[utoipa::path(put, path = "/api/desk/contacts/{id}", tag = "desk",
    params(("id" = String, Path, description = "the requester id")),
    request_body = ContactBody,
    responses((status = 200, description = "the contact", body = crate::desk::Contact)))]
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
            crate::http::error::check_id(field, value)?;
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct BlockBody {
    blocked: bool,
}

/// A contact's blocking.
#[derive(Debug, Serialize, ToSchema)]
struct Blocking {
    id: String,
    blocked: bool,
}

/// Blocks or unblocks a contact: a blocked contact's new messages are refused with
/// `contact_blocked`; nothing of theirs is deleted.
#[utoipa::path(put, path = "/api/desk/contacts/{id}/block", tag = "desk",
    params(("id" = String, Path, description = "the requester id")),
    request_body = BlockBody,
    responses((status = 200, description = "`{id, blocked}`", body = Blocking)))]
async fn block_contact(
    State(state): State<AppState>,
    Authorized { identity, .. }: Authorized<Staff>,
    Path(id): Path<String>,
    Json(body): Json<BlockBody>,
) -> Result<axum::Json<Blocking>, ApiError> {
    let desk = state.desk()?;
    let by = staff_person(desk, &identity).await?;
    desk.execute(DeskOp::BlockContact {
        id: id.clone(),
        blocked: body.blocked,
        by,
        now_ms: desk.now_ms(),
    })
    .await?;
    Ok(axum::Json(Blocking {
        id,
        blocked: body.blocked,
    }))
}
