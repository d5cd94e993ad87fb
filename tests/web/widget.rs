//! The requester's widget as issue 18 found it broken, end to end: the header and its dot
//! follow who answers (the assistant, nobody yet, a person by name, nobody any more); the
//! assistant understands a requester who says it again in other words after a fallback,
//! and the ticket opened then is about those words; an attendant's image shows in the
//! chat and another file is a link; an article is read inside the chat, its Markdown
//! rendered without running any markup, with the portal page a link beside it and no
//! assistant message repeated; Spanish says "usted"; the Talk button draws its icon; the
//! portal fits a phone. axe-core checks every widget and portal state visited.

use super::harness::{
    ATTENDANT, Driver, Server, axe, click, driver_or_skip, eval, screenshot, shown, type_and_enter,
    until, with_ana,
};
use super::{ana_captures, image_shown, widget_conversation};
use crate::durability::http;
use fantoccini::Client;
use serde_json::{Value, json};

/// The assistant's messages that carry `text_key`, as the widget marks them.
async fn count_key(client: &Client, text_key: &str) -> u64 {
    eval(
        client,
        &format!("document.querySelectorAll('#ponte-log [data-text-key=\"{text_key}\"]').length"),
    )
    .await
    .as_u64()
    .unwrap()
}

/// The header as the requester reads it: title, the line under it, the dot's stage.
async fn header(client: &Client) -> (String, String, String) {
    let found = eval(
        client,
        "[document.querySelector('#ponte-title').textContent,
          document.querySelector('#ponte-agent').textContent,
          ['assistant', 'waiting', 'person', 'closed'].filter(s =>
            document.querySelector('#ponte-status').classList.contains('ponte-dot-' + s)).join(' ')]",
    )
    .await;
    serde_json::from_value(found).unwrap()
}

/// The widget's guest token, from its storage.
async fn guest_token(client: &Client) -> String {
    eval(
        client,
        "JSON.parse(localStorage.getItem('ponte.widget.' + location.origin)).token",
    )
    .await
    .as_str()
    .expect("the widget keeps its guest token")
    .to_string()
}

