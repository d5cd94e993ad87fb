//! Tokens issued through `POST /api/admin/tokens` against the real process: they survive a
//! restart (only their hash is on disk), are listed without secrets, and revocation and
//! expiry take effect at once and stay in effect after a restart.

use crate::durability::{free_port, http, serve_command, wait_ready};
use serde_json::{Value, json};
use std::path::Path;
use std::process::Child;
use std::time::Duration;

const ADMIN: &str = "tokens-admin-token";

struct Served {
    child: Child,
    port: u16,
}

impl Served {
    async fn start(data_dir: &Path) -> Served {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let port = free_port();
        let child = serve_command(data_dir, port, ADMIN)
            .env("PONTE_INTENTS_DIR", repo.join("fixtures/intents"))
            .env("PONTE_RATE_LIMIT", "0")
            .spawn()
            .expect("ponte serve starts");
        wait_ready(port).await;
        Served { child, port }
    }

    /// SIGKILL: what a holder keeps must not depend on a clean stop.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        http(self.port, method, path, token, body)
            .await
            .unwrap_or_else(|| panic!("{method} {path}: no answer"))
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every file under `dir`, read as bytes.
pub(super) fn files(dir: &Path) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            found.push(bytes);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issued_tokens_survive_a_restart_until_revoked_or_expired() {
    let data = tempfile::tempdir().unwrap();
    let server = Served::start(data.path()).await;

    let (status, issued) = server
        .call(
            "POST",
            "/api/admin/tokens",
            ADMIN,
            Some(json!({ "role": "requester", "subject": "rosa", "groups": ["rh"] })),
        )
        .await;
    assert_eq!(status, 201, "{issued}");
    let rosa = issued["token"].as_str().unwrap().to_string();
    let (status, opened) = server
        .call(
            "POST",
            "/api/conversations",
            &rosa,
            Some(json!({ "language": "en" })),
        )
        .await;
    assert_eq!(status, 201, "{opened}");
    let conversation = opened["conversation"]["id"].as_str().unwrap().to_string();
    let transcript = format!("/api/conversations/{conversation}/messages?after=0");
    let (status, before) = server.call("GET", &transcript, &rosa, None).await;
    assert_eq!(status, 200, "{before}");
    assert!(
        !before["messages"].as_array().unwrap().is_empty(),
        "{before}"
    );

    server.kill();
    for bytes in files(data.path()) {
        let haystack = String::from_utf8_lossy(&bytes);
        assert!(!haystack.contains(&rosa), "a token is stored in plaintext");
    }
    let server = Served::start(data.path()).await;

    // The holder reads their conversation after the restart.
    let (status, after) = server.call("GET", &transcript, &rosa, None).await;
    assert_eq!(
        status, 200,
        "the issued token was lost in the restart: {after}"
    );
    assert_eq!(after["messages"], before["messages"]);

    // A stable id, shown at issue and in the listing, which never shows a secret.
    let rosa_id = issued["id"]
        .as_str()
        .expect("an issued token has an id")
        .to_string();
    assert_eq!(issued["subject"], "rosa");
    assert_eq!(issued["expires_at"], Value::Null);
    let (status, short) = server
        .call(
            "POST",
            "/api/admin/tokens",
            ADMIN,
            Some(json!({ "role": "requester", "subject": "tia", "expires_in_seconds": 3 })),
        )
        .await;
    assert_eq!(status, 201, "{short}");
    let tia = short["token"].as_str().unwrap().to_string();
    assert!(short["expires_at"].as_i64().unwrap() > short["created_at"].as_i64().unwrap());
    let (status, _) = server.call("GET", "/api/tickets", &tia, None).await;
    assert_eq!(status, 200);
    let (status, listed) = server.call("GET", "/api/admin/tokens", ADMIN, None).await;
    assert_eq!(status, 200, "{listed}");
    let text = listed.to_string();
    assert!(text.contains(&rosa_id) && text.contains("tia"), "{text}");
    assert!(
        !text.contains(&rosa) && !text.contains(&tia),
        "a secret is listed: {text}"
    );
    let (status, _) = server.call("GET", "/api/admin/tokens", &rosa, None).await;
    assert_eq!(status, 403);

    // Expiry: refused with its own code once the time has passed.
    tokio::time::sleep(Duration::from_millis(3200)).await;
    let (status, expired) = server.call("GET", "/api/tickets", &tia, None).await;
    assert_eq!(status, 401, "{expired}");
    assert_eq!(expired["code"], "token_expired", "{expired}");

    // Revocation takes effect at once and for good.
    let (status, revoked) = server
        .call(
            "DELETE",
            &format!("/api/admin/tokens/{rosa_id}"),
            ADMIN,
            None,
        )
        .await;
    assert_eq!(status, 200, "{revoked}");
    assert_eq!(revoked["id"], rosa_id.as_str());
    let (status, refused) = server.call("GET", &transcript, &rosa, None).await;
    assert_eq!(status, 401, "{refused}");
    assert_eq!(refused["code"], "unauthorized");
    let (status, again) = server
        .call(
            "DELETE",
            &format!("/api/admin/tokens/{rosa_id}"),
            ADMIN,
            None,
        )
        .await;
    assert_eq!(status, 404, "{again}");
    server.kill();
    let server = Served::start(data.path()).await;
    let (status, _) = server.call("GET", &transcript, &rosa, None).await;
    assert_eq!(status, 401, "a revoked token came back after a restart");
    let (status, _) = server.call("GET", "/api/tickets", &tia, None).await;
    assert_eq!(status, 401);
    server.kill();
}
