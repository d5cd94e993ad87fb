//! The reports through the HTTP API over a history built through the API itself (hundreds
//! of conversations in three languages: answered by the assistant, handed to people who
//! take them after known waits, transfer and close them, lost chats, ratings), checked
//! against figures computed by hand here; a planted cluster of twenty paraphrases of a
//! missing topic found first, and turning its texts into an activity's examples makes the
//! same question match that activity; role checks on every route.

use crate::common::{TestKb, repo};
use crate::desk::{Desk, sqlite_at};
use axum::http::{Method, StatusCode};
use ponte::assistant::{Matcher, load_intents};
use ponte::attendance::Clock;
use ponte::attendance::timer;
use ponte::auth::Role;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// Twenty ways to ask about the bicycle rack, a topic the bundled knowledge lacks.
const BIKE: [&str; 20] = [
    "onde fica o bicicletário da empresa",
    "deixei a bicicleta presa no bicicletário",
    "o bicicletário está lotado de novo",
    "bicicletário tem vaga para patinete também",
    "tem vaga para bicicleta no bicicletário",
    "bicicletário fechado hoje, quem abre",
    "quero guardar a bicicleta no bicicletário do prédio",
    "o cadeado do bicicletário quebrou",
    "bicicletário tem chuveiro perto",
    "vim de bicicleta e o bicicletário não tem vaga",
    "quem cuida do bicicletário",
    "roubaram minha bicicleta do bicicletário",
    "bicicletário da portaria 2 funciona no sábado",
    "preciso de crachá para entrar no bicicletário",
    "o bicicletário aceita bicicleta elétrica",
    "quantas vagas tem o bicicletário",
    "posso carregar a bicicleta elétrica no bicicletário",
    "horário do bicicletário",
    "bicicletário coberto ou descoberto",
    "onde estaciono a bicicleta, o bicicletário mudou",
];

/// Questions on unrelated topics nobody else asks about (each its own small cluster).
const NOISE: [(&str, &str); 12] = [
    ("en", "what is the cafeteria menu on friday"),
    ("en", "can my dog come to the office"),
    ("en", "who won the chess tournament"),
    ("es", "dónde está la máquina de café del tercer piso"),
    ("es", "quiero plantar tomates en la terraza"),
    ("es", "la fuente de agua tiene sabor raro"),
    ("pt-BR", "qual o cardápio do refeitório amanhã"),
    ("pt-BR", "o elevador social está fazendo barulho"),
    ("en", "is there a yoga class at lunch"),
    ("es", "se puede aparcar la moto en el sótano"),
    ("pt-BR", "quero doar livros para a biblioteca"),
    ("en", "the aquarium in the lobby looks dirty"),
];

const LANGUAGES: [&str; 3] = ["pt-BR", "es", "en"];

fn greeting(language: &str) -> &'static str {
    match language {
        "pt-BR" => "olá, bom dia",
        "es" => "hola, buenos días",
        _ => "hello, good morning",
    }
}

fn ask_for_person(language: &str) -> &'static str {
    match language {
        "pt-BR" => "quero falar com um atendente",
        "es" => "quiero hablar con un agente",
        _ => "I want to talk to a person",
    }
}

async fn open(desk: &Desk, token: &str, language: &str) -> String {
    let opened = desk
        .ok(
            Method::POST,
            "/api/conversations",
            token,
            Some(json!({ "language": language })),
        )
        .await;
    opened["conversation"]["id"].as_str().unwrap().to_string()
}

async fn say(desk: &Desk, token: &str, id: &str, text: &str) -> Value {
    desk.ok(
        Method::POST,
        &format!("/api/conversations/{id}/messages"),
        token,
        Some(json!({ "text": text })),
    )
    .await
}

/// A requester who says `text` in a new conversation and leaves: (token, conversation).
async fn one_text(desk: &Desk, subject: &str, language: &str, text: &str) -> (String, String) {
    let token = desk.token(Role::Requester, subject);
    let id = open(desk, &token, language).await;
    say(desk, &token, &id, text).await;
    (token, id)
}

