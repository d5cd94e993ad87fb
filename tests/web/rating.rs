//! The requester's satisfaction prompt: when the chat ends the widget asks, in the requester's
//! language, for a rating from 1 to 5 and an optional comment; a sent rating reaches the desk
//! report, and neither a sent nor a skipped prompt comes back after a reload.

use super::harness::{
    ADMIN, ATTENDANT, PATIENCE, axe, click, eval, screenshot, shown, type_and_enter, until,
    with_ana,
};
use super::{ana_captures, fall_back_to_a_person, open_widget, widget_conversation};
use fantoccini::Client;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// WebDriver's code for the right arrow key.
const ARROW_RIGHT: char = '\u{E014}';

/// Reloads the page, opens the widget and waits until the replayed conversation shows as
/// ended (the closing message, `closing`, and the end line after it).
async fn reload_ended(client: &Client, closing: &str, ended: &str) {
    client.refresh().await.unwrap();
    click(client, "#ponte-talk").await;
    until(
        client,
        "the ended conversation after a reload",
        &format!(
            "(() => {{ const log = document.querySelector('#ponte-log');
                      return log.textContent.includes({closing:?})
                        && log.lastElementChild && log.lastElementChild.textContent === {ended:?}; }})()"
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_ana_closes_the_chat_the_requester_rates_it_in_portuguese_once() {
    let Some((server, _driver, requester)) =
        with_ana("after_ana_closes_the_chat_...", 1280, 900, "pt-BR").await
    else {
        return;
    };
    open_widget(&requester, &server).await;
    fall_back_to_a_person(&requester).await;
    let conversation = widget_conversation(&requester).await;
    ana_captures(&server, &conversation).await;
    server
        .ok(
            "POST",
            &format!("/api/desk/chats/{conversation}/close"),
            ATTENDANT,
            Some(json!({ "reason": "resolved" })),
        )
        .await;

    // The card asks in Portuguese; each choice is named by its number and its meaning.
    let question = shown(&requester, "#ponte-rating legend")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(question, "Como foi a sua conversa?");
    let names = eval(
        &requester,
        "Array.from(document.querySelectorAll('#ponte-rating input[type=radio]'))
           .map(input => input.labels[0].querySelector('.ponte-visually-hidden').textContent)",
    )
    .await;
    assert_eq!(
        names,
        json!([
            "1 — muito ruim",
            "2 — ruim",
            "3 — regular",
            "4 — boa",
            "5 — excelente"
        ])
    );
    axe(&requester, "rating-card").await;
    screenshot(&requester, "widget-rating-pt").await;

    // Sending without a choice asks for one, in Portuguese.
    click(&requester, "#ponte-rating .ponte-rating-send").await;
    let problem = shown(&requester, "#ponte-rating-problem")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(problem, "Escolha uma nota de 1 a 5.");

    // 3 with the mouse, then one step right with the keyboard: 4. A comment, and Send.
    click(&requester, "label[for=\"ponte-rating-3\"]").await;
    requester
        .perform_actions(
            KeyActions::new("keyboard".to_string())
                .then(KeyAction::Down { value: ARROW_RIGHT })
                .then(KeyAction::Up { value: ARROW_RIGHT }),
        )
        .await
        .unwrap();
    until(
        &requester,
        "4 chosen with the arrow key",
        "document.querySelector('#ponte-rating-4').checked",
    )
    .await;
    shown(&requester, "#ponte-rating-comment")
        .await
        .send_keys("A Ana resolveu rápido.")
        .await
        .unwrap();
    click(&requester, "#ponte-rating .ponte-rating-send").await;
    let thanks = shown(&requester, "#ponte-log .ponte-rating-thanks")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(thanks, "Agradecemos a sua avaliação!");
    assert_eq!(
        eval(
            &requester,
            "document.querySelector('#ponte-rating') === null"
        )
        .await,
        Value::Bool(true)
    );

    // The rating is in the desk report (the recorder writes in the background) and in the
    // drill-down to rated conversations; the comment is stored with it.
    let deadline = Instant::now() + PATIENCE;
    loop {
        let report = server
            .ok("GET", "/api/reports/desk?since=1d", ADMIN, None)
            .await;
        if report["totals"]["ratings"] == json!(1) {
            assert_eq!(report["totals"]["rating_counts"], json!([0, 0, 0, 1, 0]));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no rating in the report: {report}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let rated = server
        .ok(
            "GET",
            "/api/reports/desk/conversations?since=1d&outcome=rated",
            ADMIN,
            None,
        )
        .await;
    let rows = rated["conversations"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{rated}");
    assert_eq!(rows[0]["id"], json!(conversation));
    assert_eq!(rows[0]["rating"], json!(4));
    let database = format!(
        "sqlite://{}?mode=ro",
        server.data.path().join("ponte.db").display()
    );
    let pool = sqlx::sqlite::SqlitePool::connect(&database).await.unwrap();
    let (comment,): (Option<String>,) =
        sqlx::query_as("SELECT comment FROM report_conversations WHERE id = ?")
            .bind(&conversation)
            .fetch_one(&pool)
            .await
            .unwrap();
    pool.close().await;
    assert_eq!(comment.as_deref(), Some("A Ana resolveu rápido."));

    // A reload resumes the ended conversation without asking again.
    reload_ended(
        &requester,
        "Esta conversa foi encerrada",
        "Esta conversa terminou.",
    )
    .await;
    assert_eq!(count(&requester, "#ponte-rating").await, 0);
    requester.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skipped_rating_prompt_goes_away_and_stays_away_after_a_reload() {
    let Some((server, _driver, requester)) =
        with_ana("a_skipped_rating_prompt_...", 1280, 900, "en-US").await
    else {
        return;
    };
    // The assistant ends the conversation when the requester says goodbye.
    open_widget(&requester, &server).await;
    type_and_enter(&requester, "#ponte-input", "goodbye").await;
    let question = shown(&requester, "#ponte-rating legend")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(question, "How was your conversation?");
    click(&requester, "#ponte-rating .ponte-rating-skip").await;
    until(
        &requester,
        "the card gone",
        "document.querySelector('#ponte-rating') === null",
    )
    .await;
    assert_eq!(count(&requester, ".ponte-rating-thanks").await, 0);

    reload_ended(
        &requester,
        "Thanks for getting in touch. Goodbye!",
        "This conversation has ended.",
    )
    .await;
    assert_eq!(count(&requester, "#ponte-rating").await, 0);
    requester.close().await.unwrap();
}

/// How many elements match `css` in the page.
async fn count(client: &fantoccini::Client, css: &str) -> u64 {
    let script = format!("document.querySelectorAll('{css}').length");
    eval(client, &script).await.as_u64().unwrap()
}
