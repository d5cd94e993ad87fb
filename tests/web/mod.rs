//! The web pages end to end, in headless Chromium against the real `ponte serve`: a
//! requester on the demo portal asks, opens and closes an article, falls back and is handed
//! to an attendant, who signs in on the console, captures the chat and replies; the reply and
//! the filled status dot reach the requester; markup in a message shows as text on both
//! sides; the widget reconnects across a server restart without losing or repeating a
//! message; the knowledge page edits an article and shows a reindex's per-file errors; an
//! external desk's agent reaches the widget through a bridge, and the bridges page
//! (`bridges.rs`) watches, disables and replays. `widget.rs` follows the widget's header,
//! an attendant's files, reading an article in the chat, Spanish and the portal on a phone,
//! with axe-core on every widget and portal state; `upload.rs` the requester's files (button,
//! paste, drop, progress, refusals); `localized.rs` the staff pages' errors,
//! reasons and unread dot in Portuguese; `rating.rs` the requester's rating once the chat
//! has ended; `marks.rs` typing both ways, delivered and read marks, the guest's pre-chat
//! form and the transcript download; `reports.rs` the desk reports page (charts, tables,
//! drill-down, CSV) and the knowledge-gaps page (rank, dismiss, restore, examples, draft);
//! `console.rs` the attendants' console's views, previews, shortcuts, notifications and dark
//! theme; `admin.rs` the administrators' page (people, projects, quick replies, macros,
//! routing, the reasons and their labels in three languages, the chat parameters, tokens) in
//! Portuguese on a desktop and in Spanish on a phone; `signin.rs` the staff's sign-in with a
//! user name and password. Every page is saved as a screenshot among the test artifacts.

mod admin;
mod bridges;
mod console;
mod harness;
mod localized;
mod marks;
mod rating;
mod reports;
mod serving;
mod signin;
mod upload;
mod widget;

use fantoccini::{Client, Locator};
use harness::{
    ATTENDANT, Driver, KNOWLEDGE_MANAGER, Server, click, driver_or_skip, eval, screenshot, shown,
    type_and_enter, until, with_ana,
};
use serde_json::{Value, json};

/// The requester's messages and the attendant's, as the widget shows them.
async fn texts_from(client: &Client, kind: &str) -> Vec<String> {
    let found = eval(
        client,
        &format!(
            "Array.from(document.querySelectorAll('#ponte-log .ponte-from-{kind} .ponte-text')).map(e => e.textContent)"
        ),
    )
    .await;
    serde_json::from_value(found).unwrap()
}

/// Ana writes `text` in the chat through the API.
async fn attendant_writes(server: &Server, conversation: &str, text: &str) {
    server
        .ok(
            "POST",
            &format!("/api/desk/chats/{conversation}/messages"),
            ATTENDANT,
            Some(json!({ "text": text })),
        )
        .await;
}

/// Opens the widget on the demo portal and waits for the greeting.
async fn open_widget(client: &Client, server: &Server) {
    client.goto(&server.url("/")).await.unwrap();
    click(client, "#ponte-talk").await;
    shown(client, "#ponte-log .ponte-from-assistant").await;
}

/// Asks something the assistant cannot help with and takes its offer of a person.
async fn fall_back_to_a_person(client: &Client) {
    type_and_enter(client, "#ponte-input", "tell me a joke about penguins").await;
    click(
        client,
        "#ponte-log .ponte-option[data-option=\"talk_to_attendant\"]:not(:disabled)",
    )
    .await;
    shown(client, "#ponte-queue").await;
}

/// Waits until the widget shows the test's 160-pixel PNG, loaded, in the message matching
/// `message` (a CSS selector inside the log, e.g. `.ponte-from-attendant`).
async fn image_shown(client: &fantoccini::Client, what: &str, message: &str) {
    let script = format!(
        "(() => {{ const img = document.querySelector('#ponte-log {message} img.ponte-attachment-image');
                  return img && !img.hidden && img.complete && img.naturalWidth === 160; }})()"
    );
    until(client, what, &script).await;
}

