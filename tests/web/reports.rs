//! The reports page and the knowledge-gaps page in the browser, over a small history built
//! through the API (guests in pt-BR, es and en: greetings the assistant keeps, chats handed
//! to Ana, served, closed and rated, one still waiting; a planted topic the knowledge lacks).
//! The administrator sees the charts drawn with one bar per day, a table's figures as the
//! API has them, the conversations behind a count (ids, never texts) and the table's CSV;
//! the knowledge manager sees the planted topic first, dismisses and restores it, adds its
//! texts to an activity and drafts an article that opens in the knowledge page's editor; an
//! attendant's token is refused in Portuguese. axe-core checks every state.

use super::harness::{
    ADMIN, ATTENDANT, Driver, KNOWLEDGE_MANAGER, Server, axe, click, driver_or_skip, eval,
    screenshot, shown, until,
};
use fantoccini::Client;
use serde_json::json;

/// Paraphrases of a topic the bundled knowledge lacks (the bicycle rack).
const BIKE: [&str; 8] = [
    "onde fica o bicicletário da empresa",
    "o bicicletário está lotado de novo",
    "tem vaga para bicicleta no bicicletário",
    "o cadeado do bicicletário quebrou",
    "quem cuida do bicicletário",
    "roubaram minha bicicleta do bicicletário",
    "horário do bicicletário",
    "quantas vagas tem o bicicletário",
];

/// Unrelated questions, one each.
const NOISE: [(&str, &str); 3] = [
    ("en", "can my dog come to the office"),
    ("es", "quiero plantar tomates en la terraza"),
    ("pt-BR", "o elevador social está fazendo barulho"),
];

/// A guest who opens a web conversation in `language` and says `text`: (token, id).
async fn guest_says(server: &Server, language: &str, text: &str) -> (String, String) {
    let session = server.ok("POST", "/api/widget/session", "", None).await;
    let token = session["token"]
        .as_str()
        .expect("a guest token")
        .to_string();
    let opened = json!({ "language": language, "channel": "web" });
    let opened = server
        .ok("POST", "/api/conversations", &token, Some(opened))
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/conversations/{id}/messages");
    server
        .ok("POST", &path, &token, Some(json!({ "text": text })))
        .await;
    (token, id)
}

/// A guest who asks for a person and says what it is about: the chat waits in the queue.
async fn queued(server: &Server, language: &str) -> (String, String) {
    let ask = match language {
        "pt-BR" => "quero falar com um atendente",
        "es" => "quiero hablar con un agente",
        _ => "I want to talk to a person",
    };
    let (token, id) = guest_says(server, language, ask).await;
    let about = json!({ "text": "my account needs a look" });
    let path = format!("/api/conversations/{id}/messages");
    server.ok("POST", &path, &token, Some(about)).await;
    (token, id)
}

/// A chat Ana takes, answers and closes; the guest rates it when `rating` says so.
async fn served(server: &Server, language: &str, rating: Option<u8>) {
    let (token, id) = queued(server, language).await;
    for (action, body) in [
        ("capture", None),
        ("messages", Some(json!({ "text": "Hi, I am Ana." }))),
        ("close", Some(json!({ "reason": "resolved" }))),
    ] {
        let path = format!("/api/desk/chats/{id}/{action}");
        server.ok("POST", &path, ATTENDANT, body).await;
    }
    if let Some(rating) = rating {
        let path = format!("/api/conversations/{id}/rating");
        server
            .ok("POST", &path, &token, Some(json!({ "rating": rating })))
            .await;
    }
}

/// The page's period as a query (`since=…&tz=…`), from the page's own period module.
async fn page_period(client: &Client) -> String {
    let script = "import('/assets/staff-period.js').then((period) => period.periodQuery())";
    let query = eval(client, script).await;
    query.as_str().unwrap().to_string()
}

/// The text of every element matching `css`.
async fn texts(client: &Client, css: &str) -> Vec<String> {
    let script = format!("Array.from(document.querySelectorAll('{css}')).map(e => e.textContent)");
    serde_json::from_value(eval(client, &script).await).unwrap()
}

/// Signs in on the page open in `client` with `token`.
async fn sign_in(client: &Client, token: &str) {
    let field = shown(client, "#signin-token").await;
    field.clear().await.unwrap();
    field.send_keys(token).await.unwrap();
    click(client, "#signin-submit").await;
}

