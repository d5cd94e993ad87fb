//! The administrators' page (`/admin`) in the browser. In Portuguese on a desktop: a
//! knowledge manager's token is refused, the administrator signs in, adds a person with her
//! groups, channels and maximum chats, writes a quick reply (the API's refusal of a bad
//! shortcut shows under its field) and a macro whose steps are reordered, replaces a close
//! reason, gives it labels in three languages (the API's refusal of a 61-character one shows
//! under its field) and routes a service group manually; the reports page in Spanish then
//! names a chat closed with it by its Spanish label for the administrator and by the
//! built-in name for a knowledge manager, who may not read the desk's configuration, and its
//! nav leads back to the admin page. The administrator issues a token that is shown once and
//! works, then revokes it; each change is read back through the API. In Spanish on a 390×844
//! phone: the lost-chat minutes refuse 0 with the API's reason, the virtual assistant
//! (parameter 423) is turned off, and the next requester's chat opens with the Smart Chat
//! menu instead of the assistant; every section fits the phone, a reason's labels open.
//! axe-core checks every state; every state is saved as a screenshot.

use super::harness::{
    ADMIN, ATTENDANT, Driver, KNOWLEDGE_MANAGER, Server, axe, click, driver_or_skip, eval,
    screenshot, shown, until,
};
use crate::durability::http;
use fantoccini::Client;
use serde_json::{Value, json};

/// Signs in on the admin page open in `client` with `token`.
async fn sign_in(client: &Client, token: &str) {
    let field = shown(client, "#signin-token").await;
    field.clear().await.unwrap();
    field.send_keys(token).await.unwrap();
    click(client, "#signin-submit").await;
}

/// Types `text` into the field at `css`, replacing what it held.
async fn fill(client: &Client, css: &str, text: &str) {
    let field = shown(client, css).await;
    field.clear().await.unwrap();
    if !text.is_empty() {
        field.send_keys(text).await.unwrap();
    }
}

/// Picks the option of value `value` in the select at `css`.
async fn choose(client: &Client, css: &str, value: &str) {
    shown(client, css)
        .await
        .select_by_value(value)
        .await
        .unwrap_or_else(|error| panic!("{css} = {value}: {error}"));
}

/// The text of the element at `css`.
async fn text_of(client: &Client, css: &str) -> String {
    let script = format!("document.querySelector('{css}').textContent");
    eval(client, &script)
        .await
        .as_str()
        .unwrap_or("")
        .to_string()
}

/// Waits until the element at `css` says `text`.
async fn says(client: &Client, css: &str, text: &str) {
    let script = format!(
        "document.querySelector('{css}') && document.querySelector('{css}').textContent.trim() === {}",
        json!(text)
    );
    until(client, &format!("{css} to say {text:?}"), &script).await;
}

/// A guest's chat that Ana, online, takes and closes with `reason`.
async fn closed_by_ana(server: &Server, reason: &str) {
    let online = json!({ "channel": "web_chat", "state": "online" });
    server
        .ok("PUT", "/api/desk/presence", ATTENDANT, Some(online))
        .await;
    let session = server.ok("POST", "/api/widget/session", "", None).await;
    let guest = session["token"]
        .as_str()
        .expect("a guest token")
        .to_string();
    let opened = json!({ "language": "pt-BR", "channel": "web" });
    let opened = server
        .ok("POST", "/api/conversations", &guest, Some(opened))
        .await;
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/conversations/{id}/messages");
    for text in [
        "quero falar com um atendente",
        "minha conta precisa de ajuda",
    ] {
        server
            .ok("POST", &path, &guest, Some(json!({ "text": text })))
            .await;
    }
    for (action, body) in [
        ("capture", None),
        ("close", Some(json!({ "reason": reason }))),
    ] {
        let path = format!("/api/desk/chats/{id}/{action}");
        server.ok("POST", &path, ATTENDANT, body).await;
    }
}

