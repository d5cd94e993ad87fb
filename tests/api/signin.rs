//! Staff sign-in with a user name and password against the real process: an admin creates
//! an account, its holder signs in and works with the session cookie alone (a read, the live
//! feed's identity, a write carrying the pages' header), the cookie is `HttpOnly`, `Secure`
//! and `SameSite=Strict`, a write without the header or from another origin is refused,
//! guessing is held back, the session survives a restart, and sign-out, a new password and a
//! deleted account each end it.

use crate::durability::{free_port, serve_command, wait_ready};
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Child;

const ADMIN: &str = "signin-admin-token";

struct Served {
    child: Child,
    port: u16,
    client: reqwest::Client,
}

impl Served {
    async fn start(data_dir: &Path) -> Served {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let port = free_port();
        // The test writes an article: on a copy, never on the repository's knowledge.
        let knowledge = data_dir.join("knowledge-src");
        if !knowledge.exists() {
            crate::common::copy_dir(&repo.join("knowledge-index"), &knowledge);
        }
        let child = serve_command(data_dir, port, ADMIN)
            .env("PONTE_KNOWLEDGE_DIR", &knowledge)
            .env("PONTE_INTENTS_DIR", repo.join("fixtures/intents"))
            .env("PONTE_RATE_LIMIT", "0")
            .spawn()
            .expect("ponte serve starts");
        wait_ready(port).await;
        Served {
            child,
            port,
            client: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
            .await
            .unwrap();
        answer(response).await
    }

    async fn sign_in(&self, username: &str, password: &str) -> (u16, Value, Option<String>) {
        let response = self
            .client
            .post(self.url("/api/auth/sign-in"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get(SET_COOKIE)
            .map(|value| value.to_str().unwrap().to_string());
        let (status, body) = answer(response).await;
        (status, body, cookie)
    }

    /// A request carrying the session cookie, with the pages' write header when `header`.
    async fn with_cookie(
        &self,
        method: reqwest::Method,
        path: &str,
        secret: &str,
        header: bool,
        origin: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .header(COOKIE, format!("ponte_session={secret}"));
        if header {
            request = request.header("X-Ponte-Csrf", "1");
        }
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.unwrap()).await
    }
}

impl Served {
    /// Who the cookie's session is: `GET /api/auth/session` with it alone.
    async fn session(&self, secret: &str) -> (u16, Value) {
        self.with_cookie(
            reqwest::Method::GET,
            "/api/auth/session",
            secret,
            false,
            None,
            None,
        )
        .await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The session secret of a `Set-Cookie` header.
fn secret_of(cookie: &str) -> String {
    let pair = cookie.split(';').next().unwrap();
    let (name, value) = pair.split_once('=').unwrap();
    assert_eq!(name, "ponte_session", "{cookie}");
    value.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_signs_in_with_a_password_and_works_with_the_cookie() {
    let data = tempfile::tempdir().unwrap();
    let mut server = Served::start(data.path()).await;
    let put = reqwest::Method::PUT;
    let get = reqwest::Method::GET;

    // The admin creates the account; a short password is refused with its code.
    let (status, body) = server
        .admin(
            put.clone(),
            "/api/admin/accounts/bia",
            json!({
                "password": "short", "role": "knowledge_manager", "subject": "bia"
            }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("weak_password")),
        "{body}"
    );
    let (status, body) = server
        .admin(
            put.clone(),
            "/api/admin/accounts/bia",
            json!({
                "password": "cavalo correto bateria", "role": "knowledge_manager", "subject": "bia",
                "groups": ["ti"]
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.get("password_hash").is_none(),
        "no hash is ever shown: {body}"
    );
    // Every file the server keeps (the database and its write-ahead log included): the
    // password's hash is there, the password is not.
    let on_disk = super::tokens::files(data.path());
    let holds = |needle: &[u8]| {
        on_disk
            .iter()
            .any(|bytes| bytes.windows(needle.len()).any(|window| window == needle))
    };
    assert!(holds(b"$argon2id$"), "the account's hash is on disk");
    assert!(
        !holds(b"cavalo correto bateria"),
        "the password itself is not stored"
    );

    // Wrong password and unknown name answer alike; the right one sets the cookie.
    let (status, body, cookie) = server.sign_in("bia", "cavalo errado bateria").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_credentials")),
        "{body}"
    );
    assert!(cookie.is_none());
    let (status, unknown, _) = server.sign_in("nobody", "cavalo correto bateria").await;
    assert_eq!(status, 401);
    assert_eq!(
        unknown["message"], body["message"],
        "the answer does not tell which"
    );
    let (status, body, cookie) = server.sign_in("bia", "cavalo correto bateria").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["role"], "knowledge_manager");
    let cookie = cookie.expect("the session cookie is set");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    let secret = secret_of(&cookie);

    // The cookie alone identifies her, for reads and for writes from Ponte's pages.
    let (status, me) = server.session(&secret).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["username"].as_str(), me["subject"].as_str()),
        (Some("bia"), Some("bia"))
    );
    let (status, body) = server
        .with_cookie(
            get.clone(),
            "/api/knowledge/articles",
            &secret,
            false,
            None,
            None,
        )
        .await;
    assert_eq!(status, 200, "a staff read with the cookie: {body}");
    let article = json!({
        "language": "en", "title": "Cookie sign-in works",
        "body": "Written by a knowledge manager signed in with a password."
    });
    // Without the pages' header, or from another site with it: refused.
    for (header, origin) in [(false, None), (true, Some("https://evil.example"))] {
        let (status, body) = server
            .with_cookie(
                put.clone(),
                "/api/knowledge/articles/kb-cookie.en",
                &secret,
                header,
                origin,
                Some(article.clone()),
            )
            .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("cross_site_refused")),
            "header {header}, origin {origin:?}: {body}"
        );
    }
    let (status, body) = server
        .with_cookie(
            put.clone(),
            "/api/knowledge/articles/kb-cookie.en",
            &secret,
            true,
            None,
            Some(article),
        )
        .await;
    assert!(
        status == 200 || status == 201,
        "a write from the pages: {status} {body}"
    );

    // The session is kept in the store: it outlives a restart.
    drop(server);
    server = Served::start(data.path()).await;
    let (status, _) = server.session(&secret).await;
    assert_eq!(status, 200, "the session survives a restart");

    // Sign-out ends it.
    let response = server
        .client
        .post(server.url("/api/auth/sign-out"))
        .header(COOKIE, format!("ponte_session={secret}"))
        .header("X-Ponte-Csrf", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let cleared = response
        .headers()
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let (_, body) = answer(response).await;
    assert_eq!(body["ended"], true, "{body}");
    let (status, body) = server.session(&secret).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("unauthorized")),
        "{body}"
    );

