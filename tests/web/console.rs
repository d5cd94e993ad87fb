//! The attendants' console as attendants work with it, in headless Chromium against the real
//! `ponte serve`: each chat's card with its last message and time, names and initials instead
//! of ids; the read-only preview of a queued chat (the assistant's part included) before
//! capturing it; the Mine, Unassigned, All and Closed views and the attendant filter; the
//! keyboard shortcuts and their help overlay; sound and desktop notifications (the page's
//! `Notification` and the tone's oscillator are recorded) for a new chat and a new message;
//! the dark theme following the system setting (emulated through the DevTools protocol); the
//! requester typing, ✓ / ✓✓ on the desk's messages and a close reason's configured label. In
//! English on a desktop, Brazilian Portuguese on a phone and Spanish, with axe-core on every
//! state. Without a browser: the list's last messages, who may preview a queued chat, and the
//! console's ES modules each served as JavaScript and preloaded.

use super::harness::{
    ADMIN, ATTENDANT, Driver, Server, axe, click, driver_or_skip, eval, screenshot, shown,
    type_and_enter, until, with_ana,
};
use crate::desk::Desk;
use crate::durability::http;
use axum::http::{Method, StatusCode};
use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use ponte::auth::Role;
use serde_json::{Value, json};

/// The text a requester writes once their chat waits in the queue.
const STILL_THERE: &str = "Are you there? My badge is still melted";

/// A guest of the widget who asks something the assistant cannot answer, takes the offer of a
/// person, and writes `text` while waiting: (conversation id, guest token).
async fn queued_chat(server: &Server, language: &str, text: &str) -> (String, String) {
    let session = must(server, "POST", "/api/widget/session", "", None).await;
    let token = session["token"]
        .as_str()
        .expect("a guest token")
        .to_string();
    let opened = must(
        server,
        "POST",
        "/api/conversations",
        &token,
        Some(json!({ "language": language, "channel": "web" })),
    )
    .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    let messages = format!("/api/conversations/{id}/messages");
    must(
        server,
        "POST",
        &messages,
        &token,
        Some(json!({ "text": "tell me a joke about penguins" })),
    )
    .await;
    must(
        server,
        "POST",
        &format!("/api/conversations/{id}/options"),
        &token,
        Some(json!({ "option_id": "talk_to_attendant" })),
    )
    .await;
    requester_writes(server, &id, &token, text).await;
    (id, token)
}

async fn requester_writes(server: &Server, id: &str, token: &str, text: &str) {
    must(
        server,
        "POST",
        &format!("/api/conversations/{id}/messages"),
        token,
        Some(json!({ "text": text })),
    )
    .await;
}