/// Ana goes online on the web chat and captures `conversation`.
async fn ana_captures(server: &Server, conversation: &str) {
    server
        .ok(
            "PUT",
            "/api/desk/presence",
            ATTENDANT,
            Some(json!({ "channel": "web_chat", "state": "online" })),
        )
        .await;
    server
        .ok(
            "POST",
            &format!("/api/desk/chats/{conversation}/capture"),
            ATTENDANT,
            None,
        )
        .await;
}

/// The conversation the widget is in, from its storage.
async fn widget_conversation(client: &Client) -> String {
    eval(
        client,
        "JSON.parse(localStorage.getItem('ponte.widget.' + location.origin)).conversation",
    )
    .await
    .as_str()
    .expect("the widget keeps its conversation id")
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_is_helped_by_an_article_then_served_by_an_attendant_on_the_console() {
    let Some((server, driver, requester)) =
        with_ana("a_requester_is_helped_...", 1280, 900, "en-US").await
    else {
        return;
    };

    // The portal: the Talk button at the bottom corner, the assistant entry at the top.
    requester.goto(&server.url("/")).await.unwrap();
    shown(&requester, "#ponte-talk").await;
    shown(&requester, "#portal-assistant").await;
    screenshot(&requester, "portal").await;
    click(&requester, "#portal-assistant").await;
    shown(&requester, "#ponte-panel").await;
    shown(&requester, "#ponte-log .ponte-from-assistant").await;
    let title = shown(&requester, "#ponte-title")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(title, "Virtual assistant");
    assert!(
        eval(
            &requester,
            "document.querySelector('#ponte-status').classList.contains('ponte-dot-assistant')"
        )
        .await
        .as_bool()
        .unwrap()
    );

    // A question with an answer in the knowledge base: pick the article, read it in place.
    type_and_enter(&requester, "#ponte-input", "Reset a forgotten password").await;
    until(
        &requester,
        "an article offered or shown",
        "document.querySelector('#ponte-log .ponte-option[data-option^=\"article:\"]:not(:disabled), #ponte-log .ponte-article')",
    )
    .await;
    if requester
        .find(Locator::Css("#ponte-log .ponte-article"))
        .await
        .is_err()
    {
        click(
            &requester,
            "#ponte-log .ponte-option[data-option^=\"article:\"]:not(:disabled)",
        )
        .await;
    }
    let summary = shown(
        &requester,
        "#ponte-log .ponte-article .ponte-article-summary",
    )
    .await;
    assert!(!summary.text().await.unwrap().trim().is_empty());
    // The description collapses and expands in place.
    click(&requester, "#ponte-log .ponte-article .ponte-article-title").await;
    until(
        &requester,
        "the description hidden",
        "document.querySelector('#ponte-log .ponte-article .ponte-article-summary').hidden",
    )
    .await;
    click(&requester, "#ponte-log .ponte-article .ponte-article-title").await;
    shown(
        &requester,
        "#ponte-log .ponte-article .ponte-article-summary",
    )
    .await;
    screenshot(&requester, "widget-article").await;
    click(&requester, "#ponte-log .ponte-article .ponte-article-close").await;
    shown(&requester, "#ponte-log .ponte-article.ponte-article-closed").await;

    // None of the articles helped: the fallback offers a person, and the chat is queued.
    click(
        &requester,
        "#ponte-log .ponte-option[data-option=\"none_of_these\"]:not(:disabled)",
    )
    .await;
    click(
        &requester,
        "#ponte-log .ponte-option[data-option=\"talk_to_attendant\"]:not(:disabled)",
    )
    .await;
    let ticket = shown(&requester, "#ponte-ticket")
        .await
        .text()
        .await
        .unwrap();
    assert!(ticket.starts_with("Ticket "), "{ticket}");
    let queue = shown(&requester, "#ponte-queue")
        .await
        .text()
        .await
        .unwrap();
    assert!(queue.contains("number 1"), "{queue}");
    let conversation = widget_conversation(&requester).await;

    // The attendant signs in on the console, goes online, captures the chat and replies.
    let attendant = driver.browser(1280, 900, "en-US").await;
    attendant.goto(&server.url("/console")).await.unwrap();
    shown(&attendant, "#signin-token")
        .await
        .send_keys(ATTENDANT)
        .await
        .unwrap();
    click(&attendant, "#signin-submit").await;
    shown(&attendant, "#console").await;
    let presence = shown(&attendant, "input[data-presence-channel=\"web_chat\"]").await;
    if !presence.is_selected().await.unwrap() {
        presence.click().await.unwrap();
    }
    until(
        &attendant,
        "Ana online",
        "document.querySelector('input[data-presence-channel=\"web_chat\"]').checked",
    )
    .await;
    click(&attendant, "#tab-unassigned").await;
    click(
        &attendant,
        &format!("#chat-list li[data-chat-id=\"{conversation}\"]"),
    )
    .await;
    click(&attendant, "#capture").await;
    type_and_enter(&attendant, "#composer", "Hello, I am Ana. How can I help?").await;
    until(
        &attendant,
        "the reply in the console's transcript",
        "Array.from(document.querySelectorAll('#transcript .message')).some(m => m.textContent.includes('I am Ana'))",
    )
    .await;

    // The requester sees the reply and the filled dot.
    until(
        &requester,
        "the attendant's reply in the widget",
        "Array.from(document.querySelectorAll('#ponte-log .ponte-from-attendant')).some(m => m.textContent.includes('I am Ana'))",
    )
    .await;
    until(
        &requester,
        "the online dot",
        "document.querySelector('#ponte-status').classList.contains('ponte-dot-online')",
    )
    .await;

    // Markup typed by the requester is text on both sides and never runs.
    let hostile = "<script>window.__pwned = 1</script><img src=x onerror=\"window.__pwned = 2\">";
    type_and_enter(&requester, "#ponte-input", hostile).await;
    until(
        &requester,
        "the hostile message acknowledged",
        "Array.from(document.querySelectorAll('#ponte-log .ponte-from-requester:not(.ponte-pending)')).some(m => m.textContent.includes('<script>'))",
    )
    .await;
    until(
        &attendant,
        "the hostile message in the console",
        "Array.from(document.querySelectorAll('#transcript .message')).some(m => m.textContent.includes('<script>window.__pwned'))",
    )
    .await;
    for (client, log) in [(&requester, "#ponte-log"), (&attendant, "#transcript")] {
        let ran = eval(
            client,
            &format!(
                "window.__pwned !== undefined || document.querySelectorAll('{log} img, {log} script').length > 0"
            ),
        )
        .await;
        assert_eq!(ran, Value::Bool(false), "markup ran or was parsed in {log}");
    }
    screenshot(&requester, "widget-served").await;
    screenshot(&attendant, "console").await;

    // On a phone-sized screen the open chat takes the whole screen; a Portuguese browser
    // gets the widget and the assistant in Portuguese.
    let phone = driver.browser(390, 844, "pt-BR").await;
    phone.goto(&server.url("/")).await.unwrap();
    let talk = shown(&phone, "#ponte-talk").await.text().await.unwrap();
    assert!(talk.contains("Conversar"), "{talk}");
    click(&phone, "#ponte-talk").await;
    until(
        &phone,
        "the greeting in Portuguese",
        "document.querySelector('#ponte-log').textContent.includes('assistente virtual')",
    )
    .await;
    let width = eval(
        &phone,
        "document.querySelector('#ponte-panel').getBoundingClientRect().width",
    )
    .await;
    let viewport = eval(&phone, "window.innerWidth").await;
    assert_eq!(width.as_f64(), viewport.as_f64());
    screenshot(&phone, "widget-phone").await;

    for client in [requester, attendant, phone] {
        client.close().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_resumes_after_a_server_restart_without_losing_or_repeating_a_message() {
    let Some((mut server, _driver, requester)) =
        with_ana("the_widget_resumes_...", 1280, 900, "en-US").await
    else {
        return;
    };
    open_widget(&requester, &server).await;
    fall_back_to_a_person(&requester).await;
    let conversation = widget_conversation(&requester).await;
    ana_captures(&server, &conversation).await;
    attendant_writes(&server, &conversation, "first").await;
    until(
        &requester,
        "the first reply",
        "document.querySelector('#ponte-log').textContent.includes('first')",
    )
    .await;

    server.restart().await;
    attendant_writes(&server, &conversation, "second").await;
    attendant_writes(&server, &conversation, "third").await;
    until(
        &requester,
        "the replies written while the widget was away",
        "document.querySelector('#ponte-log').textContent.includes('third')",
    )
    .await;
    assert_eq!(
        texts_from(&requester, "attendant").await,
        ["first", "second", "third"]
    );
    let seqs = eval(
        &requester,
        "Array.from(document.querySelectorAll('#ponte-log [data-seq]')).map(e => Number(e.dataset.seq)).filter(s => s > 0)",
    )
    .await;
    let seqs: Vec<i64> = serde_json::from_value(seqs).unwrap();
    // Strictly increasing: none shown twice, none out of order.
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "{seqs:?}");

    // A reload shows the same conversation once more, each message once.
    requester.refresh().await.unwrap();
    click(&requester, "#ponte-talk").await;
    until(
        &requester,
        "the history after a reload",
        "document.querySelector('#ponte-log').textContent.includes('third')",
    )
    .await;
    assert_eq!(
        texts_from(&requester, "attendant").await,
        ["first", "second", "third"]
    );
    requester.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_knowledge_page_edits_an_article_and_shows_a_reindex_with_its_per_file_errors() {
    let Some(path) = driver_or_skip("the_knowledge_page_...") else {
        return;
    };
    let server = Server::start().await;
    let driver = Driver::start(&path).await;
    let manager = driver.browser(1280, 900, "en-US").await;
    manager.goto(&server.url("/knowledge")).await.unwrap();

    // A wrong token is refused with a message; the right one signs in.
    shown(&manager, "#signin-token")
        .await
        .send_keys("not-a-token")
        .await
        .unwrap();
    click(&manager, "#signin-submit").await;
    until(
        &manager,
        "the refusal",
        "document.querySelector('#signin').textContent.length > 0 && !document.querySelector('#signin').hidden",
    )
    .await;
    let field = shown(&manager, "#signin-token").await;
    field.clear().await.unwrap();
    field.send_keys(KNOWLEDGE_MANAGER).await.unwrap();
    click(&manager, "#signin-submit").await;
    shown(&manager, "#knowledge").await;

    // The list holds the bundled articles; open one, retitle it, save.
    let articles = server
        .ok("GET", "/api/knowledge/articles", KNOWLEDGE_MANAGER, None)
        .await;
    let first = articles["articles"][0]["id"]
        .as_str()
        .expect("an article id")
        .to_string();
    let row = format!("#kb-list [data-id=\"{first}\"]");
    click(&manager, &row).await;
    let title = shown(&manager, "#kb-field-title").await;
    title.clear().await.unwrap();
    title
        .send_keys("Retitled <b>by</b> the knowledge page")
        .await
        .unwrap();
    click(&manager, "#kb-save").await;
    until(
        &manager,
        "the save confirmed",
        "document.querySelector('#kb-message').textContent.trim().length > 0",
    )
    .await;
    let stored = server
        .ok(
            "GET",
            &format!("/api/knowledge/articles/{first}"),
            KNOWLEDGE_MANAGER,
            None,
        )
        .await;
    assert_eq!(
        stored["title"], "Retitled <b>by</b> the knowledge page",
        "{stored}"
    );

    // A broken source file: the reindex finishes and names it with its reason.
    std::fs::write(
        server.knowledge_dir().join("articles/en/broken-by-test.md"),
        "+++\nid = \"broken-by-test.en\"\ntitle = \n+++\nno front matter end",
    )
    .unwrap();
    click(&manager, "#reindex").await;
    until(
        &manager,
        "the reindex's per-file error",
        "document.querySelector('#reindex-errors').textContent.includes('broken-by-test')",
    )
    .await;
    let status = shown(&manager, "#reindex-status")
        .await
        .text()
        .await
        .unwrap();
    assert!(!status.trim().is_empty());
    screenshot(&manager, "knowledge").await;
    assert_eq!(
        eval(&manager, "document.querySelectorAll('#kb-list b').length").await,
        json!(0),
        "a title's markup was parsed"
    );
    manager.close().await.unwrap();
}