    // A new password ends every session of the account; so does deleting it.
    let (_, _, cookie) = server.sign_in("bia", "cavalo correto bateria").await;
    let secret = secret_of(&cookie.unwrap());
    let (status, _) = server
        .admin(
            put.clone(),
            "/api/admin/accounts/bia",
            json!({
                "password": "outra senha comprida", "role": "knowledge_manager", "subject": "bia"
            }),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server.session(&secret).await;
    assert_eq!(status, 401, "a new password signs out everywhere");
    let (status, _, cookie) = server.sign_in("bia", "outra senha comprida").await;
    assert_eq!(status, 200);
    let secret = secret_of(&cookie.unwrap());
    let (status, _) = server
        .admin(
            reqwest::Method::DELETE,
            "/api/admin/accounts/bia",
            Value::Null,
        )
        .await;
    assert_eq!(status, 200);
    let (status, _) = server.session(&secret).await;
    assert_eq!(status, 401, "deleting the account ends its sessions");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_a_password_is_held_back() {
    let data = tempfile::tempdir().unwrap();
    let server = Served::start(data.path()).await;
    let (status, body) = server
        .admin(
            reqwest::Method::PUT,
            "/api/admin/accounts/ana",
            json!({
                "password": "senha muito segura", "role": "attendant", "subject": "ana"
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for attempt in 0..5 {
        let (status, body, _) = server
            .sign_in("ana", &format!("palpite {attempt} errado"))
            .await;
        assert_eq!(status, 401, "attempt {attempt}: {body}");
    }
    // Now even the right password waits, and is told how long.
    let response = server
        .client
        .post(server.url("/api/auth/sign-in"))
        .json(&json!({ "username": "ana", "password": "senha muito segura" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    let (_, body) = answer(response).await;
    assert_eq!(body["code"], "too_many_attempts", "{body}");
    // The requester role cannot be given to a staff account.
    let (status, body) = server
        .admin(
            reqwest::Method::PUT,
            "/api/admin/accounts/zed",
            json!({
                "password": "senha muito segura", "role": "requester", "subject": "zed"
            }),
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_request")),
        "{body}"
    );
}