fn text_keys(answer: &Value) -> Vec<String> {
    answer["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|message| message["payload"]["text_key"].as_str())
        .map(str::to_string)
        .collect()
}

struct History {
    desk: Desk,
    /// The copy of the bundled knowledge this desk writes to (never the repository's).
    _kb: Arc<TestKb>,
    /// Requesters of the chats people closed, with their conversations.
    closed: Vec<(String, String)>,
    /// One conversation still with the assistant.
    open: (String, String),
    total: u64,
    handoffs: u64,
}

/// A desk over its own copy of the bundled knowledge, queueing for people, with Ana and
/// Bia online: (desk, its knowledge, Ana's token, Bia's token).
async fn staffed_desk() -> (Desk, Arc<TestKb>, String, String) {
    let kb = Arc::new(TestKb::bundled());
    let knowledge = Arc::new(
        ponte::knowledge::KnowledgeBase::open(&kb.index_dir(), Some(kb.sources())).unwrap(),
    );
    let intents = load_intents(&repo().join("intents")).unwrap();
    let matcher =
        Arc::new(Matcher::build(&intents, knowledge.clone(), Default::default()).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_at(dir.path()).await;
    let desk = Desk::over(knowledge, matcher, dir, store, Clock::new()).await;
    desk.configure("queue").await;
    desk.ok(
        Method::PUT,
        "/api/admin/parameters",
        &desk.admin,
        Some(json!({ "key": "lost_chat_minutes", "value": "30" })),
    )
    .await;
    let ana = desk.attendant("ana", "Ana", 100).await;
    let bia = desk.attendant("bia", "Bia", 100).await;
    desk.online(&ana).await;
    desk.online(&bia).await;
    (desk, kb, ana, bia)
}

/// 150 conversations the assistant kept (greetings, the planted topic, the noise), 120
/// handed to people: Ana takes 40 after 2 minutes, Bia 40 after 5, 10 of Ana's go to Bia,
/// 50 close as resolved and 30 as no_response, the last 40 are lost after 31 minutes.
async fn history() -> History {
    let (desk, kb, ana, bia) = staffed_desk().await;
    for (index, text) in BIKE.iter().enumerate() {
        one_text(&desk, &format!("bike-{index}"), "pt-BR", text).await;
    }
    for (index, (language, text)) in NOISE.iter().enumerate() {
        one_text(&desk, &format!("noise-{index}"), language, text).await;
    }
    let mut open_one = None;
    for index in 0..118 {
        let language = LANGUAGES[index % 3];
        let kept = one_text(
            &desk,
            &format!("hello-{index}"),
            language,
            greeting(language),
        )
        .await;
        open_one.get_or_insert(kept);
    }
    let mut queued = Vec::new();
    for index in 0..120 {
        let language = LANGUAGES[index % 3];
        let (token, id) = one_text(
            &desk,
            &format!("person-{index}"),
            language,
            ask_for_person(language),
        )
        .await;
        // Asked what it is about, the requester says; then the chat waits for a person.
        say(
            &desk,
            &token,
            &id,
            &format!("case {index}: my account needs a look"),
        )
        .await;
        queued.push((token, id));
    }
    let clock = desk.attendance.clock();
    let mut closed = Vec::new();
    clock.advance(Duration::from_secs(120));
    for (position, (token, id)) in queued.iter().enumerate() {
        let (who, wait) = match position {
            0..40 => (&ana, 0),
            40..80 => (&bia, 180),
            _ => break,
        };
        if wait > 0 && position == 40 {
            clock.advance(Duration::from_secs(wait));
        }
        desk.ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/capture"),
            who,
            None,
        )
        .await;
        desk.ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/messages"),
            who,
            Some(json!({ "text": "Hi, I am here to help." })),
        )
        .await;
        let mut closer = who;
        if position < 10 {
            desk.ok(
                Method::POST,
                &format!("/api/desk/chats/{id}/transfer"),
                who,
                Some(json!({ "to": "bia" })),
            )
            .await;
            closer = &bia;
        }
        let reason = if position % 8 < 5 {
            "resolved"
        } else {
            "no_response"
        };
        desk.ok(
            Method::POST,
            &format!("/api/desk/chats/{id}/close"),
            closer,
            Some(json!({ "reason": reason })),
        )
        .await;
        closed.push((token.clone(), id.clone()));
    }
    clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(timer::tick(&desk.attendance).await.unwrap(), 40);
    History {
        desk,
        _kb: kb,
        closed,
        open: open_one.unwrap(),
        total: 20 + 12 + 118 + 120,
        handoffs: 120,
    }
}

