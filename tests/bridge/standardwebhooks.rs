//! The independent check of our Standard Webhooks signatures: the reference implementation
//! (Python `standardwebhooks`, run from the interpreter named by
//! `PONTE_STANDARDWEBHOOKS_PYTHON`, which `.ci/run` sets up) verifies what our transport
//! really delivered, during a two-secret rotation too, and signs messages our `verify` must
//! accept, and refuse once tampered with. Skipped, saying so, when the variable is unset.

use super::{Receiver, answer, bridge, event, now};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ponte::bridge::signature::{self, Secret};
use ponte::bridge::transport::WebhookTransport;
use ponte::bridge::{AttemptResult, Transport};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

const VARIABLE: &str = "PONTE_STANDARDWEBHOOKS_PYTHON";

fn python() -> Option<String> {
    std::env::var(VARIABLE)
        .ok()
        .filter(|value| !value.is_empty())
}

/// Runs the check script with one request; its JSON answer.
fn reference(python: &str, request: Value) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("bridge")
        .join("standardwebhooks_check.py");
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{VARIABLE}={python} does not run: {error}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the reference check failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[tokio::test]
async fn the_reference_implementation_agrees_with_our_signatures_both_ways() {
    let Some(python) = python() else {
        eprintln!("skipped: {VARIABLE} is not set");
        return;
    };

    // (a) What our transport delivered, verified by the reference with either secret of a
    // rotation, and not with a stranger's.
    let receiver = Receiver::start(|_| answer(200, &[])).await;
    let (old, new) = (Secret::generate(), Secret::generate());
    let bridge = bridge(&receiver.url("/hook"), vec![old.clone(), new.clone()], true);
    let transport = WebhookTransport::new().unwrap();
    let attempt = transport.deliver(&bridge, &event("msg_reference")).await;
    assert_eq!(attempt.result, AttemptResult::Delivered { status: 200 });
    let got = receiver.requests().remove(0);
    let answer = reference(
        &python,
        json!({
            "mode": "verify",
            "secrets": [old.expose(), new.expose(), Secret::generate().expose()],
            "headers": got.headers,
            "body_b64": BASE64.encode(&got.body),
        }),
    );
    assert_eq!(answer["verified"], json!([true, true, false]), "{answer}");

    // A single-secret delivery too.
    let bridge = super::bridge(&receiver.url("/hook"), vec![new.clone()], true);
    let attempt = transport.deliver(&bridge, &event("msg_single")).await;
    assert_eq!(attempt.result, AttemptResult::Delivered { status: 200 });
    let got = receiver.requests().remove(1);
    let answer = reference(
        &python,
        json!({
            "mode": "verify",
            "secrets": [new.expose(), old.expose()],
            "headers": got.headers,
            "body_b64": BASE64.encode(&got.body),
        }),
    );
    assert_eq!(answer["verified"], json!([true, false]), "{answer}");

    // (b) What the reference signs, verified by ours; a tampered body, id or timestamp is
    // refused.
    let secret = Secret::generate();
    let timestamp = now();
    let payload = br#"{"type":"message.created","timestamp":"2026-12-06T03:00:00.000Z","data":{"text":"d\u00e9j\u00e0 vu"}}"#;
    let answer = reference(
        &python,
        json!({
            "mode": "sign",
            "secret": secret.expose(),
            "msg_id": "msg_from_python",
            "timestamp": timestamp,
            "payload_b64": BASE64.encode(payload),
        }),
    );
    let header = answer["signature"].as_str().unwrap();
    assert!(header.starts_with("v1,"), "{header}");
    let ours = |id: &str, timestamp: i64, body: &[u8], secrets: &[Secret]| {
        signature::verify(secrets, id, timestamp, body, header, now())
    };
    let secrets = std::slice::from_ref(&secret);
    assert_eq!(ours("msg_from_python", timestamp, payload, secrets), Ok(()));
    assert_eq!(header, secret.sign("msg_from_python", timestamp, payload));
    let mut tampered = payload.to_vec();
    tampered[10] ^= 1;
    let refused = Err(signature::Refusal::BadSignature);
    assert_eq!(
        ours("msg_from_python", timestamp, &tampered, secrets),
        refused
    );
    assert_eq!(ours("msg_other", timestamp, payload, secrets), refused);
    assert_eq!(
        ours("msg_from_python", timestamp - 1, payload, secrets),
        refused
    );
    assert_eq!(
        ours("msg_from_python", timestamp, payload, &[Secret::generate()]),
        refused
    );
}
