//! The staff pages speak the reader's language about what the server says: an API error is
//! told from its stable code (never the server's English message), pause and close reasons
//! show with their labels rather than as configuration keys, and the unread marker on an
//! attendance is a blue dot while the chat icon's alert stays red. In Portuguese.

use super::harness::{
    ATTENDANT, Driver, KNOWLEDGE_MANAGER, Server, click, driver_or_skip, eval, screenshot, shown,
    until,
};
use crate::durability::http;
use fantoccini::Client;
use serde_json::{Value, json};

/// A guest requester whose chat waits in the queue: (conversation id, guest token).
async fn queued_chat(server: &Server, text: &str) -> (String, String) {
    let (status, session) = http(server.port, "POST", "/api/widget/session", "", None)
        .await
        .expect("an answer");
    assert!((200..300).contains(&status), "{session}");
    let token = session["token"]
        .as_str()
        .expect("a guest token")
        .to_string();
    let (status, opened) = http(
        server.port,
        "POST",
        "/api/conversations",
        &token,
        Some(json!({ "language": "pt-BR", "channel": "web" })),
    )
    .await
    .expect("an answer");
    assert!((200..300).contains(&status), "{opened}");
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/conversations/{id}/messages");
    let (status, said) = http(
        server.port,
        "POST",
        &path,
        &token,
        Some(json!({ "text": text })),
    )
    .await
    .expect("an answer");
    assert!((200..300).contains(&status), "{said}");
    let path = format!("/api/conversations/{id}/options");
    let (status, chosen) = http(
        server.port,
        "POST",
        &path,
        &token,
        Some(json!({ "option_id": "talk_to_attendant" })),
    )
    .await
    .expect("an answer");
    assert!((200..300).contains(&status), "{chosen}");
    (id, token)
}