/// An API call that must succeed (tokens may be a guest's, which `Server::ok` does not take).
async fn must(
    server: &Server,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Value {
    let (status, answer) = http(server.port, method, path, token, body)
        .await
        .unwrap_or_else(|| panic!("{method} {path}: no answer"));
    assert!(
        (200..300).contains(&status),
        "{method} {path}: {status} {answer}"
    );
    answer
}

/// Gives the requester of chat `id` a contact with `name`.
async fn name_requester(server: &Server, id: &str, name: &str) {
    let chats = server.ok("GET", "/api/desk/chats", ADMIN, None).await;
    let requester = chats["chats"]
        .as_array()
        .unwrap()
        .iter()
        .find(|chat| chat["conversation_id"] == id)
        .and_then(|chat| chat["requester"].as_str())
        .expect("the chat is listed")
        .to_string();
    server
        .ok(
            "PUT",
            &format!("/api/desk/contacts/{requester}"),
            ADMIN,
            Some(json!({ "name": name })),
        )
        .await;
}

/// A second attendant of the web chat, online: their token.
async fn colleague(server: &Server, id: &str, name: &str) -> String {
    server
        .ok(
            "PUT",
            &format!("/api/desk/people/{id}"),
            ADMIN,
            Some(
                json!({ "name": name, "kind": "attendant", "groups": ["desk"],
                         "channels": ["web_chat"], "max_chats": 5 }),
            ),
        )
        .await;
    let issued = server
        .ok(
            "POST",
            "/api/admin/tokens",
            ADMIN,
            Some(json!({ "role": "attendant", "subject": id })),
        )
        .await;
    let token = issued["token"].as_str().unwrap().to_string();
    online(server, &token).await;
    token
}

async fn online(server: &Server, token: &str) {
    server
        .ok(
            "PUT",
            "/api/desk/presence",
            token,
            Some(json!({ "channel": "web_chat", "state": "online" })),
        )
        .await;
}

async fn capture(server: &Server, token: &str, id: &str) {
    server
        .ok(
            "POST",
            &format!("/api/desk/chats/{id}/capture"),
            token,
            None,
        )
        .await;
}

async fn sign_in(client: &Client, server: &Server) {
    client.goto(&server.url("/console")).await.unwrap();
    shown(client, "#signin-token")
        .await
        .send_keys(ATTENDANT)
        .await
        .unwrap();
    click(client, "#signin-submit").await;
    shown(client, "#console").await;
}

/// Replaces the page's `Notification` with one that records what it is asked (permission,
/// notifications) and counts the oscillators the tones start.
async fn record_alerts(client: &Client) {
    eval(
        client,
        "(() => {
           window.__asked = 0; window.__notes = []; window.__tones = 0;
           class Recorded {
             constructor(title, options) { window.__notes.push({ title, body: (options || {}).body || '' }); }
             static requestPermission() { window.__asked += 1; Recorded.permission = 'granted'; return Promise.resolve('granted'); }
           }
           Recorded.permission = 'default';
           window.Notification = Recorded;
           const start = AudioContext.prototype.createOscillator;
           AudioContext.prototype.createOscillator = function () { window.__tones += 1; return start.call(this); };
           return true;
         })()",
    )
    .await;
}

/// The chat ids of the list, top to bottom.
async fn listed(client: &Client) -> Vec<String> {
    let ids = eval(
        client,
        "Array.from(document.querySelectorAll('#chat-list li[data-chat-id]')).map(li => li.dataset.chatId)",
    )
    .await;
    serde_json::from_value(ids).unwrap()
}

/// Waits until the list shows exactly `ids` (in any order).
async fn list_is(client: &Client, what: &str, ids: &[&str]) {
    let mut wanted: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    wanted.sort();
    let script = format!(
        "JSON.stringify(Array.from(document.querySelectorAll('#chat-list li[data-chat-id]')).map(li => li.dataset.chatId).sort()) === '{}'",
        serde_json::to_string(&wanted).unwrap()
    );
    until(client, what, &script).await;
}

/// A card's text at `part` (`.chat-item-last`, `.avatar`, ...).
async fn card_text(client: &Client, id: &str, part: &str) -> String {
    eval(
        client,
        &format!(
            "document.querySelector('#chat-list li[data-chat-id=\"{id}\"] {part}').textContent"
        ),
    )
    .await
    .as_str()
    .unwrap()
    .to_string()
}

async fn open_chat_id(client: &Client) -> Value {
    eval(
        client,
        "(document.querySelector('#chat-list li.is-open') || { dataset: {} }).dataset.chatId || null",
    )
    .await
}

/// Presses `keys` together (the first ones held while the last goes down), as a person would.
async fn chord(client: &Client, keys: &[char]) {
    let mut actions = KeyActions::new("keyboard".to_string());
    for key in keys {
        actions = actions.then(KeyAction::Down { value: *key });
    }
    for key in keys.iter().rev() {
        actions = actions.then(KeyAction::Up { value: *key });
    }
    client.perform_actions(actions).await.unwrap();
}

/// A DevTools protocol command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct DevTools(Value);

impl fantoccini::wd::WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base: &reqwest::Url,
        session: Option<&str>,
    ) -> Result<reqwest::Url, <reqwest::Url as std::str::FromStr>::Err> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &reqwest::Url) -> (reqwest::Method, Option<String>) {
        (reqwest::Method::POST, Some(self.0.to_string()))
    }
}

/// The system's colour scheme as the page sees it (`prefers-color-scheme`).
async fn color_scheme(client: &Client, scheme: &str) {
    client
        .issue_cmd(DevTools(json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": { "features": [{ "name": "prefers-color-scheme", "value": scheme }] },
        })))
        .await
        .expect("chromedriver passes the DevTools command");
    let dark = scheme == "dark";
    until(
        client,
        "the page in the emulated scheme",
        &format!("matchMedia('(prefers-color-scheme: dark)').matches === {dark}"),
    )
    .await;
}