#[tokio::test]
async fn a_built_history_gives_the_figures_counted_by_hand() {
    let h = history().await;
    let desk = &h.desk;
    // Ratings: the first 30 closed chats, 1 to 5 in turn (six of each: mean 3).
    for (index, (token, id)) in h.closed.iter().take(30).enumerate() {
        let (status, body) = desk
            .call(
                Method::POST,
                &format!("/api/conversations/{id}/rating"),
                token,
                Some(json!({ "rating": index % 5 + 1, "comment": "ok" })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Once only; not before the end; only by its requester; 1 to 5.
    let (token, id) = &h.closed[0];
    let rate = |token: String, id: String, rating: i64| async move {
        let (status, body) = desk
            .call(
                Method::POST,
                &format!("/api/conversations/{id}/rating"),
                &token,
                Some(json!({ "rating": rating })),
            )
            .await;
        (
            status,
            body["code"].as_str().unwrap_or_default().to_string(),
        )
    };
    assert_eq!(
        rate(token.clone(), id.clone(), 5).await,
        (StatusCode::CONFLICT, "already_rated".into())
    );
    assert_eq!(
        rate(h.open.0.clone(), h.open.1.clone(), 5).await,
        (StatusCode::CONFLICT, "conversation_open".into())
    );
    assert_eq!(
        rate(h.closed[40].0.clone(), id.clone(), 5).await,
        (StatusCode::FORBIDDEN, "forbidden".into())
    );
    assert_eq!(
        rate(h.closed[40].0.clone(), h.closed[40].1.clone(), 6).await,
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_parameter".into())
    );

    let report = desk
        .ok(Method::GET, "/api/reports/desk?since=1d", &desk.admin, None)
        .await;
    let totals = &report["totals"];
    assert_eq!(totals["conversations"], h.total, "{totals}");
    assert_eq!(totals["handoffs"], h.handoffs);
    assert_eq!(totals["contained"], h.total - h.handoffs);
    let containment = (h.total - h.handoffs) as f64 / h.total as f64;
    assert!((totals["containment"].as_f64().unwrap() - containment).abs() < 1e-9);
    assert_eq!(totals["served"], 80);
    assert_eq!(totals["lost"], 40);
    assert_eq!(totals["transfers"], 10);
    // 40 waits of 2 minutes and 40 of 5 (plus the few seconds the test itself takes, as the
    // desk clock runs on): nearest-rank p50 is the 40th, p90 the 72nd.
    let about = |field: &str, expected: i64| {
        let value = totals[field].as_i64().unwrap();
        assert!(
            (expected..expected + 10_000).contains(&value),
            "{field}: {value}, expected {expected}"
        );
    };
    about("queue_p50_ms", 120_000);
    about("queue_p90_ms", 300_000);
    about("first_response_p50_ms", 120_000);
    about("first_response_p90_ms", 300_000);
    assert_eq!(totals["ratings"], 30);
    assert_eq!(totals["satisfaction"], 3.0);
    assert_eq!(totals["rating_counts"], json!([6, 6, 6, 6, 6]));
    // Positions 0..80 by position % 8: 0-4 resolved (50), 5-7 no_response (30).
    assert_eq!(
        report["close_reasons"],
        json!({ "no_response": 30, "resolved": 50 })
    );
    let attendants: Vec<(String, u64)> = report["by_attendant"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["key"].as_str().unwrap().to_string(),
                row["conversations"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(attendants, vec![("ana".into(), 30), ("bia".into(), 50)]);
    let languages: u64 = report["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(languages, h.total);
    let days: u64 = report["by_day"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["conversations"].as_u64().unwrap())
        .sum();
    assert_eq!(days, h.total);
    let ana_time = report["attendants_time"]
        .as_array()
        .unwrap()
        .iter()
        .find(|time| time["attendant"] == "ana")
        .cloned()
        .unwrap();
    assert!(ana_time["online_ms"].as_i64().unwrap() > 0, "{ana_time}");

    // The drill-down behind "lost": 40 conversations, figures only.
    let lost = desk
        .ok(
            Method::GET,
            "/api/reports/desk/conversations?since=1d&outcome=lost",
            &desk.admin,
            None,
        )
        .await;
    let lost = lost["conversations"].as_array().unwrap();
    assert_eq!(lost.len(), 40);
    assert!(
        lost.iter()
            .all(|row| row.get("text").is_none() && row["lost"] == true)
    );

    // CSV of a table: a header and one line per attendant.
    let (status, csv) = desk
        .raw(
            Method::GET,
            "/api/reports/desk?since=1d&format=csv&table=attendants",
            &desk.admin,
            "application/json",
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("attendant,conversations,contained"));
    assert!(lines[1].starts_with("ana,30,"));

    // A period that cannot be read is refused with its code.
    let (status, body) = desk
        .call(
            Method::GET,
            "/api/reports/desk?since=yesterday",
            &desk.admin,
            None,
        )
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_period"))
    );
}

#[tokio::test]
async fn the_planted_topic_is_the_first_gap_and_its_texts_teach_an_activity() {
    let h = history().await;
    let desk = &h.desk;
    let manager = desk.token(Role::KnowledgeManager, "kim");
    let gaps = desk
        .ok(Method::GET, "/api/reports/gaps?since=1d", &manager, None)
        .await;
    let first = &gaps["clusters"][0];
    assert_eq!(first["count"], 20, "{gaps:#}");
    assert_eq!(first["language"], "pt-BR");
    assert_eq!(first["reasons"]["fallback"], 20);
    assert_eq!(first["examples"].as_array().unwrap().len(), 5);
    assert!(
        first["examples"]
            .as_array()
            .unwrap()
            .iter()
            .all(|example| BIKE.contains(&example.as_str().unwrap()))
    );
    // The noise is spread over small clusters; greetings and asks for a person are no gaps.
    assert!(
        gaps["clusters"][1]["count"].as_u64().unwrap() <= 3,
        "{gaps:#}"
    );
    // Every noise text is a gap too, but for one the assistant may have answered with
    // articles (an answer no person or ticket followed is no gap).
    let counted: u64 = gaps["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cluster| cluster["count"].as_u64().unwrap())
        .sum();
    assert_eq!(gaps["texts"], counted);
    assert!(counted >= 20 + NOISE.len() as u64 - 2, "{counted}");
    let key = first["key"].as_str().unwrap().to_string();

    // An activity for it, then the same question still falls back...
    desk.ok(
        Method::PUT,
        "/api/knowledge/activities/bike-rack",
        &manager,
        Some(json!({
            "name": { "pt-BR": "Vagas para ciclistas", "es": "Plazas para ciclistas",
                      "en": "Cyclist spaces" },
            "examples": { "pt-BR": ["reservar vaga de ciclista"] },
            "group": "facilities",
        })),
    )
    .await;
    let orchestrator = desk.attendance.orchestrator().clone();
    orchestrator.retrain_if_stale().await.unwrap();
    let question = "o bicicletário está lotado, onde deixo a bicicleta";
    let question_asked = question;
    let before = {
        let token = desk.token(Role::Requester, "after-1");
        let id = open(desk, &token, "pt-BR").await;
        say(desk, &token, &id, question).await
    };
    assert!(
        !text_keys(&before).contains(&"activity_found".to_string()),
        "{before:#}"
    );

    // ...until the cluster's texts are its examples.
    let added = desk
        .ok(
            Method::POST,
            &format!("/api/reports/gaps/{}/examples", encode(&key)),
            &manager,
            Some(json!({ "activity_id": "bike-rack", "since": "1d" })),
        )
        .await;
    // The cluster now also holds the question just asked; the clustering may leave a few
    // of its texts apart as it grows, never take a stranger in.
    let added: Vec<&str> = added["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|text| text.as_str().unwrap())
        .collect();
    assert!(added.len() >= 16, "{added:?}");
    assert!(
        added
            .iter()
            .all(|text| BIKE.contains(text) || *text == question),
        "{added:?}"
    );
    orchestrator.retrain_if_stale().await.unwrap();
    let after = {
        let token = desk.token(Role::Requester, "after-2");
        let id = open(desk, &token, "pt-BR").await;
        say(desk, &token, &id, question).await
    };
    assert!(
        text_keys(&after).contains(&"activity_found".to_string()),
        "{after:#}"
    );

    // A draft article lists the questions; dismissing keeps the cluster, marked.
    let draft = desk
        .ok(
            Method::POST,
            &format!("/api/reports/gaps/{}/draft", encode(&key)),
            &manager,
            Some(json!({ "since": "1d" })),
        )
        .await;
    assert_eq!(draft["language"], "pt-BR");
    let body = draft["body"].as_str().unwrap();
    let questions: Vec<&str> = draft["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|question| question.as_str().unwrap())
        .collect();
    assert!(questions.len() >= 16, "{draft:#}");
    assert!(
        body.starts_with("## Perguntas que este artigo deve responder"),
        "{body}"
    );
    for question in &questions {
        assert!(
            BIKE.contains(question) || *question == question_asked,
            "{question}"
        );
        assert!(body.contains(&format!("- {question}\n")), "{body}");
    }
    let (status, _) = desk
        .call(
            Method::POST,
            &format!("/api/reports/gaps/{}/dismiss", encode(&key)),
            &manager,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let again = desk
        .ok(Method::GET, "/api/reports/gaps?since=1d", &manager, None)
        .await;
    let marked = again["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cluster| cluster["key"] == key.as_str())
        .unwrap();
    assert_eq!(marked["dismissed"], true);
}

fn encode(text: &str) -> String {
    crate::common::encode(text)
}

#[tokio::test]
async fn only_admins_and_knowledge_managers_read_reports() {
    let desk = Desk::new().await;
    let attendant = desk.attendant("ana", "Ana", 5).await;
    let requester = desk.token(Role::Requester, "rafa");
    let analyst = desk.token(Role::Analyst, "ivo");
    let manager = desk.token(Role::KnowledgeManager, "kim");
    let routes = [
        (Method::GET, "/api/reports/desk"),
        (Method::GET, "/api/reports/desk/conversations"),
        (Method::GET, "/api/reports/gaps"),
        (Method::GET, "/api/reports/articles"),
        (Method::POST, "/api/reports/gaps/x/dismiss"),
        (Method::DELETE, "/api/reports/gaps/x/dismiss"),
        (Method::POST, "/api/reports/gaps/x/examples"),
        (Method::POST, "/api/reports/gaps/x/draft"),
    ];
    for (method, route) in routes {
        for token in [&attendant, &requester, &analyst] {
            let (status, body) = desk
                .call(method.clone(), route, token, Some(json!({})))
                .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{method} {route}: {body}");
        }
        let (status, body) = desk.call(method.clone(), route, "", None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {route}: {body}");
        if method == Method::GET {
            for token in [&manager, &desk.admin] {
                let (status, body) = desk.call(method.clone(), route, token, None).await;
                assert_eq!(status, StatusCode::OK, "{method} {route}: {body}");
            }
        }
    }
    // Rating is the requester's own: staff cannot rate.
    let (status, _) = desk
        .call(
            Method::POST,
            "/api/conversations/x/rating",
            &attendant,
            Some(json!({ "rating": 5 })),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_gap_shows_the_article_the_attendant_sent() {
    let (desk, _kb, ana, _bia) = staffed_desk().await;
    let question = "onde fica o bicicletário da empresa";
    let (token, id) = one_text(&desk, "cyclist", "pt-BR", question).await;
    say(&desk, &token, &id, ask_for_person("pt-BR")).await;
    say(&desk, &token, &id, "preciso de uma vaga").await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/capture"),
        &ana,
        None,
    )
    .await;
    // The article's portal address, pasted at the end of a sentence.
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/messages"),
        &ana,
        Some(json!({
            "text": "Veja https://portal.example.com/kb/backup-file-restore?lang=pt-BR."
        })),
    )
    .await;
    desk.ok(
        Method::POST,
        &format!("/api/desk/chats/{id}/messages"),
        &ana,
        Some(json!({ "text": "E também https://portal.example.com/kb/add-network-printer?lang=pt-BR" })),
    )
    .await;
    let manager = desk.token(Role::KnowledgeManager, "kim");
    let gaps = desk
        .ok(Method::GET, "/api/reports/gaps?since=1d", &manager, None)
        .await;
    let cluster = gaps["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|cluster| cluster["examples"][0] == question)
        .unwrap_or_else(|| panic!("the question is a gap: {gaps:#}"));
    assert_eq!(
        cluster["articles_sent"],
        json!({ "backup-file-restore.pt-BR": 1 }),
        "the first article sent counts: {cluster:#}"
    );
    assert_eq!(cluster["unresolved"], 0, "{cluster:#}");
    let (status, csv) = desk
        .raw(
            Method::GET,
            "/api/reports/gaps?since=1d&format=csv",
            &manager,
            "application/json",
            Vec::new(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let csv = String::from_utf8(csv).unwrap();
    assert!(csv.contains("backup-file-restore.pt-BR=1"), "{csv}");
}
