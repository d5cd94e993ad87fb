//! What each side of a chat sees of the other besides messages, in the requester's widget
//! (issue 18): with the pre-chat form on, a guest gives a name (a bad e-mail is refused under
//! its field) and the desk lists the chat under that name; the requester's typing reaches
//! the desk's live feed and Ana's typing shows in the widget with her name until her message
//! arrives; the requester's messages show one check once stored and two once Ana has read
//! them, which survives a reload, and the widget tells the desk how far the requester read;
//! the header's download button saves the transcript as a text file in the requester's
//! language. Once on a desktop in Portuguese, once on a 390x844 phone in Spanish, with
//! axe-core on every state visited.

use super::harness::{
    ADMIN, ATTENDANT, PATIENCE, axe, click, eval, screenshot, shown, type_and_enter, until,
    with_ana,
};
use super::{ana_captures, attendant_writes, fall_back_to_a_person, widget_conversation};
use crate::durability::http;
use fantoccini::Client;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The conversation's live feed as Ana's console follows it.
async fn follow_as_ana(port: u16, conversation: &str) -> Socket {
    let url =
        format!("ws://127.0.0.1:{port}/api/conversations/{conversation}/live?token={ATTENDANT}");
    tokio_tungstenite::connect_async(url)
        .await
        .expect("Ana follows the chat")
        .0
}

/// The next frame of `socket` for which `wanted` holds (the others are skipped).
async fn frame_where(socket: &mut Socket, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let next = tokio::time::timeout(left, socket.next())
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"));
        if let Some(Ok(WsMessage::Text(text))) = next {
            let frame: Value = serde_json::from_str(&text).unwrap();
            if wanted(&frame) {
                return frame;
            }
        }
    }
}

/// The marks on the requester's messages, as a screen reader says them.
async fn marks(client: &Client) -> Vec<String> {
    let found = eval(
        client,
        "Array.from(document.querySelectorAll('#ponte-log .ponte-from-requester .ponte-mark'))
           .map(m => m.getAttribute('aria-label') + ' ' + m.querySelectorAll('path').length)",
    )
    .await;
    serde_json::from_value(found).unwrap()
}

/// Clicks the header's download button and returns the file the widget handed to the
/// browser: its name and its text (caught on its way to the browser's downloads, which a
/// headless test cannot open).
async fn download(client: &Client) -> (String, String) {
    eval(
        client,
        "(() => { window.__saved = [];
          const blobs = new Map();
          const create = URL.createObjectURL;
          URL.createObjectURL = (blob) => { const url = create(blob); blobs.set(url, blob); return url; };
          const click = HTMLAnchorElement.prototype.click;
          HTMLAnchorElement.prototype.click = function () {
            if (this.download && blobs.has(this.href)) window.__saved.push({ name: this.download, blob: blobs.get(this.href) });
            else click.call(this);
          }; return true; })()",
    )
    .await;
    click(client, "#ponte-save").await;
    until(
        client,
        "the transcript handed over",
        "window.__saved.length === 1",
    )
    .await;
    let saved = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const file = window.__saved[0];
             file.blob.text().then(text => done([file.name, text]), e => done(['', String(e)]));",
            vec![],
        )
        .await
        .unwrap();
    serde_json::from_value(saved).unwrap()
}