/// The page's background, e.g. `rgb(18, 22, 27)`.
async fn background(client: &Client) -> String {
    eval(client, "getComputedStyle(document.body).backgroundColor")
        .await
        .as_str()
        .unwrap()
        .to_string()
}

const DARK_BACKGROUND: &str = "rgb(18, 22, 27)";
const LIGHT_BACKGROUND: &str = "rgb(243, 245, 248)";

/// Waits until a recorded notification has `title` and a body containing `body`.
/// Opens the help overlay with its button and returns its text.
async fn open_help(client: &Client) -> String {
    click(client, "#help-button").await;
    until(
        client,
        "the help overlay",
        "document.querySelector('#dialog-help').open",
    )
    .await;
    shown(client, "#dialog-help").await.text().await.unwrap()
}

async fn notified(client: &Client, what: &str, title: &str, body: &str) {
    until(
        client,
        what,
        &format!(
            "window.__notes.some(n => n.title === {} && n.body.includes({}))",
            json!(title),
            json!(body)
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attendant_previews_filters_moves_by_keyboard_and_is_notified_in_english() {
    let Some((server, _driver, ana)) =
        with_ana("an_attendant_previews_...", 1280, 900, "en-US").await
    else {
        return;
    };
    let bruno = colleague(&server, "bruno", "Bruno Reis").await;
    let (waiting, waiting_token) = queued_chat(&server, "en", STILL_THERE).await;
    name_requester(&server, &waiting, "Maria Souza").await;
    let (brunos, _) = queued_chat(&server, "en", "I cannot print").await;
    name_requester(&server, &brunos, "João Lima").await;
    capture(&server, &bruno, &brunos).await;
    let (anas, _) = queued_chat(&server, "en", "My VPN drops every hour").await;
    name_requester(&server, &anas, "Carla Dias").await;
    online(&server, ATTENDANT).await;
    capture(&server, ATTENDANT, &anas).await;

    sign_in(&ana, &server).await;
    record_alerts(&ana).await;

    // Unassigned (the queue): Maria's card with her initials, what she wrote last and when.
    click(&ana, "#tab-unassigned").await;
    list_is(&ana, "the queue", &[&waiting]).await;
    assert_eq!(
        card_text(&ana, &waiting, ".chat-item-title").await,
        "Maria Souza"
    );
    assert_eq!(card_text(&ana, &waiting, ".avatar").await, "MS");
    assert_eq!(
        card_text(&ana, &waiting, ".chat-item-last").await,
        STILL_THERE
    );
    // Today's time, as the reader's locale writes it ("2:57 AM" in en-US), of a moment ago.
    let time = card_text(&ana, &waiting, ".chat-item-time").await;
    assert!(
        time.contains(':') && time.len() <= 8,
        "the card shows the time of the last message: {time:?}"
    );
    let age = eval(
        &ana,
        &format!(
            "Date.now() - Date.parse(document.querySelector('#chat-list li[data-chat-id=\"{waiting}\"] .chat-item-time').getAttribute('datetime'))"
        ),
    )
    .await
    .as_f64()
    .unwrap();
    assert!((0.0..120_000.0).contains(&age), "written {age} ms ago");
    let listed_by_api = server
        .ok("GET", "/api/desk/chats?state=queued", ATTENDANT, None)
        .await;
    assert_eq!(
        listed_by_api["chats"][0]["last_message"]["body"],
        STILL_THERE
    );
    assert_eq!(
        listed_by_api["chats"][0]["last_message"]["sender_kind"],
        "requester"
    );
    axe(&ana, "the console's queue with last messages").await;

    // The preview: the assistant's part and the requester's, read-only, Capture offered.
    click(&ana, &format!("#chat-list li[data-chat-id=\"{waiting}\"]")).await;
    shown(&ana, "#transcript .message.from-assistant").await;
    until(
        &ana,
        "the requester's last words in the preview",
        &format!(
            "Array.from(document.querySelectorAll('#transcript .message.from-requester')).some(m => m.textContent.includes({}))",
            json!(STILL_THERE)
        ),
    )
    .await;
    let note = shown(&ana, "#transcript-note.is-preview")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(note, "Preview, read only: capture the chat to reply.");
    shown(&ana, "#capture").await;
    assert_eq!(
        eval(&ana, "document.querySelector('#composer-form').hidden").await,
        json!(true),
        "nothing can be written in a preview"
    );
    let sender = eval(
        &ana,
        "document.querySelector('#transcript .message.from-requester .message-sender').textContent",
    )
    .await;
    assert_eq!(sender, "Maria Souza", "the requester is named, not an id");
    screenshot(&ana, "console-preview").await;
    axe(&ana, "the preview of a queued chat").await;

    // Mine: Carla's chat; All: every open chat, Bruno's named with his initials.
    click(&ana, "#tab-mine").await;
    list_is(&ana, "Ana's chats", &[&anas]).await;
    click(&ana, "#tab-all").await;
    list_is(&ana, "every open chat", &[&waiting, &brunos, &anas]).await;
    assert_eq!(
        card_text(&ana, &brunos, ".assignee .visually-hidden").await,
        "Assigned to Bruno Reis"
    );
    assert_eq!(card_text(&ana, &brunos, ".assignee .avatar").await, "BR");
    assert_eq!(card_text(&ana, &brunos, "> .avatar").await, "JL");
    assert_eq!(
        card_text(&ana, &brunos, ".chat-item-title").await,
        "João Lima"
    );
    // The attendant filter (the API's): Bruno's only, then Ana's only.
    shown(&ana, "#filter-attendant").await;
    ana.find(fantoccini::Locator::Css(
        "#filter-attendant option[value=\"bruno\"]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    list_is(&ana, "Bruno's chats", &[&brunos]).await;
    screenshot(&ana, "console-all-filtered").await;
    axe(&ana, "the All view filtered by attendant").await;
    ana.find(fantoccini::Locator::Css(
        "#filter-attendant option[value=\"ana\"]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    list_is(&ana, "Ana's chats in All", &[&anas]).await;
    click(&ana, "#tab-closed").await;
    list_is(&ana, "no closed chat of Ana's", &[]).await;
    ana.find(fantoccini::Locator::Css(
        "#filter-attendant option[value=\"\"]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    click(&ana, "#tab-all").await;
    list_is(&ana, "every open chat again", &[&waiting, &brunos, &anas]).await;

    // Shortcuts: Alt+Down and Alt+Up move through the list, Alt+C asks to close, ? lists them.
    let order = listed(&ana).await;
    click(
        &ana,
        &format!("#chat-list li[data-chat-id=\"{}\"]", order[0]),
    )
    .await;
    until(
        &ana,
        "the first chat open",
        &format!(
            "document.querySelector('#chat-list li.is-open[data-chat-id=\"{}\"]')",
            order[0]
        ),
    )
    .await;
    chord(&ana, &[Key::Alt.into(), Key::Down.into()]).await;
    until(
        &ana,
        "the second chat open",
        &format!(
            "document.querySelector('#chat-list li.is-open[data-chat-id=\"{}\"]')",
            order[1]
        ),
    )
    .await;
    chord(&ana, &[Key::Alt.into(), Key::Down.into()]).await;
    until(
        &ana,
        "the third chat open",
        &format!(
            "document.querySelector('#chat-list li.is-open[data-chat-id=\"{}\"]')",
            order[2]
        ),
    )
    .await;
    assert_eq!(
        open_chat_id(&ana).await,
        json!(anas),
        "the list ends with Ana's own chat"
    );
    chord(&ana, &[Key::Alt.into(), 'c']).await;
    until(
        &ana,
        "the close dialog",
        "document.querySelector('#dialog-close').open",
    )
    .await;
    chord(&ana, &[Key::Escape.into()]).await;
    until(
        &ana,
        "the close dialog gone",
        "!document.querySelector('#dialog-close').open",
    )
    .await;
    chord(&ana, &[Key::Alt.into(), Key::Up.into()]).await;
    until(
        &ana,
        "back to the second chat",
        &format!(
            "document.querySelector('#chat-list li.is-open[data-chat-id=\"{}\"]')",
            order[1]
        ),
    )
    .await;
    chord(&ana, &['?']).await;
    until(
        &ana,
        "the help overlay",
        "document.querySelector('#dialog-help').open",
    )
    .await;
    let help = shown(&ana, "#shortcut-list").await.text().await.unwrap();
    assert!(
        help.contains("Next chat in the list") && help.contains("Close the chat"),
        "{help}"
    );
    screenshot(&ana, "console-shortcuts").await;
    axe(&ana, "the shortcuts' help overlay").await;
    chord(&ana, &[Key::Escape.into()]).await;
    until(
        &ana,
        "the help overlay gone",
        "!document.querySelector('#dialog-help').open",
    )
    .await;
    chord(&ana, &['/']).await;
    until(
        &ana,
        "the search focused",
        "document.activeElement.id === 'search'",
    )
    .await;

    // Desktop notifications: turning them on asks the browser; a new chat and a new
    // message in a chat that is not open raise one each, with a tone.
    click(&ana, "#alert-desktop").await;
    until(&ana, "the permission asked", "window.__asked === 1").await;
    until(
        &ana,
        "the switch on",
        "document.querySelector('#alert-desktop').checked",
    )
    .await;
    queued_chat(&server, "en", "Nothing works since this morning").await;
    // Its body is the newcomer's last message at the moment the chat reached the queue.
    notified(
        &ana,
        "a notification of the new chat",
        "New chat in the queue",
        "",
    )
    .await;
    assert_ne!(open_chat_id(&ana).await, json!(waiting));
    requester_writes(&server, &waiting, &waiting_token, "Hello? Anyone?").await;
    notified(
        &ana,
        "a notification of Maria's message",
        "New message from Maria Souza",
        "Hello? Anyone?",
    )
    .await;
    let tones = eval(&ana, "window.__tones").await.as_u64().unwrap();
    assert!(tones >= 3, "a tone for each (two notes, then one): {tones}");
    until(
        &ana,
        "Maria's card with her new message",
        &format!("document.querySelector('#chat-list li[data-chat-id=\"{waiting}\"] .chat-item-last').textContent === 'Hello? Anyone?'"),
    )
    .await;

    // Dark, as the system asks: the list, an open chat of Ana's and a preview.
    color_scheme(&ana, "dark").await;
    assert_eq!(background(&ana).await, DARK_BACKGROUND);
    axe(&ana, "the All view in dark mode").await;
    click(&ana, &format!("#chat-list li[data-chat-id=\"{anas}\"]")).await;
    shown(&ana, "#composer").await;
    screenshot(&ana, "console-dark").await;
    axe(&ana, "Ana's chat in dark mode").await;
    click(&ana, &format!("#chat-list li[data-chat-id=\"{waiting}\"]")).await;
    shown(&ana, "#transcript-note.is-preview").await;
    axe(&ana, "a preview in dark mode").await;
    color_scheme(&ana, "light").await;
    assert_eq!(background(&ana).await, LIGHT_BACKGROUND);
    ana.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_in_portuguese_the_cards_the_preview_and_the_help_fit_and_read() {
    let Some((server, _driver, phone)) =
        with_ana("on_a_phone_in_portuguese_...", 390, 844, "pt-BR").await
    else {
        return;
    };
    // Ana online, so no "nobody is available" notice follows the requester's words.
    online(&server, ATTENDANT).await;
    let (id, _) = queued_chat(&server, "pt-BR", "meu crachá derreteu no micro-ondas").await;
    name_requester(&server, &id, "Maria da Silva").await;
    sign_in(&phone, &server).await;

    click(&phone, "#tab-unassigned").await;
    let label = shown(&phone, "#tab-unassigned").await.text().await.unwrap();
    assert!(label.starts_with("Sem responsável"), "{label}");
    list_is(&phone, "the queue", &[&id]).await;
    assert_eq!(card_text(&phone, &id, ".avatar").await, "MS");
    assert_eq!(
        card_text(&phone, &id, ".chat-item-last").await,
        "meu crachá derreteu no micro-ondas"
    );
    let fits = eval(
        &phone,
        "document.querySelector('#chat-list li').getBoundingClientRect().right <= window.innerWidth",
    )
    .await;
    assert_eq!(fits, json!(true), "the card fits the phone's width");
    screenshot(&phone, "console-phone-list").await;
    axe(&phone, "the queue on a phone, in Portuguese").await;

    click(&phone, &format!("#chat-list li[data-chat-id=\"{id}\"]")).await;
    shown(&phone, "#transcript .message.from-assistant").await;
    let note = shown(&phone, "#transcript-note.is-preview")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        note,
        "Prévia, somente leitura: capture o chat para responder."
    );
    let capture = shown(&phone, "#capture").await.text().await.unwrap();
    assert_eq!(capture, "Capturar");
    screenshot(&phone, "console-phone-preview").await;
    axe(&phone, "the preview on a phone").await;

    color_scheme(&phone, "dark").await;
    assert_eq!(background(&phone).await, DARK_BACKGROUND);
    screenshot(&phone, "console-phone-preview-dark").await;
    axe(&phone, "the preview on a phone in dark mode").await;
    click(&phone, "#back").await;
    shown(&phone, "#chat-list").await;
    axe(&phone, "the queue on a phone in dark mode").await;
    let help = open_help(&phone).await;
    assert!(
        help.contains("Atalhos de teclado") && help.contains("Próximo chat da lista"),
        "{help}"
    );
    screenshot(&phone, "console-phone-help-dark").await;
    axe(&phone, "the help overlay on a phone in dark mode").await;
    phone.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_spanish_the_views_the_notifications_and_the_help_speak_usted() {
    let Some(path) = driver_or_skip("in_spanish_the_views_...") else {
        return;
    };
    let server = Server::start().await;
    server.desk_with_ana().await;
    online(&server, ATTENDANT).await;
    let (first, _) = queued_chat(&server, "es", "mi impresora no imprime").await;
    name_requester(&server, &first, "Lucía Gómez").await;
    let driver = Driver::start(&path).await;
    let ana = driver.browser(1280, 900, "es-ES").await;
    sign_in(&ana, &server).await;
    record_alerts(&ana).await;

    let views = eval(
        &ana,
        "Array.from(document.querySelectorAll('#views [role=tab] [data-i18n]')).map(e => e.textContent)",
    )
    .await;
    assert_eq!(views, json!(["Míos", "Sin asignar", "Todos", "Cerrados"]));
    click(&ana, "#tab-unassigned").await;
    list_is(&ana, "the queue", &[&first]).await;
    assert_eq!(card_text(&ana, &first, ".avatar").await, "LG");

    click(&ana, "#alert-desktop").await;
    until(&ana, "the permission asked", "window.__asked === 1").await;
    queued_chat(&server, "es", "no tengo acceso al correo").await;
    notified(
        &ana,
        "the notification in Spanish",
        "Nuevo chat en la cola",
        "",
    )
    .await;

    color_scheme(&ana, "dark").await;
    let help = open_help(&ana).await;
    assert!(
        help.contains("Atajos de teclado") && help.contains("Cerrar el chat (pide el motivo)"),
        "{help}"
    );
    screenshot(&ana, "console-es-help-dark").await;
    axe(&ana, "the help overlay in Spanish, dark").await;
    chord(&ana, &[Key::Escape.into()]).await;
    click(&ana, &format!("#chat-list li[data-chat-id=\"{first}\"]")).await;
    let note = shown(&ana, "#transcript-note.is-preview")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        note,
        "Vista previa, solo lectura: tome el chat para responder."
    );
    screenshot(&ana, "console-es-preview-dark").await;
    axe(&ana, "a preview in Spanish, dark").await;
    ana.close().await.unwrap();
}

/// In-process, without a browser: the list gives each chat its last message (one line, cut
/// with an ellipsis), and a queued chat's transcript is open to who could capture it.
#[tokio::test]
async fn the_list_carries_last_messages_and_a_queued_chat_is_previewed_by_who_could_take_it() {
    let desk = Desk::new().await;
    desk.configure("queue").await;
    let ana = desk.attendant("ana", "Ana", 5).await;
    let bia = desk.attendant("bia", "Bia", 5).await;
    desk.ok(
        Method::PUT,
        "/api/desk/people/zed",
        &desk.admin,
        Some(
            json!({ "name": "Zed", "kind": "attendant", "groups": ["desk"],
                     "channels": ["whatsapp"], "max_chats": 5 }),
        ),
    )
    .await;
    let zed = desk.token(Role::Attendant, "zed");
    // Ana online, so no "nobody is available" notice follows the requester's words.
    desk.online(&ana).await;
    let (requester, id) = desk.queued_requester("maria").await;
    let long = format!("first line\n\n{}", "é".repeat(300));
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        &requester,
        Some(json!({ "text": long })),
    )
    .await;

    let chats = desk.chats(&ana, "").await;
    let last = &chats[0]["last_message"];
    assert_eq!(last["sender_kind"], "requester", "{last}");
    let body = last["body"].as_str().unwrap();
    assert!(body.starts_with("first line é"), "one line: {body}");
    assert!(
        body.ends_with('…') && body.chars().count() <= 141,
        "cut: {body}"
    );
    assert!(last["created_at"].as_i64().unwrap() > 0);

    // Before capture: Ana and Bia (web chat) may read it, the assistant's part included;
    // Zed (WhatsApp only) may not.
    let path = format!("/api/desk/chats/{id}/messages");
    let preview = desk.ok(Method::GET, &path, &bia, None).await;
    let kinds: Vec<&str> = preview["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["sender_kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"assistant") && kinds.contains(&"requester"),
        "{kinds:?}"
    );
    let (status, _) = desk.call(Method::GET, &path, &zed, None).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "who cannot take the chat cannot preview it"
    );

    // Captured by Ana: it is hers, no longer a preview for Bia.
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    desk.ok(Method::GET, &path, &ana, None).await;
    let (status, _) = desk.call(Method::GET, &path, &bia, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // An action's answer carries the last message too.
    let tagged = desk
        .ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/tags"),
            &ana,
            Some(json!({ "tag": "vip" })),
        )
        .await;
    assert_eq!(
        tagged["last_message"]["body"], "Ana joined the chat.",
        "{tagged}"
    );
}

/// GETs `uri` from the app: the status, the content type and the body as text.
async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String, String) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let request = axum::http::Request::builder()
        .uri(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_string())
        .unwrap_or_default();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// The console is ES modules with no build step: every module `console.js` reaches through its
/// imports is served as JavaScript (a browser runs no module of another type) and preloaded by
/// the page, which preloads nothing else.
#[tokio::test]
async fn every_console_module_is_served_as_javascript_and_preloaded() {
    let desk = Desk::new().await;
    let (status, _, page) = get(&desk.app, "/console").await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r#"<script type="module" src="/assets/console.js"></script>"#));
    let mut reached = std::collections::BTreeSet::new();
    let mut to_read = vec!["console.js".to_string()];
    while let Some(name) = to_read.pop() {
        if !reached.insert(name.clone()) {
            continue;
        }
        let (status, content_type, source) = get(&desk.app, &format!("/assets/{name}")).await;
        assert_eq!(status, StatusCode::OK, "{name}");
        assert_eq!(content_type, "text/javascript; charset=utf-8", "{name}");
        // The console's own modules, or a module every staff page shares.
        assert!(
            source.starts_with("// Ponte — attendants' console: ")
                || (name.starts_with("staff-") && source.starts_with("// Ponte's staff pages: ")),
            "{name} opens with what it owns"
        );
        for imported in source.split(" from \"./").skip(1) {
            to_read.push(imported.split('"').next().unwrap().to_string());
        }
    }
    assert!(reached.len() >= 10, "{reached:?}");
    for name in reached.iter().filter(|name| *name != "console.js") {
        assert!(
            page.contains(&format!(
                r#"<link rel="modulepreload" href="/assets/{name}">"#
            )),
            "{name} is not preloaded"
        );
    }
    assert_eq!(
        page.matches(r#"rel="modulepreload""#).count(),
        reached.len() - 1,
        "a preloaded file no module imports"
    );
}

/// Posts the guest's typing until the console shows it (the chat's feed may still be opening
/// when the first one goes out; each event shows for a few seconds only).
async fn requester_types_until_shown(server: &Server, client: &Client, id: &str, token: &str) {
    let typing = format!("/api/conversations/{id}/typing");
    for _ in 0..40 {
        must(server, "POST", &typing, token, None).await;
        let line = eval(
            client,
            "(() => { const p = document.querySelector('#typing'); return p && !p.hidden ? p.textContent : ''; })()",
        )
        .await;
        if line.as_str().is_some_and(|text| !text.is_empty()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("the console never showed the requester typing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_portuguese_ana_sees_the_requester_type_and_read_and_the_configured_close_label() {
    let Some((server, _driver, ana)) = with_ana(
        "in_portuguese_ana_sees_the_requester_type_...",
        1280,
        900,
        "pt-BR",
    )
    .await
    else {
        return;
    };
    // The admin names the first close reason for the desk, in Portuguese.
    let mut config = server.ok("GET", "/api/desk/config", ADMIN, None).await;
    let reason = config["close_reasons"][0].as_str().unwrap().to_string();
    const LABEL: &str = "Problema resolvido pela equipe";
    let mut labels = serde_json::Map::new();
    labels.insert(reason.clone(), json!({ "pt-BR": LABEL }));
    config["reason_labels"] = Value::Object(labels);
    let body = json!({
        "routing": config["routing"], "pause_reasons": config["pause_reasons"],
        "close_reasons": config["close_reasons"], "queues": config["queues"],
        "reason_labels": config["reason_labels"],
    });
    server
        .ok("PUT", "/api/desk/config", ADMIN, Some(body))
        .await;

    online(&server, ATTENDANT).await;
    let (id, guest) = queued_chat(&server, "pt-BR", "meu crachá derreteu de novo").await;
    capture(&server, ATTENDANT, &id).await;
    sign_in(&ana, &server).await;
    click(&ana, "#tab-mine").await;
    click(&ana, &format!("#chat-list li[data-chat-id=\"{id}\"]")).await;
    shown(&ana, "#composer").await;
    shown(&ana, "#transcript .message.from-requester").await;

    // The requester types: Ana sees it under the transcript.
    requester_types_until_shown(&server, &ana, &id, &guest).await;
    let line = shown(&ana, "#typing").await.text().await.unwrap();
    assert!(
        line.starts_with("Visitante ") && line.ends_with(" está digitando…"),
        "{line}"
    );
    screenshot(&ana, "console-requester-typing").await;
    axe(&ana, "the requester typing, in Portuguese").await;

    // Ana answers: delivered (✓) until the requester reads it, then read (✓✓, "Lida").
    type_and_enter(&ana, "#composer", "Vou verificar o seu crachá agora").await;
    until(
        &ana,
        "Ana's message marked delivered",
        "(document.querySelector('#transcript .message.is-mine .message-mark') || {}).textContent === '✓Entregue'",
    )
    .await;
    let seq = eval(
        &ana,
        "Number(document.querySelector('#transcript .message.is-mine').dataset.seq)",
    )
    .await;
    must(
        &server,
        "POST",
        &format!("/api/conversations/{id}/read"),
        &guest,
        Some(json!({ "seq": seq })),
    )
    .await;
    until(
        &ana,
        "Ana's message marked read",
        "(document.querySelector('#transcript .message.is-mine .message-mark.is-read') || {}).textContent === '✓✓Lida'",
    )
    .await;
    // The console marked the chat read too: the requester's side sees the desk has read it.
    let read = format!("/api/conversations/{id}/read");
    let mut marks = Value::Null;
    for _ in 0..40 {
        marks = must(&server, "GET", &read, &guest, None).await;
        if marks["attendant_seq"].as_i64() >= seq.as_i64() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(
        marks["attendant_seq"].as_i64() >= seq.as_i64(),
        "the console never marked the chat read: {marks}"
    );
    let page_fits = eval(
        &ana,
        "document.documentElement.scrollHeight <= window.innerHeight",
    )
    .await;
    assert_eq!(
        page_fits,
        json!(true),
        "the marks keep the page from scrolling"
    );
    screenshot(&ana, "console-message-read").await;
    axe(&ana, "Ana's message read by the requester").await;

    // Closing offers the configured label for the reason.
    click(&ana, "#close").await;
    until(
        &ana,
        "the close dialog",
        "document.querySelector('#dialog-close').open",
    )
    .await;
    let option = eval(
        &ana,
        &format!("document.querySelector('#close-reason option[value=\"{reason}\"]').textContent"),
    )
    .await;
    assert_eq!(option, json!(LABEL));
    screenshot(&ana, "console-close-configured-label").await;
    axe(&ana, "the close dialog with a configured reason label").await;
    ana.close().await.unwrap();
}