/// The texts of the options of the `select` elements matching `css`.
async fn options_of(client: &Client, css: &str) -> Vec<String> {
    let found = eval(
        client,
        &format!("Array.from(document.querySelectorAll('{css} option')).map(o => o.textContent)"),
    )
    .await;
    serde_json::from_value(found).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_and_the_knowledge_page_tell_errors_and_reasons_in_portuguese() {
    let Some(path) = driver_or_skip("the_console_and_the_knowledge_page_...") else {
        return;
    };
    let server = Server::start().await;
    server.desk_with_ana().await;
    let (first, _) = queued_chat(&server, "meu crachá derreteu no micro-ondas").await;
    let driver = Driver::start(&path).await;
    let ana = driver.browser(1280, 900, "pt-BR").await;
    ana.goto(&server.url("/console")).await.unwrap();
    shown(&ana, "#signin-token")
        .await
        .send_keys(ATTENDANT)
        .await
        .unwrap();
    click(&ana, "#signin-submit").await;
    shown(&ana, "#console").await;

    // Capturing while offline: the server refuses with `not_online`; Ana reads why in
    // Portuguese, not "not online on web_chat".
    click(&ana, "#tab-unassigned").await;
    click(&ana, &format!("#chat-list li[data-chat-id=\"{first}\"]")).await;
    click(&ana, "#capture").await;
    until(
        &ana,
        "the refusal",
        "document.querySelector('#status-line').textContent.length > 0",
    )
    .await;
    let refusal = eval(&ana, "document.querySelector('#status-line').textContent").await;
    assert_eq!(
        refusal,
        "Fique online neste canal antes de assumir ou atender conversas."
    );

    // Online, the chat taken: the close reasons by their labels.
    let presence = shown(&ana, "input[data-presence-channel=\"web_chat\"]").await;
    if !presence.is_selected().await.unwrap() {
        presence.click().await.unwrap();
    }
    until(
        &ana,
        "Ana online",
        "document.querySelector('input[data-presence-channel=\"web_chat\"]').checked",
    )
    .await;
    // Online: the pause reasons by their Portuguese labels, not `break` and `lunch`.
    click(&ana, "#presence-pause-web_chat").await;
    until(
        &ana,
        "the pause reasons",
        "document.querySelectorAll('select.pause-reason option').length > 1",
    )
    .await;
    let pauses = options_of(&ana, "select.pause-reason").await;
    assert!(pauses.contains(&"Intervalo".to_string()), "{pauses:?}");
    assert!(pauses.contains(&"Almoço".to_string()), "{pauses:?}");
    assert!(
        !pauses.iter().any(|p| p == "break" || p == "lunch"),
        "{pauses:?}"
    );

    click(&ana, "#presence-pause-web_chat").await;
    click(&ana, "#capture").await;
    click(&ana, "#close").await;
    shown(&ana, "#close-reason").await;
    let closes = options_of(&ana, "#close-reason").await;
    assert!(closes.contains(&"Resolvido".to_string()), "{closes:?}");
    assert!(
        closes.contains(&"Sem resposta do solicitante".to_string()),
        "{closes:?}"
    );
    assert!(!closes.iter().any(|c| c.contains('_')), "{closes:?}");
    // Shown open for the screenshot.
    eval(
        &ana,
        "(document.querySelector('#close-reason').size = 3, true)",
    )
    .await;
    screenshot(&ana, "console-close-reasons").await;
    eval(
        &ana,
        "(document.querySelector('#dialog-close').close(), true)",
    )
    .await;

    // A second chat, taken for Ana while she reads the first: its requester writes, and
    // its card gets the blue unread dot; the chat icon's alert stays red.
    let (second, second_token) =
        queued_chat(&server, "meu crachá derreteu no micro-ondas de novo").await;
    server
        .ok(
            "POST",
            &format!("/api/desk/chats/{second}/capture"),
            ATTENDANT,
            None,
        )
        .await;
    let path = format!("/api/conversations/{second}/messages");
    let (status, said) = http(
        server.port,
        "POST",
        &path,
        &second_token,
        Some(json!({ "text": "alguém aí?" })),
    )
    .await
    .expect("an answer");
    assert!((200..300).contains(&status), "{said}");
    click(&ana, "#tab-mine").await;
    let dot = format!("#chat-list li[data-chat-id=\"{second}\"] .unread-dot");
    shown(&ana, &dot).await;
    let colours = eval(
        &ana,
        &format!(
            "[getComputedStyle(document.querySelector('{dot}')).backgroundColor,
              getComputedStyle(document.querySelector('{dot}')).borderRadius,
              getComputedStyle(document.querySelector('.alert-badge')).backgroundColor]"
        ),
    )
    .await;
    assert_eq!(
        colours,
        json!(["rgb(26, 115, 232)", "50%", "rgb(217, 48, 37)"]),
        "unread dot, its shape, the chat icon's alert"
    );
    screenshot(&ana, "console-unread").await;
    ana.close().await.unwrap();

    // The knowledge page: a blank title is refused by the server (`invalid_document`,
    // "missing title: ..."); the manager reads which field, in Portuguese.
    let manager = driver.browser(1280, 900, "pt-BR").await;
    manager.goto(&server.url("/knowledge")).await.unwrap();
    shown(&manager, "#signin-token")
        .await
        .send_keys(KNOWLEDGE_MANAGER)
        .await
        .unwrap();
    click(&manager, "#signin-submit").await;
    shown(&manager, "#knowledge").await;
    let articles = server
        .ok("GET", "/api/knowledge/articles", KNOWLEDGE_MANAGER, None)
        .await;
    let id = articles["articles"][0]["id"].as_str().unwrap().to_string();
    click(&manager, &format!("#kb-list [data-id=\"{id}\"]")).await;
    let title = shown(&manager, "#kb-field-title").await;
    title.clear().await.unwrap();
    title.send_keys("   ").await.unwrap();
    click(&manager, "#kb-save").await;
    until(
        &manager,
        "the refusal",
        "document.querySelector('#kb-message').textContent.trim().length > 0",
    )
    .await;
    let message = eval(
        &manager,
        "document.querySelector('#kb-message').textContent",
    )
    .await;
    assert_eq!(
        message,
        Value::String("Revise o campo «Título»: está vazio ou inválido.".to_string())
    );
    let marked = eval(
        &manager,
        "document.querySelector('#kb-field-title').getAttribute('aria-invalid')",
    )
    .await;
    assert_eq!(marked, "true");
    eval(
        &manager,
        "(document.querySelector('#kb-message').scrollIntoView({ block: 'center' }), true)",
    )
    .await;
    screenshot(&manager, "knowledge-error").await;
    manager.close().await.unwrap();
}