/// Ana reads the chat to its last message through the API (what her console does).
async fn ana_reads_everything(port: u16, conversation: &str) -> i64 {
    let (status, view) = http(
        port,
        "GET",
        &format!("/api/desk/chats/{conversation}/messages"),
        ATTENDANT,
        None,
    )
    .await
    .expect("an answer");
    assert_eq!(status, 200, "{view}");
    let last = view["messages"]
        .as_array()
        .and_then(|messages| messages.last())
        .and_then(|message| message["seq"].as_i64())
        .expect("a message");
    let (status, marks) = http(
        port,
        "POST",
        &format!("/api/conversations/{conversation}/read"),
        ATTENDANT,
        Some(json!({ "seq": last })),
    )
    .await
    .expect("an answer");
    assert_eq!(status, 200, "{marks}");
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_guest_and_ana_see_each_other_type_and_read_in_portuguese() {
    let Some((server, _driver, requester)) =
        with_ana("a_named_guest_and_ana_...", 1280, 900, "pt-BR").await
    else {
        return;
    };
    server
        .ok(
            "PUT",
            "/api/admin/parameters",
            ADMIN,
            Some(json!({ "key": "prechat_form", "value": "on" })),
        )
        .await;

    // The chat opens on the form; a bad e-mail is refused under its field.
    requester.goto(&server.url("/")).await.unwrap();
    click(&requester, "#ponte-talk").await;
    shown(&requester, "#ponte-prechat").await;
    let focused = eval(&requester, "document.activeElement.id").await;
    assert_eq!(focused, "ponte-prechat-name");
    axe(&requester, "the pre-chat form (desktop, pt-BR)").await;
    shown(&requester, "#ponte-prechat-name")
        .await
        .send_keys("Maria Souza")
        .await
        .unwrap();
    shown(&requester, "#ponte-prechat-email")
        .await
        .send_keys("maria@exemplo")
        .await
        .unwrap();
    click(&requester, "#ponte-prechat-start").await;
    let refused = shown(&requester, "#ponte-prechat-email-error")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(refused, "Informe um e-mail válido, como nome@exemplo.com.");
    assert_eq!(
        eval(
            &requester,
            "document.querySelector('#ponte-prechat-email').getAttribute('aria-invalid')"
        )
        .await,
        "true"
    );
    screenshot(&requester, "widget-prechat-refused").await;
    axe(
        &requester,
        "the pre-chat form refusing an e-mail (desktop, pt-BR)",
    )
    .await;
    shown(&requester, "#ponte-prechat-email")
        .await
        .send_keys(".com.br")
        .await
        .unwrap();
    click(&requester, "#ponte-prechat-start").await;
    shown(&requester, "#ponte-log .ponte-from-assistant").await;
    assert_eq!(
        eval(
            &requester,
            "document.querySelector('#ponte-prechat') === null"
        )
        .await,
        true
    );

    // Handed to the queue: the desk sees Maria, not a guest id.
    fall_back_to_a_person(&requester).await;
    let conversation = widget_conversation(&requester).await;
    let listed = server.ok("GET", "/api/desk/chats", ATTENDANT, None).await;
    let chat = listed["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|chat| chat["conversation_id"] == conversation.as_str())
        .cloned()
        .expect("the chat is listed");
    assert_eq!(chat["contact"]["name"], "Maria Souza", "{chat}");
    ana_captures(&server, &conversation).await;
    until(
        &requester,
        "Ana in the header",
        "document.querySelector('#ponte-title').textContent === 'Ana'",
    )
    .await;

    // Maria types: Ana's side hears it, with Maria's name.
    let mut ana = follow_as_ana(server.port, &conversation).await;
    shown(&requester, "#ponte-input")
        .await
        .send_keys("A VPN")
        .await
        .unwrap();
    let typing = frame_where(&mut ana, "Maria typing", |frame| {
        frame["type"] == "typing" && frame["who"] == "requester"
    })
    .await;
    assert_eq!(typing["name"], "Maria Souza", "{typing}");

    // Ana types: the widget says so under the log, until her message arrives.
    server
        .ok(
            "POST",
            &format!("/api/conversations/{conversation}/typing"),
            ATTENDANT,
            None,
        )
        .await;
    let line = shown(&requester, "#ponte-typing")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(line, "Ana está digitando…");
    screenshot(&requester, "widget-typing-pt").await;
    axe(&requester, "Ana typing (desktop, pt-BR)").await;
    attendant_writes(&server, &conversation, "Olá, Maria! Sou a Ana.").await;
    until(
        &requester,
        "Ana's message, her typing gone",
        "document.querySelector('#ponte-log').textContent.includes('Sou a Ana') && document.querySelector('#ponte-typing').hidden",
    )
    .await;
    // The widget is open and in view: it tells the desk Maria read it.
    let read = frame_where(&mut ana, "Maria's read mark", |frame| {
        frame["type"] == "read" && frame["who"] == "requester"
    })
    .await;
    assert!(read["seq"].as_i64().unwrap() > 0, "{read}");

    // Maria's message: one check once stored, two once Ana has read it.
    type_and_enter(&requester, "#ponte-input", " não conecta").await;
    until(
        &requester,
        "the delivered mark",
        "document.querySelector('#ponte-log .ponte-from-requester:last-of-type .ponte-mark[aria-label=\"Entregue\"]')",
    )
    .await;
    let before = marks(&requester).await;
    assert_eq!(
        before.last().map(String::as_str),
        Some("Entregue 1"),
        "{before:?}"
    );
    ana_reads_everything(server.port, &conversation).await;
    until(
        &requester,
        "every mark read",
        "Array.from(document.querySelectorAll('#ponte-log .ponte-mark')).every(m => m.getAttribute('aria-label') === 'Lida')",
    )
    .await;
    assert!(marks(&requester).await.iter().all(|mark| mark == "Lida 2"));
    screenshot(&requester, "widget-read-pt").await;
    axe(&requester, "read marks (desktop, pt-BR)").await;

    // A reload shows the same marks.
    requester.refresh().await.unwrap();
    click(&requester, "#ponte-talk").await;
    until(
        &requester,
        "the marks after a reload",
        "document.querySelector('#ponte-log').textContent.includes('não conecta')
         && Array.from(document.querySelectorAll('#ponte-log .ponte-mark')).every(m => m.getAttribute('aria-label') === 'Lida')",
    )
    .await;

    // The conversation as a file, in Portuguese, with names and times.
    let (name, text) = download(&requester).await;
    assert!(
        name.starts_with("conversa-") && name.ends_with(".txt"),
        "{name}"
    );
    assert!(
        text.starts_with(&format!("Conversa {conversation} (")),
        "{text}"
    );
    assert!(
        text.contains("] Maria Souza: A VPN não conecta\n"),
        "{text}"
    );
    assert!(text.contains("] Ana: Olá, Maria! Sou a Ana.\n"), "{text}");
    assert!(text.contains("] Assistente virtual: "), "{text}");
    requester.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_in_spanish_typing_marks_and_the_download_speak_usted() {
    let Some((server, _driver, phone)) =
        with_ana("on_a_phone_in_spanish_typing_...", 390, 844, "es-ES").await
    else {
        return;
    };
    // The pre-chat form is off by default: the chat starts at once.
    phone.goto(&server.url("/")).await.unwrap();
    click(&phone, "#ponte-talk").await;
    shown(&phone, "#ponte-log .ponte-from-assistant").await;
    assert_eq!(
        eval(&phone, "document.querySelector('#ponte-prechat') === null").await,
        true
    );
    let save = shown(&phone, "#ponte-save").await;
    assert_eq!(
        save.attr("aria-label").await.unwrap().as_deref(),
        Some("Descargar conversación")
    );
    fall_back_to_a_person(&phone).await;
    let conversation = widget_conversation(&phone).await;
    ana_captures(&server, &conversation).await;

    server
        .ok(
            "POST",
            &format!("/api/conversations/{conversation}/typing"),
            ATTENDANT,
            None,
        )
        .await;
    let line = shown(&phone, "#ponte-typing").await.text().await.unwrap();
    assert_eq!(line, "Ana está escribiendo…");
    let fits = eval(
        &phone,
        "(() => { const r = document.querySelector('#ponte-typing').getBoundingClientRect();
                  const h = document.querySelector('.ponte-header').getBoundingClientRect();
                  return r.right <= 390 && h.right <= 390 && document.documentElement.scrollWidth <= 390; })()",
    )
    .await;
    assert_eq!(fits, true);
    screenshot(&phone, "widget-typing-es-phone").await;
    axe(&phone, "Ana typing (phone, es)").await;

    type_and_enter(&phone, "#ponte-input", "Mi tarjeta no abre la puerta").await;
    until(
        &phone,
        "the delivered mark",
        "Array.from(document.querySelectorAll('#ponte-log .ponte-mark')).some(m => m.getAttribute('aria-label') === 'Entregado')",
    )
    .await;
    axe(&phone, "a delivered message (phone, es)").await;
    ana_reads_everything(server.port, &conversation).await;
    until(
        &phone,
        "the read marks",
        "Array.from(document.querySelectorAll('#ponte-log .ponte-mark')).every(m => m.getAttribute('aria-label') === 'Leído')",
    )
    .await;
    assert!(marks(&phone).await.iter().all(|mark| mark == "Leído 2"));
    screenshot(&phone, "widget-read-es-phone").await;
    axe(&phone, "read marks (phone, es)").await;

    let (name, text) = download(&phone).await;
    assert!(name.starts_with("conversacion-"), "{name} {text}");
    assert!(
        text.contains("] Solicitante: Mi tarjeta no abre la puerta\n"),
        "{text}"
    );
    assert!(text.contains("Horas en "), "{text}");
    phone.close().await.unwrap();
}
