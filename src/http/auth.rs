//! The axum extractors that identify the caller of a route: [`Authenticated`] reads
//! `Authorization: Bearer <token>` and answers 401 `unauthorized` when the header is missing
//! or the token unknown, 401 `token_expired` after its expiry, 429 `rate_limited` when the
//! token makes too many requests; [`Authorized`] adds the role check (403 `forbidden`) as
//! an extractor, so that it runs before the request body is read. Who a token identifies is
//! decided by the token registry (`crate::auth`). Without the header, a staff member signed
//! in with a password is identified by the session cookie (see [`session_identity`]).

use crate::auth::{Identity, Role, hash};
use crate::http::error::ApiError;
use crate::http::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::Method;
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
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            // A browser signed in with a password carries its session in a cookie instead.
            return match session_secret(&parts.headers) {
                Some(secret) => session_identity(parts, state, &secret)
                    .await
                    .map(Authenticated),
                None => Err(ApiError::Unauthorized(
                    "the Authorization header is missing",
                )),
            };
        };
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

/// The name of the cookie holding a staff session's secret.
pub const SESSION_COOKIE: &str = "ponte_session";

/// The header Ponte's own pages send with every write made with the session cookie. A page
/// of another site cannot send it: the API's CORS answer allows no such header.
pub const WRITE_HEADER: &str = "x-ponte-csrf";

/// The session secret of the request's `Cookie` header, if any.
pub fn session_secret(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// Who the session cookie's secret identifies, once the request is known to come from
/// Ponte's own pages: not from another site (`Sec-Fetch-Site`, `Origin`), and, for a write,
/// carrying [`WRITE_HEADER`]. 403 `cross_site_refused` otherwise; 401 when the session
/// ended; 503 where there are no password sessions.
pub async fn session_identity(
    parts: &Parts,
    state: &AppState,
    secret: &str,
) -> Result<Identity, ApiError> {
    check_same_origin(parts)?;
    let sessions = state.sessions.as_ref().ok_or(ApiError::Unavailable)?;
    let session = sessions.identify(secret).await?;
    state.rate_limit.check(&hash(secret))?;
    Ok(session.identity)
}

/// Refuses a cookie-carried request that another site made.
fn check_same_origin(parts: &Parts) -> Result<(), ApiError> {
    let headers = &parts.headers;
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    if let Some(site) = text("sec-fetch-site")
        && site != "same-origin"
        && site != "none"
    {
        return Err(ApiError::CrossSiteRefused(
            "the session cookie is accepted from Ponte's own pages only",
        ));
    }
    if let (Some(origin), Some(host)) = (text("origin"), text("host")) {
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if !origin_host.eq_ignore_ascii_case(host) {
            return Err(ApiError::CrossSiteRefused(
                "the session cookie is accepted from Ponte's own pages only",
            ));
        }
    }
    let reads = [Method::GET, Method::HEAD, Method::OPTIONS];
    if !reads.contains(&parts.method) && headers.get(WRITE_HEADER).is_none() {
        return Err(ApiError::CrossSiteRefused(
            "a write made with the session cookie must carry the X-Ponte-Csrf header",
        ));
    }
    Ok(())
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
