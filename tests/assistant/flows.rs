//! Scripted conversations through the orchestrator in pt-BR, es and en.

use super::*;
use ponte::lang::Language;
use ponte::orchestrator::ChatError;
use ponte::store::{Channel, ConversationStatus};

struct Script {
    language: Language,
    article_title: &'static str,
    article_id: &'static str,
    password_problem: &'static str,
    description: &'static str,
    yes: &'static str,
    out_of_scope: &'static str,
}

const SCRIPTS: [Script; 3] = [
    Script {
        language: Language::PtBr,
        article_title: "Conectar-se à VPN corporativa",
        article_id: "vpn-connect.pt-BR",
        password_problem: "esqueci minha senha",
        description: "minha senha expirou e não consigo entrar no computador",
        yes: "sim",
        out_of_scope: "qual vai ser o placar do jogo de domingo",
    },
    Script {
        language: Language::Es,
        article_title: "Conectarse a la VPN corporativa",
        article_id: "vpn-connect.es",
        password_problem: "olvidé mi contraseña",
        description: "mi contraseña caducó y no puedo entrar al ordenador",
        yes: "sí",
        out_of_scope: "quiero reservar una mesa para dos esta noche",
    },
    Script {
        language: Language::En,
        article_title: "Connect to the corporate VPN",
        article_id: "vpn-connect.en",
        password_problem: "i forgot my password",
        description: "my password expired and i cannot log in to my laptop",
        yes: "yes",
        out_of_scope: "tell me a joke about penguins",
    },
];

#[tokio::test]
async fn knowledge_search_lists_opens_views_and_closes_an_article() {
    for script in &SCRIPTS {
        let dir = tempfile::tempdir().unwrap();
        let chat = orchestrator(sqlite(dir.path()).await);
        let who = requester("ana");
        let opened = chat
            .open(&who, Channel::Web, script.language)
            .await
            .unwrap();
        let id = opened.conversation.id.clone();
        let found = chat
            .post(&who, &id, script.article_title, None)
            .await
            .unwrap();
        let option = format!("article:{}", script.article_id);
        assert!(
            offered(&found).contains(&option),
            "{:?}: {:?} offered {:?}",
            script.language,
            script.article_title,
            offered(&found)
        );
        let shown = chat.choose(&who, &id, &option).await.unwrap();
        let card = shown
            .messages
            .iter()
            .filter_map(|m| m.payload.as_ref())
            .find(|p| p["event"] == "show_article")
            .expect("the article is shown");
        let url = card["article"]["url"].as_str().unwrap().to_string();
        assert!(
            url.starts_with("https://portal.example.com/kb/vpn-connect"),
            "{url}"
        );
        assert_eq!(
            offered(&shown),
            vec!["view".to_string(), "close".to_string()]
        );
        let viewed = chat.choose(&who, &id, "view").await.unwrap();
        assert!(
            viewed
                .messages
                .iter()
                .filter_map(|m| m.payload.as_ref())
                .any(|p| p["event"] == "open_url" && p["url"] == url.as_str()),
            "view opens the portal page"
        );
        let closed = chat.choose(&who, &id, "close").await.unwrap();
        assert!(
            closed
                .messages
                .iter()
                .filter_map(|m| m.payload.as_ref())
                .any(|p| p["event"] == "collapse_article"),
            "close collapses the article"
        );
        chat.store().close().await;
    }
}

#[tokio::test]
async fn activity_creates_a_ticket_with_the_defaults_and_queues_the_chat() {
    for script in &SCRIPTS {
        let dir = tempfile::tempdir().unwrap();
        let chat = orchestrator(sqlite(dir.path()).await);
        let who = requester("bruno");
        let opened = chat
            .open(&who, Channel::Web, script.language)
            .await
            .unwrap();
        let id = opened.conversation.id.clone();
        let found = chat
            .post(&who, &id, script.password_problem, None)
            .await
            .unwrap();
        assert_eq!(
            offered(&found),
            vec!["create_ticket".to_string(), "resume_ticket".to_string()],
            "{:?}: {}",
            script.language,
            said(&found)
        );
        let asked = chat.choose(&who, &id, "create_ticket").await.unwrap();
        assert!(
            keys(&asked)
                .iter()
                .any(|k| k.starts_with("ask_description")),
            "{:?}",
            keys(&asked)
        );
        let confirm = chat
            .post(&who, &id, script.description, None)
            .await
            .unwrap();
        assert!(
            said(&confirm).contains(script.description),
            "{}",
            said(&confirm)
        );
        let created = chat.post(&who, &id, script.yes, None).await.unwrap();
        let ticket = chat
            .store()
            .open_tickets_for("bruno")
            .await
            .unwrap()
            .pop()
            .expect("a ticket was opened");
        assert!(
            said(&created).contains(&ticket.number),
            "{}",
            said(&created)
        );
        assert_eq!(ticket.activity_id, "password-reset");
        assert_eq!(ticket.contract, "default");
        assert_eq!(ticket.description, script.description);
        assert!(ticket.tags.contains(&"origem-chat".to_string()));
        assert_eq!(ticket.conversation_id.as_deref(), Some(id.as_str()));
        assert_eq!(created.conversation.status, ConversationStatus::Queued);
        assert_eq!(
            created.conversation.queue_group.as_deref(),
            Some("service-desk")
        );
        chat.store().close().await;
    }
}