/// The Talk button draws its icon as SVG: no emoji, which shows as an empty box on a
/// system without an emoji font.
async fn talk_button_draws_its_icon(client: &Client, label: &str) {
    let talk = shown(client, "#ponte-talk").await.text().await.unwrap();
    assert_eq!(talk.trim(), label);
    let drawn = eval(
        client,
        "(() => { const b = document.querySelector('#ponte-talk');
          const icon = b.querySelector('svg');
          return Boolean(icon) && icon.getBoundingClientRect().width > 0 && !/\\p{Extended_Pictographic}/u.test(b.textContent); })()",
    )
    .await;
    assert_eq!(drawn, Value::Bool(true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_header_follows_who_answers_and_an_attendants_files_show_as_an_image_and_a_link() {
    let Some((server, _driver, requester)) =
        with_ana("the_header_follows_who_answers_...", 1280, 900, "en-US").await
    else {
        return;
    };

    requester.goto(&server.url("/")).await.unwrap();
    talk_button_draws_its_icon(&requester, "Talk").await;
    axe(&requester, "the portal (desktop, en)").await;
    click(&requester, "#ponte-talk").await;
    shown(&requester, "#ponte-log .ponte-from-assistant").await;
    // Only the assistant answers: said once, with its own (filled) dot.
    assert_eq!(
        header(&requester).await,
        (
            "Virtual assistant".to_string(),
            "Automatic answers".to_string(),
            "assistant".to_string()
        )
    );
    axe(&requester, "the open widget (desktop, en)").await;

    // Not understood, then said again in other words: understood as a new question (here,
    // one the assistant cannot answer either), not "choose one of the options".
    type_and_enter(&requester, "#ponte-input", "tell me a joke about penguins").await;
    until(
        &requester,
        "the first fallback",
        "document.querySelectorAll('#ponte-log [data-text-key=\"fallback_with_attendant\"]').length === 1",
    )
    .await;
    let rephrased = "penguins keep stealing the sandwiches from my desk drawer";
    type_and_enter(&requester, "#ponte-input", rephrased).await;
    until(
        &requester,
        "the answer to the rephrased text",
        "document.querySelectorAll('#ponte-log .ponte-from-assistant').length >= 3 && !document.querySelector('#ponte-log .ponte-pending')",
    )
    .await;
    until(
        &requester,
        "the fallback offered again",
        "document.querySelectorAll('#ponte-log [data-text-key=\"fallback_with_attendant\"]').length === 2",
    )
    .await;
    assert_eq!(count_key(&requester, "choose_an_option").await, 0);
    click(
        &requester,
        "#ponte-log .ponte-option[data-option=\"talk_to_attendant\"]:not(:disabled)",
    )
    .await;
    shown(&requester, "#ponte-queue").await;
    // The ticket is about what the requester said last, not the first text.
    let (status, tickets) = http(
        server.port,
        "GET",
        "/api/tickets",
        &guest_token(&requester).await,
        None,
    )
    .await
    .expect("an answer");
    assert_eq!(status, 200, "{tickets}");
    assert_eq!(tickets["tickets"][0]["description"], rephrased, "{tickets}");

    // Queued: nobody answers yet (hollow dot).
    until(
        &requester,
        "the waiting dot",
        "document.querySelector('#ponte-status').classList.contains('ponte-dot-waiting')",
    )
    .await;
    assert_eq!(
        header(&requester).await,
        (
            "Service desk".to_string(),
            "Waiting for an attendant".to_string(),
            "waiting".to_string()
        )
    );
    screenshot(&requester, "widget-waiting").await;

    // Ana takes the chat: her name, the filled green dot.
    let conversation = widget_conversation(&requester).await;
    ana_captures(&server, &conversation).await;
    until(
        &requester,
        "Ana in the header",
        "document.querySelector('#ponte-title').textContent === 'Ana'",
    )
    .await;
    assert_eq!(
        header(&requester).await,
        (
            "Ana".to_string(),
            "Attendant online".to_string(),
            "person".to_string()
        )
    );

    // Ana sends a screenshot and a text file: the picture shows, the file is a link.
    let png = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/web/erro.png"),
    )
    .unwrap();
    let (status, sent) = server
        .upload(ATTENDANT, &conversation, "erro.png", "image/png", &png)
        .await;
    assert_eq!(status, 201, "{sent}");
    let (status, sent) = server
        .upload(
            ATTENDANT,
            &conversation,
            "steps.txt",
            "text/plain",
            b"1. Restart the badge reader.\n2. Try again.\n",
        )
        .await;
    assert_eq!(status, 201, "{sent}");
    image_shown(&requester, "the image shown", ".ponte-from-attendant").await;
    until(
        &requester,
        "the file as a link",
        "Array.from(document.querySelectorAll('#ponte-log .ponte-from-attendant a.ponte-attachment-link')).some(a => a.textContent.includes('steps.txt'))",
    )
    .await;
    let attachment_text = eval(
        &requester,
        "document.querySelector('#ponte-log').textContent.includes('📎')",
    )
    .await;
    assert_eq!(attachment_text, Value::Bool(false), "a file shown as text");
    // The link names the file the requester may read with their token; a click fetches it
    // with that token and hands it to the browser.
    let fetched = requester
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const link = Array.from(document.querySelectorAll('#ponte-log a.ponte-attachment-link'))
               .find(a => a.textContent.includes('steps.txt'));
             const token = JSON.parse(localStorage.getItem('ponte.widget.' + location.origin)).token;
             fetch(link.href, { headers: { Authorization: 'Bearer ' + token } })
               .then(r => r.text()).then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        fetched
            .as_str()
            .unwrap_or("")
            .contains("Restart the badge reader"),
        "{fetched}"
    );
    click(
        &requester,
        "#ponte-log .ponte-from-attendant a.ponte-attachment-link[download=\"steps.txt\"]",
    )
    .await;
    until(
        &requester,
        "the file fetched for the download",
        "(() => { const a = document.querySelector('#ponte-log a.ponte-attachment-link[download=\"steps.txt\"]');
                  return a.dataset.ready === '1' && a.href.startsWith('blob:'); })()",
    )
    .await;
    screenshot(&requester, "widget-files").await;
    axe(
        &requester,
        "the widget with an attendant's files (desktop, en)",
    )
    .await;

    // Ana closes the chat: nobody answers any more.
    server
        .ok(
            "POST",
            &format!("/api/desk/chats/{conversation}/close"),
            ATTENDANT,
            Some(json!({ "reason": "resolved" })),
        )
        .await;
    until(
        &requester,
        "the closed dot",
        "document.querySelector('#ponte-status').classList.contains('ponte-dot-closed')",
    )
    .await;
    assert_eq!(
        header(&requester).await,
        (
            "Service desk".to_string(),
            "This conversation has ended.".to_string(),
            "closed".to_string()
        )
    );
    screenshot(&requester, "widget-closed").await;
    axe(&requester, "the widget after the close (desktop, en)").await;
    requester.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_in_spanish_an_article_is_read_in_the_chat_and_the_portal_fits() {
    let Some(path) = driver_or_skip("on_a_phone_in_spanish_...") else {
        return;
    };
    let server = Server::start().await;
    let driver = Driver::start(&path).await;
    let phone = driver.browser(390, 844, "es-ES").await;

    // The portal on a phone: the links on one line, nothing wider than the screen, and at
    // the end of the page the Talk button covers no card.
    phone.goto(&server.url("/")).await.unwrap();
    talk_button_draws_its_icon(&phone, "Conversar").await;
    let fits = eval(
        &phone,
        "(() => { const items = Array.from(document.querySelectorAll('.portal-top nav li'));
          const top = items[0].getBoundingClientRect().top;
          return { one_line: items.every(li => Math.abs(li.getBoundingClientRect().top - top) < 2),
                   no_sideways_scroll: document.documentElement.scrollWidth <= 390
                     && document.querySelector('#ponte-talk').getBoundingClientRect().right <= 390 }; })()",
    )
    .await;
    assert_eq!(
        fits,
        json!({ "one_line": true, "no_sideways_scroll": true })
    );
    screenshot(&phone, "portal-phone").await;
    eval(
        &phone,
        "(window.scrollTo(0, document.documentElement.scrollHeight), true)",
    )
    .await;
    let covered = eval(
        &phone,
        "(() => { const talk = document.querySelector('#ponte-talk').getBoundingClientRect();
          return Array.from(document.querySelectorAll('.portal-cards li')).filter(card => {
            const r = card.getBoundingClientRect();
            return r.left < talk.right && talk.left < r.right && r.top < talk.bottom && talk.top < r.bottom;
          }).map(card => card.textContent); })()",
    )
    .await;
    assert_eq!(covered, json!([]), "cards under the Talk button");
    screenshot(&phone, "portal-phone-end").await;
    axe(&phone, "the portal (phone, es)").await;

    click(&phone, "#ponte-talk").await;
    shown(&phone, "#ponte-log .ponte-from-assistant").await;
    assert_eq!(
        header(&phone).await,
        (
            "Asistente virtual".to_string(),
            "Respuestas automáticas".to_string(),
            "assistant".to_string()
        )
    );
    axe(&phone, "the open widget (phone, es)").await;

    // An article offered: read it here, beside the link to the portal.
    type_and_enter(
        &phone,
        "#ponte-input",
        "Restablecer una contraseña olvidada",
    )
    .await;
    until(
        &phone,
        "an article offered or shown",
        "document.querySelector('#ponte-log .ponte-option[data-option^=\"article:\"]:not(:disabled), #ponte-log .ponte-article')",
    )
    .await;
    if eval(
        &phone,
        "document.querySelector('#ponte-log .ponte-article') === null",
    )
    .await
    .as_bool()
    .unwrap()
    {
        click(
            &phone,
            "#ponte-log .ponte-option[data-option^=\"article:\"]:not(:disabled)",
        )
        .await;
    }
    shown(&phone, "#ponte-log .ponte-article .ponte-article-read").await;
    let messages_before = eval(&phone, "document.querySelectorAll('#ponte-log > *').length").await;
    click(&phone, "#ponte-log .ponte-article .ponte-article-read").await;
    until(
        &phone,
        "the article's body in the chat",
        "document.querySelector('#ponte-log .ponte-article-body') && document.querySelector('#ponte-log .ponte-article-body').dataset.loaded === '1'",
    )
    .await;
    let body = eval(
        &phone,
        "(() => { const body = document.querySelector('#ponte-log .ponte-article-body');
          return { visible: !body.hidden && body.getBoundingClientRect().height > 0,
                   blocks: body.querySelectorAll('p, li, h3, h4, h5').length,
                   emphasis: body.querySelectorAll('strong, em, code').length,
                   markup_as_text: /[*#]{2}|^#/m.test(body.textContent),
                   unsafe: body.querySelectorAll('script, img, iframe, [onerror], [onclick]').length }; })()",
    )
    .await;
    assert_eq!(body["visible"], true, "{body}");
    assert!(body["blocks"].as_u64().unwrap() >= 3, "{body}");
    assert_eq!(
        body["markup_as_text"], false,
        "Markdown left as text: {body}"
    );
    assert_eq!(body["unsafe"], 0, "{body}");
    let portal = eval(
        &phone,
        "(() => { const a = document.querySelector('#ponte-log .ponte-article a.ponte-article-portal');
          return a && { text: a.textContent, href: a.href, target: a.target }; })()",
    )
    .await;
    assert_eq!(portal["text"], "Ver en el portal", "{portal}");
    assert_eq!(portal["target"], "_blank", "{portal}");
    assert!(
        portal["href"]
            .as_str()
            .unwrap()
            .starts_with("https://portal.example.com/kb/reset-forgotten-password"),
        "{portal}"
    );
    screenshot(&phone, "widget-phone-article").await;
    axe(&phone, "the widget with an article read (phone, es)").await;
    // Reading and opening the portal page are not steps of the conversation: the
    // assistant says nothing more, and the card's Close still works.
    click(&phone, "#ponte-log .ponte-article a.ponte-article-portal").await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let messages_after = eval(&phone, "document.querySelectorAll('#ponte-log > *').length").await;
    assert_eq!(messages_before, messages_after, "the assistant spoke again");
    assert_eq!(count_key(&phone, "article_opened").await, 0);
    let close_enabled = eval(
        &phone,
        "!document.querySelector('#ponte-log .ponte-article .ponte-article-close').disabled",
    )
    .await;
    assert_eq!(close_enabled, Value::Bool(true));

    // Every Spanish sentence of the widget and the assistant says "usted", never "tú".
    let spoken = eval(
        &phone,
        "[document.querySelector('#ponte-panel .ponte-header').textContent,
          document.querySelector('#ponte-input').placeholder,
          ...Array.from(document.querySelectorAll('#ponte-log .ponte-from-assistant .ponte-text, #ponte-log .ponte-option, #ponte-log .ponte-article-actions > *'))
            .filter(e => !e.closest('[hidden]')).map(e => e.textContent)].join('\\n')",
    )
    .await;
    let spoken = spoken.as_str().unwrap().to_lowercase();
    for word in spoken.split(|c: char| !c.is_alphabetic()) {
        assert!(
            ![
                "tú", "tu", "tus", "te", "ti", "contigo", "puedes", "quieres", "escribe", "elige"
            ]
            .contains(&word),
            "\"{word}\" in: {spoken}"
        );
    }
    phone.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_an_article_read_in_the_chat_shows_as_text_and_never_runs() {
    let Some(path) = driver_or_skip("markup_in_an_article_...") else {
        return;
    };
    let server = Server::start().await;
    server
        .ok(
            "PUT",
            "/api/knowledge/articles/hostile-markup.en",
            super::harness::KNOWLEDGE_MANAGER,
            Some(json!({
                "title": "Quarantined mailbox cleanup",
                "language": "en",
                "summary": "Cleaning the quarantined mailbox.",
                "url": "https://portal.example.com/kb/quarantined-mailbox",
                "body": "# Quarantined mailbox cleanup\n\nOpen <script>window.__pwned = 1</script> the **quarantine**.\n\n\
                         - <img src=x onerror=\"window.__pwned = 2\">\n- [a trap](javascript:window.__pwned=3) and [the portal](https://portal.example.com/kb)\n\n\
                         ```\n<b>kept as text</b>\n```\n",
            })),
        )
        .await;
    let driver = Driver::start(&path).await;
    let requester = driver.browser(1280, 900, "en-US").await;
    requester.goto(&server.url("/")).await.unwrap();
    click(&requester, "#ponte-talk").await;
    shown(&requester, "#ponte-log .ponte-from-assistant").await;
    type_and_enter(&requester, "#ponte-input", "Quarantined mailbox cleanup").await;
    until(
        &requester,
        "the article offered or shown",
        "document.querySelector('#ponte-log .ponte-option[data-option=\"article:hostile-markup.en\"]:not(:disabled), #ponte-log .ponte-article[data-article-id=\"hostile-markup.en\"]')",
    )
    .await;
    if eval(
        &requester,
        "document.querySelector('#ponte-log .ponte-article[data-article-id=\"hostile-markup.en\"]') === null",
    )
    .await
    .as_bool()
    .unwrap()
    {
        click(
            &requester,
            "#ponte-log .ponte-option[data-option=\"article:hostile-markup.en\"]:not(:disabled)",
        )
        .await;
    }
    click(
        &requester,
        "#ponte-log .ponte-article[data-article-id=\"hostile-markup.en\"] .ponte-article-read",
    )
    .await;
    until(
        &requester,
        "the body rendered",
        "(document.querySelector('#ponte-log .ponte-article-body') || {dataset: {}}).dataset.loaded === '1'",
    )
    .await;
    let body = eval(
        &requester,
        "(() => { const body = document.querySelector('#ponte-log .ponte-article-body');
          return { pwned: window.__pwned === undefined ? null : window.__pwned,
                   elements: Array.from(body.querySelectorAll('*')).map(e => e.tagName.toLowerCase()).sort(),
                   links: Array.from(body.querySelectorAll('a')).map(a => a.href),
                   text: body.textContent }; })()",
    )
    .await;
    assert_eq!(body["pwned"], Value::Null, "{body}");
    let elements: Vec<String> = serde_json::from_value(body["elements"].clone()).unwrap();
    assert!(
        elements
            .iter()
            .all(|tag| ["a", "code", "li", "p", "pre", "strong", "ul"].contains(&tag.as_str())),
        "{body}"
    );
    assert_eq!(
        body["links"],
        json!(["https://portal.example.com/kb"]),
        "{body}"
    );
    let text = body["text"].as_str().unwrap();
    for literal in [
        "<script>window.__pwned = 1</script>",
        "<img src=x",
        "<b>kept as text</b>",
    ] {
        assert!(text.contains(literal), "{literal} in {text}");
    }
    screenshot(&requester, "widget-article-markup").await;
    axe(&requester, "the widget with an article read (desktop, en)").await;
    requester.close().await.unwrap();
}