/// The names in the first column of the reports page's close reasons table.
async fn close_reasons_shown(client: &Client) -> Value {
    eval(
        client,
        "Array.from(document.querySelectorAll('section[data-csv-table=\"close_reasons\"] tbody th')).map(th => th.textContent)",
    )
    .await
}

/// Nothing on the page is wider than the screen.
async fn fits_the_phone(client: &Client) {
    let width = eval(client, "document.documentElement.scrollWidth").await;
    assert!(
        width.as_f64().unwrap() <= 390.0,
        "the page scrolls sideways: {width}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_portuguese_the_admin_sets_up_people_replies_macros_reasons_and_tokens() {
    let Some(path) = driver_or_skip("in_portuguese_the_admin_sets_up_...") else {
        return;
    };
    let server = Server::start().await;
    server.desk_with_ana().await;
    let driver = Driver::start(&path).await;
    let admin = driver.browser(1280, 900, "pt-BR").await;
    admin.goto(&server.url("/admin")).await.unwrap();

    // The same sign-in as the other staff pages, in Portuguese; only an administrator passes.
    shown(&admin, "#signin-token").await;
    assert_eq!(text_of(&admin, "#signin-heading").await, "Entrar");
    axe(&admin, "admin sign-in (pt-BR)").await;
    sign_in(&admin, KNOWLEDGE_MANAGER).await;
    says(
        &admin,
        "#signin-error",
        "Este token de acesso não é de um administrador: só administradores usam esta página.",
    )
    .await;
    axe(&admin, "admin sign-in refused (pt-BR)").await;
    sign_in(&admin, ADMIN).await;
    shown(&admin, "#person-form").await;
    let people = eval(
        &admin,
        "Array.from(document.querySelectorAll('#people-list li')).map(li => li.dataset.personId)",
    )
    .await;
    assert_eq!(people, json!(["ana"]));

    // A person with her groups, channels and maximum chats.
    fill(&admin, "#person-id", "bia").await;
    fill(&admin, "#person-name", "Bia Souza").await;
    choose(&admin, "#person-kind", "analyst").await;
    fill(&admin, "#person-groups", "desk, rede").await;
    click(&admin, "#person-channel-whatsapp").await;
    fill(&admin, "#person-max", "4").await;
    click(&admin, "#person-form button[type=submit]").await;
    says(
        &admin,
        "#person-form .ad-form-status",
        "Pessoa salva: Bia Souza.",
    )
    .await;
    shown(&admin, "#people-list li[data-person-id=\"bia\"]").await;
    let listed = server.ok("GET", "/api/desk/people", ADMIN, None).await;
    let bia = listed["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|person| person["id"] == "bia")
        .expect("Bia in the desk");
    assert_eq!(bia["name"], "Bia Souza");
    assert_eq!(bia["kind"], "analyst");
    assert_eq!(bia["groups"], json!(["desk", "rede"]));
    assert_eq!(bia["max_chats"], 4);
    let mut channels: Vec<&String> = bia["channels"].as_object().unwrap().keys().collect();
    channels.sort();
    assert_eq!(channels, ["web_chat", "whatsapp"]);
    // Now the form edits her: the id is fixed, the heading says whom.
    assert_eq!(
        text_of(&admin, "#person-form-heading").await,
        "Editar Bia Souza"
    );
    assert_eq!(
        eval(&admin, "document.querySelector('#person-id').readOnly").await,
        json!(true)
    );
    screenshot(&admin, "admin-people").await;
    axe(&admin, "admin people, a person saved (pt-BR)").await;

    // A quick reply: the API refuses a shortcut with capitals, in the reader's words, under
    // the field; the corrected one is saved.
    click(&admin, ".ad-tabs a[href=\"#replies\"]").await;
    shown(&admin, "#quick-form").await;
    until(
        &admin,
        "the replies link marked current",
        "document.querySelector('.ad-tabs a[href=\"#replies\"]').getAttribute('aria-current') === 'true' && document.querySelector('#people').hidden",
    )
    .await;
    fill(&admin, "#quick-shortcut", "Bom-Dia").await;
    fill(&admin, "#quick-text-pt", "Bom dia! Como posso ajudar?").await;
    fill(
        &admin,
        "#quick-text-es",
        "¡Buenos días! ¿En qué le puedo ayudar?",
    )
    .await;
    click(&admin, "#quick-form button[type=submit]").await;
    says(
        &admin,
        "#quick-shortcut-error",
        "Atalho inválido: use letras minúsculas, dígitos, - e _.",
    )
    .await;
    assert_eq!(
        eval(
            &admin,
            "[document.querySelector('#quick-shortcut').getAttribute('aria-invalid'), document.activeElement.id, document.querySelector('#quick-shortcut').getAttribute('aria-describedby')]"
        )
        .await,
        json!(["true", "quick-shortcut", "quick-shortcut-hint quick-shortcut-error"])
    );
    let replies = server
        .ok("GET", "/api/desk/quick-replies", ADMIN, None)
        .await;
    assert_eq!(replies["quick_replies"], json!([]), "nothing was stored");
    screenshot(&admin, "admin-quick-reply-refused").await;
    axe(&admin, "admin quick reply refused (pt-BR)").await;
    fill(&admin, "#quick-shortcut", "bom-dia").await;
    click(&admin, "#quick-form button[type=submit]").await;
    says(
        &admin,
        "#quick-form .ad-form-status",
        "Resposta rápida salva: /bom-dia.",
    )
    .await;
    let replies = server
        .ok("GET", "/api/desk/quick-replies", ADMIN, None)
        .await;
    assert_eq!(
        replies["quick_replies"],
        json!([{
            "shortcut": "/bom-dia",
            "texts": { "es": "¡Buenos días! ¿En qué le puedo ayudar?", "pt-BR": "Bom dia! Como posso ajudar?" },
            "owner": null,
        }])
    );

    // A macro of three steps; the tag step is moved first.
    fill(&admin, "#macro-id", "encerrar-vpn").await;
    fill(&admin, "#macro-name", "Encerrar VPN").await;
    click(&admin, "#macro-add-step").await;
    choose(&admin, "#macro-step-1-action", "send_quick_reply").await;
    choose(&admin, "#macro-step-1-value", "/bom-dia").await;
    click(&admin, "#macro-add-step").await;
    fill(&admin, "#macro-step-2-value", "vpn").await;
    click(&admin, "#macro-add-step").await;
    choose(&admin, "#macro-step-3-action", "close").await;
    choose(&admin, "#macro-step-3-value", "resolved").await;
    click(&admin, "button[aria-label=\"Subir o passo 2\"]").await;
    until(
        &admin,
        "the moved step keeps the focus",
        "document.activeElement && document.activeElement.getAttribute('aria-label') === 'Subir o passo 1' || document.activeElement.id === 'macro-step-1-action'",
    )
    .await;
    click(&admin, "#macro-form button[type=submit]").await;
    says(
        &admin,
        "#macro-form .ad-form-status",
        "Macro salva: Encerrar VPN.",
    )
    .await;
    let macros = server.ok("GET", "/api/desk/macros", ADMIN, None).await;
    assert_eq!(
        macros["macros"],
        json!([{
            "id": "encerrar-vpn",
            "name": "Encerrar VPN",
            "actions": [
                { "action": "tag", "tag": "vpn" },
                { "action": "send_quick_reply", "shortcut": "/bom-dia" },
                { "action": "close", "reason": "resolved" },
            ],
        }])
    );
    let steps = eval(
        &admin,
        "Array.from(document.querySelectorAll('#macros-list li[data-macro-id=\"encerrar-vpn\"] .ad-item-steps li')).map(li => li.textContent)",
    )
    .await;
    assert_eq!(
        steps,
        json!(["etiquetar vpn", "enviar /bom-dia", "finalizar: resolved"])
    );
    screenshot(&admin, "admin-replies").await;
    axe(&admin, "admin quick reply and macro saved (pt-BR)").await;

    // The close reasons: one replaced by another, which gets its labels; a service group
    // routed manually.
    click(&admin, ".ad-tabs a[href=\"#desk\"]").await;
    shown(&admin, "#desk-form").await;
    click(
        &admin,
        "#close-list button[aria-label=\"Remover no_response\"]",
    )
    .await;
    fill(&admin, "#close-new", "sem_retorno").await;
    click(&admin, "#close-add").await;
    click(&admin, "#routing-add").await;
    fill(&admin, "#routing-group-1", "rede").await;
    choose(&admin, "#routing-mode-1", "manual").await;
    let chip = "#close-list li[data-key=\"close:sem_retorno\"]";
    let toggle = format!("{chip} button.ad-chip-labels");
    assert_eq!(
        text_of(&admin, &toggle).await,
        "Rótulos de sem_retorno",
        "the button names its reason"
    );
    click(&admin, &toggle).await;
    shown(&admin, "#close-label-2-pt-BR").await;
    assert_eq!(
        eval(
            &admin,
            &format!("document.querySelector('{chip} button.ad-chip-labels').getAttribute('aria-expanded')")
        )
        .await,
        json!("true")
    );
    fill(&admin, "#close-label-2-pt-BR", "Sem retorno").await;
    fill(&admin, "#close-label-2-es", "Sin respuesta").await;
    // One character too many: the API refuses the whole form, its reason under the field.
    let too_long = "No answer from the requester after three reminders, so closed";
    assert_eq!(too_long.chars().count(), 61);
    fill(&admin, "#close-label-2-en", too_long).await;
    click(&admin, "#desk-form button[type=submit]").await;
    says(
        &admin,
        "#close-label-2-en-error",
        "Um rótulo tem de 1 a 60 caracteres.",
    )
    .await;
    assert_eq!(
        eval(
            &admin,
            "[document.querySelector('#close-label-2-en').getAttribute('aria-invalid'), document.activeElement.id, document.querySelector('#close-label-2-en').getAttribute('aria-describedby')]"
        )
        .await,
        json!(["true", "close-label-2-en", "close-labels-2-hint close-label-2-en-error"])
    );
    let config = server.ok("GET", "/api/desk/config", ADMIN, None).await;
    assert_eq!(
        config["close_reasons"],
        json!(["resolved", "no_response"]),
        "nothing was stored"
    );
    assert_eq!(config["reason_labels"], json!({}));
    screenshot(&admin, "admin-reason-label-refused").await;
    axe(&admin, "admin reason label refused (pt-BR)").await;
    fill(&admin, "#close-label-2-en", "No answer").await;
    click(&admin, "#desk-form button[type=submit]").await;
    says(
        &admin,
        "#desk-form .ad-form-status",
        "Roteamento e motivos salvos.",
    )
    .await;
    let config = server.ok("GET", "/api/desk/config", ADMIN, None).await;
    assert_eq!(config["close_reasons"], json!(["resolved", "sem_retorno"]));
    assert_eq!(config["pause_reasons"], json!(["break", "lunch"]));
    assert_eq!(
        config["routing"],
        json!({ "default": "queue", "by_group": { "rede": "manual" } })
    );
    assert_eq!(
        config["reason_labels"],
        json!({ "sem_retorno": { "pt-BR": "Sem retorno", "es": "Sin respuesta", "en": "No answer" } })
    );
    // The chip shows the label in the reader's language; the saved labels stay in view.
    says(&admin, &format!("{chip} .ad-chip-label"), "Sem retorno").await;
    shown(&admin, "#close-label-2-en").await;
    screenshot(&admin, "admin-desk").await;
    axe(&admin, "admin routing, reasons and labels saved (pt-BR)").await;

    // The reports page in Spanish: a chat closed as sem_retorno. A knowledge manager may not
    // read the desk's configuration: the built-in name, and no error; the administrator
    // reads the Spanish label. Its nav leads to the admin page, signed in with the same token.
    closed_by_ana(&server, "sem_retorno").await;
    let reader = driver.browser(1280, 900, "es-ES").await;
    reader.goto(&server.url("/reports")).await.unwrap();
    sign_in(&reader, KNOWLEDGE_MANAGER).await;
    shown(&reader, "section[data-csv-table=\"close_reasons\"]").await;
    assert_eq!(close_reasons_shown(&reader).await, json!(["Sem retorno"]));
    assert_eq!(
        eval(
            &reader,
            "document.querySelector('#status').classList.contains('rp-error')"
        )
        .await,
        json!(false),
        "{}",
        text_of(&reader, "#status").await
    );
    click(&reader, "#signout").await;
    sign_in(&reader, ADMIN).await;
    shown(&reader, "section[data-csv-table=\"close_reasons\"]").await;
    assert_eq!(close_reasons_shown(&reader).await, json!(["Sin respuesta"]));
    eval(
        &reader,
        "document.querySelector('section[data-csv-table=\"close_reasons\"]').scrollIntoView({ block: 'center' })",
    )
    .await;
    screenshot(&reader, "admin-reports-reason-label-es").await;
    axe(&reader, "reports with a reason's label (es)").await;
    click(&reader, ".rp-nav a[href=\"/admin\"]").await;
    shown(&reader, "#person-form").await;
    assert_eq!(text_of(&reader, ".ad-brand-sub").await, "Administración");
    reader.close().await.unwrap();

    // A token for Bia, shown once with a copy button; it works.
    click(&admin, ".ad-tabs a[href=\"#tokens\"]").await;
    shown(&admin, "#token-form").await;
    choose(&admin, "#token-role", "analyst").await;
    fill(&admin, "#token-subject", "bia").await;
    choose(&admin, "#token-expiry", "30").await;
    click(&admin, "#token-form button[type=submit]").await;
    shown(&admin, "#issued").await;
    let secret = eval(&admin, "document.querySelector('#issued-token').value").await;
    let secret = secret.as_str().unwrap().to_string();
    assert_eq!(secret.len(), 64, "{secret}");
    assert_eq!(
        text_of(&admin, "#issued-note").await,
        "O token de bia. Copie agora: ele não será mostrado de novo."
    );
    click(&admin, "#issued-copy").await;
    says(
        &admin,
        "#issued-copy-status",
        "Copiado para a área de transferência.",
    )
    .await;
    let presence = server.ok("GET", "/api/desk/presence", &secret, None).await;
    assert_eq!(presence["id"], "bia");
    let tokens = server.ok("GET", "/api/admin/tokens", ADMIN, None).await;
    let issued = tokens["tokens"].as_array().unwrap();
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0]["role"], "analyst");
    assert_eq!(issued[0]["subject"], "bia");
    let lifetime =
        issued[0]["expires_at"].as_i64().unwrap() - issued[0]["created_at"].as_i64().unwrap();
    // Whole days, rounded: the expiry is reckoned a moment before the token is stored.
    assert_eq!((lifetime + 43_200_000) / 86_400_000, 30, "{lifetime} ms");
    screenshot(&admin, "admin-token-issued").await;
    axe(&admin, "admin token issued (pt-BR)").await;
    click(&admin, "#issued-done").await;
    until(
        &admin,
        "the secret gone from the page",
        &format!(
            "document.querySelector('#issued').hidden && !document.documentElement.outerHTML.includes({}) && document.querySelector('#issued-token').value === ''",
            json!(secret)
        ),
    )
    .await;

    // Revoking asks first; then Bia's token is refused.
    let token_id = issued[0]["id"].as_str().unwrap();
    click(
        &admin,
        &format!("#tokens-list li[data-token-id=\"{token_id}\"] button"),
    )
    .await;
    says(
        &admin,
        &format!("#tokens-list li[data-token-id=\"{token_id}\"] .ad-ask"),
        "Revogar o token de bia? Quem o usa é recusado na hora.",
    )
    .await;
    screenshot(&admin, "admin-token-revoke-asked").await;
    axe(&admin, "admin revoke asked (pt-BR)").await;
    click(
        &admin,
        &format!("#tokens-list li[data-token-id=\"{token_id}\"] button.danger"),
    )
    .await;
    says(&admin, "#status", "O token de bia foi revogado.").await;
    shown(&admin, "#tokens-empty").await;
    let (status, _) = http(server.port, "GET", "/api/desk/presence", &secret, None)
        .await
        .expect("an answer");
    assert_eq!(status, 401, "the revoked token still works");
    let tokens = server.ok("GET", "/api/admin/tokens", ADMIN, None).await;
    assert_eq!(tokens["tokens"], json!([]));
    axe(&admin, "admin token revoked (pt-BR)").await;

    // A reload keeps the session and the section.
    admin.refresh().await.unwrap();
    shown(&admin, "#token-form").await;
    assert_eq!(
        eval(&admin, "document.querySelector('#signin').hidden").await,
        Value::Bool(true)
    );
    // Signing out leaves nothing of the session in the tab, not even in hidden lists.
    click(&admin, "#signout").await;
    shown(&admin, "#signin-token").await;
    assert_eq!(
        eval(
            &admin,
            "[sessionStorage.getItem('ponte.token'), document.querySelectorAll('#app li.ad-item').length]"
        )
        .await,
        json!([null, 0])
    );
    admin.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_in_spanish_the_admin_turns_the_assistant_off_and_the_next_chat_obeys() {
    let Some(path) = driver_or_skip("on_a_phone_in_spanish_the_admin_...") else {
        return;
    };
    let server = Server::start().await;
    // Before: a chat opens with the virtual assistant.
    let session = server.ok("POST", "/api/widget/session", "", None).await;
    let guest = session["token"].as_str().unwrap().to_string();
    let opened = server
        .ok(
            "POST",
            "/api/conversations",
            &guest,
            Some(json!({ "language": "es", "channel": "web" })),
        )
        .await;
    assert!(
        opened["messages"].to_string().contains("Soy Ponte"),
        "{opened}"
    );

    let driver = Driver::start(&path).await;
    let admin = driver.browser(390, 844, "es-ES").await;
    admin.goto(&server.url("/admin#parameters")).await.unwrap();
    shown(&admin, "#signin-token").await;
    assert_eq!(text_of(&admin, "#signin-heading").await, "Iniciar sesión");
    fits_the_phone(&admin).await;
    screenshot(&admin, "admin-phone-signin").await;
    axe(&admin, "admin sign-in (phone, es)").await;
    sign_in(&admin, ADMIN).await;

    // The address named the section: the parameters show, with the stored values.
    shown(&admin, "#parameters-form").await;
    assert_eq!(
        eval(
            &admin,
            "[document.querySelector('#param-423').checked, document.querySelector('#param-mode-both').checked, document.querySelector('#param-lost_chat_minutes').value]"
        )
        .await,
        json!([true, true, "30"])
    );
    fits_the_phone(&admin).await;
    screenshot(&admin, "admin-phone-parameters").await;
    axe(&admin, "admin parameters (phone, es)").await;

    // 0 minutes is refused by the API: its reason shows under the field, nothing is stored.
    fill(&admin, "#param-lost_chat_minutes", "0").await;
    click(&admin, "#parameters-form button[type=submit]").await;
    says(
        &admin,
        "#param-lost_chat_minutes-error",
        "Valor no válido para este parámetro.",
    )
    .await;
    says(
        &admin,
        "#parameters-form .ad-form-status",
        "0 guardados; los campos marcados abajo no.",
    )
    .await;
    assert_eq!(
        eval(
            &admin,
            "[document.querySelector('#param-lost_chat_minutes').getAttribute('aria-invalid'), document.activeElement.id]"
        )
        .await,
        json!(["true", "param-lost_chat_minutes"])
    );
    fits_the_phone(&admin).await;
    screenshot(&admin, "admin-phone-parameter-refused").await;
    axe(&admin, "admin parameter refused (phone, es)").await;

    // The assistant off and 45 minutes: both stored.
    fill(&admin, "#param-lost_chat_minutes", "45").await;
    click(&admin, "#param-423").await;
    click(&admin, "#parameters-form button[type=submit]").await;
    says(
        &admin,
        "#parameters-form .ad-form-status",
        "2 parámetros guardados.",
    )
    .await;
    let parameters = server.ok("GET", "/api/admin/parameters", ADMIN, None).await;
    let value = |key: &str| {
        parameters["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["key"] == key)
            .map(|parameter| parameter["value"].clone())
            .unwrap()
    };
    assert_eq!(value("423"), "off");
    assert_eq!(value("lost_chat_minutes"), "45");
    assert_eq!(
        value("chat_mode"),
        "both",
        "an unchanged value is not written"
    );
    screenshot(&admin, "admin-phone-parameters-saved").await;
    axe(&admin, "admin parameters saved (phone, es)").await;

    // The next requester's chat opens without the assistant: the Smart Chat menu.
    let requester = driver.browser(390, 844, "es-ES").await;
    requester.goto(&server.url("/")).await.unwrap();
    click(&requester, "#ponte-talk").await;
    shown(
        &requester,
        "#ponte-log .ponte-option[data-option=\"create_ticket\"]",
    )
    .await;
    let log = text_of(&requester, "#ponte-log").await;
    assert!(log.contains("¿En qué podemos ayudarle?"), "{log}");
    assert!(!log.contains("Soy Ponte"), "{log}");
    let options = eval(
        &requester,
        "Array.from(document.querySelectorAll('#ponte-log .ponte-option')).map(o => o.dataset.option)",
    )
    .await;
    assert_eq!(
        options,
        json!(["create_ticket", "search_activity", "search_knowledge"])
    );
    screenshot(&requester, "admin-phone-chat-without-assistant").await;
    axe(&requester, "the widget without the assistant (phone, es)").await;

    // The token section on the phone: a new token's panel fits the screen.
    click(&admin, ".ad-tabs a[href=\"#tokens\"]").await;
    fill(&admin, "#token-subject", "rosa").await;
    choose(&admin, "#token-role", "requester").await;
    click(&admin, "#token-form button[type=submit]").await;
    shown(&admin, "#issued").await;
    says(
        &admin,
        "#token-form .ad-form-status",
        "Token emitido para rosa.",
    )
    .await;
    fits_the_phone(&admin).await;
    screenshot(&admin, "admin-phone-token").await;
    axe(&admin, "admin token issued (phone, es)").await;

    // The other sections fit the phone too (a macro step drawn, the routing rows).
    for (section, form) in [
        ("people", "#person-form"),
        ("replies", "#macro-form"),
        ("desk", "#desk-form"),
    ] {
        click(&admin, &format!(".ad-tabs a[href=\"#{section}\"]")).await;
        shown(&admin, form).await;
        if section == "replies" {
            click(&admin, "#macro-add-step").await;
            choose(&admin, "#macro-step-1-action", "send_quick_reply").await;
        }
        if section == "desk" {
            click(&admin, "#routing-add").await;
            click(&admin, "#close-list li:first-child button.ad-chip-labels").await;
            shown(&admin, "#close-label-1-es").await;
            eval(
                &admin,
                "document.querySelector('#close-labels-1').scrollIntoView({ block: 'center' })",
            )
            .await;
        }
        fits_the_phone(&admin).await;
        screenshot(&admin, &format!("admin-phone-{section}")).await;
        axe(&admin, &format!("admin {section} (phone, es)")).await;
    }
    for client in [admin, requester] {
        client.close().await.unwrap();
    }
}