#[tokio::test]
async fn fallback_offers_an_attendant_and_resume_then_hands_off_with_a_ticket() {
    for script in &SCRIPTS {
        let dir = tempfile::tempdir().unwrap();
        let chat = orchestrator(sqlite(dir.path()).await);
        let who = requester("carla");
        let opened = chat
            .open(&who, Channel::Web, script.language)
            .await
            .unwrap();
        let id = opened.conversation.id.clone();
        let fallback = chat
            .post(&who, &id, script.out_of_scope, None)
            .await
            .unwrap();
        assert_eq!(
            offered(&fallback),
            vec!["talk_to_attendant".to_string(), "resume_ticket".to_string()],
            "{:?}: {}",
            script.language,
            said(&fallback)
        );
        let handed = chat.choose(&who, &id, "talk_to_attendant").await.unwrap();
        let ticket = chat
            .store()
            .open_tickets_for("carla")
            .await
            .unwrap()
            .pop()
            .unwrap();
        // 317 fills the activity when none was identified; 315 and 316 the rest.
        assert_eq!(ticket.activity_id, "general-request");
        assert_eq!(ticket.group, "service-desk");
        assert_eq!(ticket.description, script.out_of_scope);
        assert!(said(&handed).contains(&ticket.number));
        assert_eq!(handed.conversation.status, ConversationStatus::Queued);
        chat.store().close().await;
    }
}

#[tokio::test]
async fn parameters_fill_new_tickets_and_299_off_refuses_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite(dir.path()).await;
    store.set_parameter("315", "gold").await.unwrap();
    store.set_parameter("316", "level-2").await.unwrap();
    store.set_parameter("317", "other-things").await.unwrap();
    let chat = orchestrator(store.clone());
    let who = requester("dora");
    let opened = chat.open(&who, Channel::Web, Language::En).await.unwrap();
    let id = opened.conversation.id.clone();
    chat.post(&who, &id, "tell me a joke about penguins", None)
        .await
        .unwrap();
    chat.choose(&who, &id, "talk_to_attendant").await.unwrap();
    let ticket = store.open_tickets_for("dora").await.unwrap().pop().unwrap();
    assert_eq!(
        (
            ticket.contract.as_str(),
            ticket.group.as_str(),
            ticket.activity_id.as_str()
        ),
        ("gold", "level-2", "other-things")
    );

    store.set_parameter("299", "off").await.unwrap();
    // Set behind the orchestrator's back (as another node would): seen after a cache flush.
    chat.forget_parameters();
    let refused = chat.open(&who, Channel::Web, Language::PtBr).await;
    match refused {
        Err(ChatError::Machine { error, reply }) => {
            assert_eq!(error.code(), "chat_disabled");
            assert!(reply.is_some_and(|text| !text.is_empty()));
        }
        other => panic!("expected chat_disabled, got {other:?}"),
    }
    store.close().await;
}

#[tokio::test]
async fn requesters_never_see_each_others_tickets_or_conversations() {
    let dir = tempfile::tempdir().unwrap();
    let chat = orchestrator(sqlite(dir.path()).await);
    let alice = requester("alice");
    let bob = requester("bob");

    let (a_id, _) = ticket_by_chat(
        &chat,
        &alice,
        Language::En,
        ["i forgot my password", "locked out since monday", "yes"],
    )
    .await;
    let alice_ticket = chat
        .store()
        .open_tickets_for("alice")
        .await
        .unwrap()
        .pop()
        .unwrap();

    // Bob cannot read or write Alice's conversation.
    assert!(matches!(
        chat.post(&bob, &a_id, "hello", None).await,
        Err(ChatError::NotYours)
    ));

    // Bob's resume lists none of Alice's tickets.
    let b = chat.open(&bob, Channel::Web, Language::En).await.unwrap();
    let b_id = b.conversation.id.clone();
    chat.post(&bob, &b_id, "i forgot my password", None)
        .await
        .unwrap();
    let listed = chat.choose(&bob, &b_id, "resume_ticket").await.unwrap();
    assert!(
        !said(&listed).contains(&alice_ticket.number),
        "{}",
        said(&listed)
    );
    assert!(
        !offered(&listed)
            .iter()
            .any(|o| o.contains(&alice_ticket.number))
    );
    // Typing her number does not attach it either.
    chat.post(&bob, &b_id, "cancel", None).await.unwrap();
    let typed = chat
        .post(
            &bob,
            &b_id,
            &format!("resume ticket {}", alice_ticket.number),
            None,
        )
        .await;
    if let Ok(outcome) = &typed {
        assert!(outcome.conversation.ticket_number.is_none());
    }
    let ticket = chat
        .store()
        .get_ticket(&alice_ticket.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ticket.conversation_id.as_deref(), Some(a_id.as_str()));
    // A forged option id for her ticket is refused.
    let forged = chat
        .choose(&bob, &b_id, &format!("ticket:{}", alice_ticket.number))
        .await;
    assert!(
        forged.is_err(),
        "a ticket option never offered must be refused"
    );
    chat.store().close().await;
}