/// Keeps, from now on, each blob the page makes a link for (`window.__blobs`) and stops its
/// links from saving files: the page's policy lets no script fetch a `blob:` URL, and the
/// browser would leave the files in the home directory.
async fn catch_downloads(client: &Client) {
    client
        .execute(
            "window.__blobs = [];
             const make = URL.createObjectURL.bind(URL);
             URL.createObjectURL = (blob) => { window.__blobs.push(blob); return make(blob); };
             const click = HTMLAnchorElement.prototype.click;
             HTMLAnchorElement.prototype.click = function () { if (!this.download) click.call(this); };",
            vec![],
        )
        .await
        .unwrap();
}

/// The text of the last blob the page made a link for.
async fn last_blob(client: &Client) -> String {
    let text = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             window.__blobs[window.__blobs.length - 1].text().then(done, e => done(String(e)));",
            vec![],
        )
        .await
        .unwrap();
    text.as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_page_charts_the_days_drills_down_to_ids_and_downloads_a_tables_csv() {
    let Some(path) = driver_or_skip("the_reports_page_...") else {
        return;
    };
    let server = Server::start().await;
    server.desk_with_ana().await;
    let online = json!({ "channel": "web_chat", "state": "online" });
    server
        .ok("PUT", "/api/desk/presence", ATTENDANT, Some(online))
        .await;
    // Greetings and a question the assistant keeps (the last shows the VPN article); chats
    // Ana serves and closes, two of them rated; one still waiting for a person.
    let vpn = "how do I connect to the VPN from home";
    for (language, text) in [("pt-BR", "olá, bom dia"), ("es", "hola"), ("en", vpn)] {
        guest_says(&server, language, text).await;
    }
    for (language, rating) in [("pt-BR", Some(5)), ("es", Some(3)), ("en", None)] {
        served(&server, language, rating).await;
    }
    queued(&server, "es").await;

    let driver = Driver::start(&path).await;
    // Tall enough for most of the page in one screenshot.
    let admin = driver.browser(1280, 2600, "en-US").await;
    admin.goto(&server.url("/reports")).await.unwrap();
    shown(&admin, "#signin-token").await;
    axe(&admin, "the reports page's sign-in").await;
    sign_in(&admin, ADMIN).await;
    shown(&admin, "svg[data-chart=\"conversations\"]").await;
    let period = page_period(&admin).await;
    let path = format!("/api/reports/desk?{period}");
    let report = server.ok("GET", &path, ADMIN, None).await;
    let days = report["by_day"].as_array().unwrap();
    assert_eq!(days.len(), 7, "{report:#}");
    assert_eq!(report["totals"]["conversations"], 7, "{report:#}");

    // One bar per day, each as tall as the day's count; today's satisfaction bar.
    let bars = eval(
        &admin,
        "Array.from(document.querySelectorAll('svg[data-chart=\"conversations\"] rect.rp-bar')).map(r => [r.dataset.day, Number(r.dataset.value), Number(r.getAttribute('height'))])",
    )
    .await;
    let bars = bars.as_array().unwrap();
    assert_eq!(bars.len(), days.len());
    for (bar, day) in bars.iter().zip(days) {
        assert_eq!(bar[0], day["key"]);
        assert_eq!(bar[1], day["conversations"]);
        assert_eq!(bar[2].as_f64().unwrap() > 0.0, day["conversations"] != 0);
    }
    let satisfaction = eval(
        &admin,
        "Array.from(document.querySelectorAll('svg[data-chart=\"satisfaction\"] rect.rp-bar')).map(r => Number(r.dataset.value))",
    )
    .await;
    assert_eq!(satisfaction, json!([4]));
    // Four charts, each an image with a name and a description giving its values.
    let described = eval(
        &admin,
        "Array.from(document.querySelectorAll('svg.rp-chart-svg')).filter(s => s.getAttribute('role') === 'img' && s.querySelector('title').textContent && s.querySelector('desc').textContent.includes(':')).length",
    )
    .await;
    assert_eq!(described, json!(4));

    // The channel table shows the API's figures; its hand-off count lists those chats.
    let channel = &report["by_channel"][0];
    let key = channel["key"].as_str().unwrap();
    assert_eq!(channel["handoffs"], 4, "{report:#}");
    let row = "section[data-csv-table=\"channels\"] tbody tr:first-child";
    let cells = texts(&admin, &format!("{row} th, {row} td")).await;
    assert_eq!(cells[1], "7", "{cells:?}");
    assert!(cells[3].starts_with('4'), "{cells:?}");
    axe(&admin, "the reports page").await;
    screenshot(&admin, "reports-desk").await;
    click(&admin, &format!("{row} td:nth-child(4) button.rp-drill")).await;
    let four = "document.querySelectorAll('#drill-rows tr').length === 4";
    until(&admin, "the hand-offs listed", four).await;
    let listed = texts(&admin, "#drill-rows code").await;
    let path = format!("/api/reports/desk/conversations?{period}&outcome=handoff&channel={key}");
    let expected = server.ok("GET", &path, ADMIN, None).await;
    let expected: Vec<&str> = expected["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, expected);
    let drill = texts(&admin, "#drill").await.concat();
    assert!(!drill.contains("account needs a look"), "a text in {drill}");
    axe(&admin, "the reports page with a drill-down").await;
    screenshot(&admin, "reports-drill").await;

    // The table's CSV, fetched with the token and saved through a blob link, is the API's.
    catch_downloads(&admin).await;
    let table = "section[data-csv-table=\"channels\"]";
    click(&admin, &format!("{table} .rp-table-head button")).await;
    let link = format!("{table} a.rp-csv-link");
    shown(&admin, &link).await;
    let saved = last_blob(&admin).await;
    let named = eval(
        &admin,
        &format!("[document.querySelector('{link}').download, document.querySelector('{link}').href.startsWith('blob:')]"),
    )
    .await;
    assert_eq!(named, json!(["ponte-desk-channels.csv", true]));
    let path = format!("/api/reports/desk?{period}&format=csv&table=channels");
    let (status, csv) = server.download(ADMIN, &path).await;
    assert_eq!(status, 200);
    assert_eq!(saved, String::from_utf8(csv).unwrap());
    assert!(saved.starts_with("channel,conversations,"), "{saved}");
    // The articles' table: the VPN article shown once, as the API counts it.
    let articles = server
        .ok(
            "GET",
            &format!("/api/reports/articles?{period}"),
            ADMIN,
            None,
        )
        .await;
    let first = &articles["articles"][0];
    assert_eq!(first["article_id"], "vpn-connect.en", "{articles:#}");
    let row = "section[data-csv-table=\"articles\"] tbody tr:first-child";
    let cells = texts(&admin, &format!("{row} th, {row} td")).await;
    assert_eq!(cells[0], first["title"].as_str().unwrap(), "{cells:?}");
    assert_eq!(cells[1], first["shown"].to_string(), "{cells:?}");
    assert_eq!(cells[1], "1", "{cells:?}");
    let reasons = "document.querySelector('[data-csv-table=\"close_reasons\"]').scrollIntoView()";
    admin.execute(reasons, vec![]).await.unwrap();
    screenshot(&admin, "reports-tables").await;
    admin.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gaps_page_ranks_the_planted_topic_first_dismisses_restores_teaches_and_drafts() {
    let Some(path) = driver_or_skip("the_gaps_page_...") else {
        return;
    };
    let server = Server::start().await;
    for text in BIKE {
        guest_says(&server, "pt-BR", text).await;
    }
    for (language, text) in NOISE {
        guest_says(&server, language, text).await;
    }
    let driver = Driver::start(&path).await;
    let manager = driver.browser(1280, 1800, "pt-BR").await;
    manager.goto(&server.url("/knowledge/gaps")).await.unwrap();

    // An attendant is told, in Portuguese, that the reports are not for them.
    sign_in(&manager, ATTENDANT).await;
    let refused = "document.querySelector('#signin-error').textContent.length > 0";
    until(&manager, "the refusal", refused).await;
    assert_eq!(
        texts(&manager, "#signin-error").await,
        [
            "Este token de acesso não pertence a um administrador nem a um gestor de conhecimento: só eles veem os relatórios."
        ]
    );
    axe(&manager, "the gaps page refusing an attendant").await;
    screenshot(&manager, "gaps-refused").await;

    // The knowledge manager: the planted topic first, with its count and examples.
    sign_in(&manager, KNOWLEDGE_MANAGER).await;
    shown(&manager, "#gaps li.gp-topic").await;
    let gaps_path = format!("/api/reports/gaps?{}", page_period(&manager).await);
    let gaps = server.ok("GET", &gaps_path, KNOWLEDGE_MANAGER, None).await;
    let first = &gaps["clusters"][0];
    assert_eq!(first["count"], BIKE.len(), "{gaps:#}");
    let key = first["key"].as_str().unwrap().to_string();
    let topic = format!("#gaps li[data-key=\"{key}\"]");
    let top = eval(&manager, "document.querySelector('#gaps li').dataset.key").await;
    assert_eq!(top, json!(key));
    let count = texts(&manager, "#gaps li:first-child .gp-count").await;
    assert_eq!(count, [BIKE.len().to_string()]);
    let examples = texts(&manager, "#gaps li:first-child .gp-examples li").await;
    assert!(!examples.is_empty());
    assert!(
        examples.iter().all(|text| BIKE.contains(&text.as_str())),
        "{examples:?}"
    );
    axe(&manager, "the gaps page").await;
    screenshot(&manager, "gaps").await;

    // Dismissed, it leaves the list; shown again with the dismissed, it is restored.
    click(&manager, &format!("{topic} [data-action=\"dismiss\"]")).await;
    let gone = format!("!document.querySelector('{topic}')");
    until(&manager, "the topic gone", &gone).await;
    let dismissed = server.ok("GET", &gaps_path, KNOWLEDGE_MANAGER, None).await;
    assert_eq!(dismissed["clusters"][0]["dismissed"], true);
    click(&manager, "#gaps-show-dismissed").await;
    shown(&manager, &format!("{topic} [data-action=\"restore\"]")).await;
    axe(&manager, "the gaps page showing a dismissed topic").await;
    screenshot(&manager, "gaps-dismissed").await;
    click(&manager, &format!("{topic} [data-action=\"restore\"]")).await;
    shown(&manager, &format!("{topic} [data-action=\"dismiss\"]")).await;
    click(&manager, "#gaps-show-dismissed").await;
    shown(
        &manager,
        &format!("#gaps li:first-child[data-key=\"{key}\"]"),
    )
    .await;
    let restored = server.ok("GET", &gaps_path, KNOWLEDGE_MANAGER, None).await;
    assert_eq!(restored["clusters"][0]["dismissed"], false);

    // Its texts become an activity's examples.
    click(&manager, &format!("{topic} [data-action=\"examples\"]")).await;
    let select = format!("{topic} .gp-form select");
    shown(&manager, &select).await;
    let pick = format!("(s => (s.value = s.options[1].value))(document.querySelector('{select}'))");
    let activity = eval(&manager, &pick).await.as_str().unwrap().to_string();
    axe(&manager, "the gaps page adding examples").await;
    click(
        &manager,
        &format!("{topic} .gp-form button[type=\"submit\"]"),
    )
    .await;
    let added =
        format!("document.querySelector('{topic} .gp-result').textContent.includes('adicionad')");
    until(&manager, "the examples added", &added).await;
    let path = format!("/api/knowledge/activities/{activity}");
    let stored = server.ok("GET", &path, KNOWLEDGE_MANAGER, None).await;
    let taught = stored["examples"]["pt-BR"].as_array().unwrap();
    assert!(
        taught
            .iter()
            .any(|text| BIKE.contains(&text.as_str().unwrap())),
        "{stored}"
    );

    // A draft article opens in the knowledge page's editor, its questions in the body.
    click(&manager, &format!("{topic} [data-action=\"draft\"]")).await;
    shown(&manager, "#kb-editor").await;
    let drafted = "document.querySelector('#kb-field-body').value.includes('bicicletário')";
    until(&manager, "the draft in the editor", drafted).await;
    let fields = "['title', 'language'].map(f => document.querySelector('#kb-field-' + f).value)";
    let fields = eval(&manager, fields).await;
    assert!(BIKE.contains(&fields[0].as_str().unwrap()), "{fields}");
    assert_eq!(fields[1], "pt-BR");
    shown(&manager, "a[href=\"/knowledge/gaps\"]").await;
    axe(&manager, "the knowledge page with a drafted article").await;
    screenshot(&manager, "gaps-draft").await;
    manager.close().await.unwrap();
}
