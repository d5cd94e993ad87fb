//! The axum extractors that identify the caller of a route: [`Authenticated`] reads
//! `Authorization: Bearer <token>` and answers 401 `unauthorized` when the header is missing
//! or the token unknown, 401 `token_expired` after its expiry, 429 `rate_limited` when the
//! token makes too many requests; [`Authorized`] adds the role check (403 `forbidden`) as
//! an extractor, so that it runs before the request body is read. Who a token identifies is
//! decided by the token registry (`crate::auth`).

use crate::auth::{Identity, Role, hash};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// The caller's identity, from `Authorization: Bearer <token>`; 401 `unauthorized` otherwise.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Identity);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or(ApiError::Unauthorized(
                "the Authorization header is missing",
            ))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::Unauthorized("the Authorization header is not text"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => {
                return Err(ApiError::Unauthorized(
                    "the Authorization header is not `Bearer <token>`",
                ));
            }
        };
        let identity = state.auth.check(token).await?;
        state.rate_limit.check(&hash(token))?;
        Ok(Authenticated(identity))
    }
}

/// A closed set of roles allowed on a route, as a type: see [`Authorized`].
pub trait Roles: Send + Sync + 'static {
    const ALLOWED: &'static [Role];
}

/// Declares marker types implementing [`Roles`].
macro_rules! roles {
    ($($(#[$meta:meta])* $name:ident = [$($role:ident),+];)+) => {
        $(
            $(#[$meta])*
            #[derive(Debug, Clone, Copy)]
            pub struct $name;

            impl Roles for $name {
                const ALLOWED: &'static [Role] = &[$(Role::$role),+];
            }
        )+
    };
}

roles! {
    /// Admins only.
    Admins = [Admin];
    /// Who may edit knowledge.
    Editors = [KnowledgeManager, Admin];
    /// People who work chats.
    Staff = [Attendant, Analyst];
    /// Staff or admin.
    StaffOrAdmins = [Attendant, Analyst, Admin];
    /// Analysts only.
    Analysts = [Analyst];
    /// Requesters only.
    Requesters = [Requester];
}

/// The caller's identity when their role is one of `R::ALLOWED`: 401 as [`Authenticated`],
/// then 403 `forbidden`. Being an extractor of the request head, it runs before any body
/// extractor, so a caller who may not use a route learns that first, whatever they sent.
#[derive(Debug, Clone)]
pub struct Authorized<R: Roles> {
    pub identity: Identity,
    roles: std::marker::PhantomData<R>,
}

impl<R: Roles> FromRequestParts<AppState> for Authorized<R> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Authenticated(identity) = Authenticated::from_request_parts(parts, state).await?;
        identity.require(R::ALLOWED)?;
        Ok(Authorized {
            identity,
            roles: std::marker::PhantomData,
        })
    }
}

/// The caller's identity when a valid bearer token is given, `None` when no Authorization
/// header is sent (an anonymous caller); a header with an unknown token is still 401.
#[derive(Debug, Clone)]
pub struct MaybeAuthenticated(pub Option<Identity>);

impl FromRequestParts<AppState> for MaybeAuthenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(MaybeAuthenticated(None));
        }
        let Authenticated(identity) = Authenticated::from_request_parts(parts, state).await?;
        Ok(MaybeAuthenticated(Some(identity)))
    }
}