#[tokio::test]
async fn resume_lists_own_open_tickets_and_reattaches_the_chat() {
    let dir = tempfile::tempdir().unwrap();
    let chat = orchestrator(sqlite(dir.path()).await);
    let who = requester("eva");
    ticket_by_chat(
        &chat,
        &who,
        Language::PtBr,
        ["esqueci minha senha", "senha bloqueada", "sim"],
    )
    .await;
    let ticket = chat
        .store()
        .open_tickets_for("eva")
        .await
        .unwrap()
        .pop()
        .unwrap();

    let second = chat.open(&who, Channel::Web, Language::PtBr).await.unwrap();
    let second_id = second.conversation.id.clone();
    chat.post(&who, &second_id, "esqueci minha senha", None)
        .await
        .unwrap();
    let listed = chat
        .choose(&who, &second_id, "resume_ticket")
        .await
        .unwrap();
    let option = format!("ticket:{}", ticket.number);
    assert!(offered(&listed).contains(&option), "{:?}", offered(&listed));
    let attached = chat.choose(&who, &second_id, &option).await.unwrap();
    assert!(said(&attached).contains(&ticket.number));
    let reloaded = chat
        .store()
        .get_ticket(&ticket.number)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        reloaded.conversation_id.as_deref(),
        Some(second_id.as_str())
    );
    chat.store().close().await;
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let chat = orchestrator(sqlite(dir.path()).await);
    let who = requester("fabio");
    let opened = chat.open(&who, Channel::Web, Language::Es).await.unwrap();
    let id = opened.conversation.id.clone();
    let before = chat.store().get_conversation(&id).await.unwrap().unwrap();

    for (text, code) in [
        ("   \n\t ", "empty_text"),
        (&"a".repeat(100 * 1024)[..], "text_too_long"),
    ] {
        match chat.post(&who, &id, text, None).await {
            Err(ChatError::Machine { error, reply }) => {
                assert_eq!(error.code(), code);
                assert!(reply.is_some(), "a requester-facing reply for {code}");
            }
            other => panic!("expected {code}, got {other:?}"),
        }
    }
    match chat.choose(&who, &id, "never-offered").await {
        Err(error) => assert_eq!(error.code(), "option_not_offered"),
        Ok(_) => panic!("an option never offered must be refused"),
    }
    let after = chat.store().get_conversation(&id).await.unwrap().unwrap();
    assert_eq!(before.machine_state, after.machine_state);
    assert_eq!(
        before.last_seq, after.last_seq,
        "refused input stores no message"
    );

    // Control characters are stripped, the text still understood.
    let cleaned = chat
        .post(&who, &id, "olvidé\u{0007} mi contraseña\u{0000}", None)
        .await
        .unwrap();
    assert_eq!(offered(&cleaned)[0], "create_ticket", "{}", said(&cleaned));
    chat.store().close().await;
}

#[tokio::test]
async fn a_replayed_client_message_id_is_processed_once() {
    let dir = tempfile::tempdir().unwrap();
    let chat = orchestrator(sqlite(dir.path()).await);
    let who = requester("gil");
    let opened = chat.open(&who, Channel::Web, Language::En).await.unwrap();
    let id = opened.conversation.id.clone();
    let first = chat
        .post(&who, &id, "i forgot my password", Some("c-1".into()))
        .await
        .unwrap();
    assert!(!first.duplicate);
    let again = chat
        .post(&who, &id, "i forgot my password", Some("c-1".into()))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(again.messages[0].seq, first.messages[0].seq);
    let all = chat.store().messages_after(&id, 0, 100).await.unwrap();
    let requester_messages = all
        .iter()
        .filter(|m| m.sender_kind == ponte::store::SenderKind::Requester)
        .count();
    assert_eq!(requester_messages, 1);

    // Even once the conversation has finished, the replay is recognised, not refused.
    chat.post(&who, &id, "bye", Some("c-2".into()))
        .await
        .unwrap();
    let replay_after_end = chat
        .post(&who, &id, "i forgot my password", Some("c-1".into()))
        .await
        .unwrap();
    assert!(replay_after_end.duplicate);
    assert_eq!(replay_after_end.messages[0].seq, first.messages[0].seq);
    chat.store().close().await;
}
