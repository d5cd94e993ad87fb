//! Staff sign in with a user name and password, in headless Chromium: from the knowledge
//! page's token form a knowledge manager follows the link to /signin, is refused a wrong
//! password in Portuguese, signs in, lands back on the knowledge page working, stays signed
//! in across a reload (the cookie is invisible to scripts), and signs out for good. On a
//! phone, in Spanish, an administrator signs in and lands on the admin page. axe-core on every
//! state.

use super::harness::{
    ADMIN, Driver, Server, axe, click, driver_or_skip, eval, screenshot, shown, until,
};
use fantoccini::{Client, Locator};
use serde_json::json;

async fn account(server: &Server, username: &str, role: &str, password: &str) {
    server
        .ok(
            "PUT",
            &format!("/api/admin/accounts/{username}"),
            ADMIN,
            Some(json!({ "password": password, "role": role, "subject": username })),
        )
        .await;
}

async fn fill(client: &Client, css: &str, text: &str) {
    let field = shown(client, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn text_of(client: &Client, css: &str) -> String {
    eval(
        client,
        &format!("document.querySelector('{css}').textContent"),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knowledge_manager_signs_in_with_a_password_and_out_again_in_portuguese() {
    let Some(path) = driver_or_skip("a_knowledge_manager_signs_in_with_a_password...") else {
        return;
    };
    let server = Server::start().await;
    account(
        &server,
        "bia",
        "knowledge_manager",
        "cavalo correto bateria",
    )
    .await;
    let driver = Driver::start(&path).await;
    let bia = driver.browser(1280, 900, "pt-BR").await;

    bia.goto(&server.url("/knowledge")).await.unwrap();
    shown(&bia, "#signin-password").await;
    assert_eq!(
        text_of(&bia, "#signin-password").await,
        "Entrar com nome de usuário e senha"
    );
    axe(&bia, "knowledge page, signed out, with the password link").await;
    click(&bia, "#signin-password").await;
    until(&bia, "the sign-in page", "location.pathname === '/signin'").await;
    assert_eq!(text_of(&bia, "#heading").await, "Entrar");
    axe(&bia, "sign-in page").await;

    fill(&bia, "#username", "bia").await;
    fill(&bia, "#password", "cavalo errado bateria").await;
    click(&bia, "#submit").await;
    until(
        &bia,
        "the refusal",
        "document.getElementById('error').textContent.length > 0",
    )
    .await;
    assert_eq!(
        text_of(&bia, "#error").await,
        "Nome de usuário ou senha incorretos."
    );
    screenshot(&bia, "signin-refused").await;
    axe(&bia, "sign-in page, wrong password").await;

    fill(&bia, "#password", "cavalo correto bateria").await;
    click(&bia, "#submit").await;
    until(
        &bia,
        "back on the knowledge page",
        "location.pathname === '/knowledge'",
    )
    .await;
    until(
        &bia,
        "the knowledge page signed in",
        "!document.getElementById('knowledge').hidden && document.querySelectorAll('#kb-list li').length > 0",
    )
    .await;
    assert_eq!(
        eval(&bia, "document.cookie.includes('ponte_session')").await,
        json!(false),
        "the session cookie is HttpOnly: no script reads it"
    );
    screenshot(&bia, "signin-knowledge-signed-in").await;
    axe(&bia, "knowledge page, signed in with a password").await;

    // A reload keeps the session (the cookie, nothing in the page's storage).
    bia.refresh().await.unwrap();
    until(
        &bia,
        "still signed in after a reload",
        "!document.getElementById('knowledge').hidden",
    )
    .await;
    assert_eq!(
        eval(&bia, "sessionStorage.length").await,
        json!(0),
        "no token is kept in the page"
    );

    // Signing out ends the session on the server: a reload shows the form.
    click(&bia, "#signout").await;
    until(
        &bia,
        "the form again",
        "!document.getElementById('signin').hidden",
    )
    .await;
    bia.refresh().await.unwrap();
    shown(&bia, "#signin-password").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        eval(&bia, "document.getElementById('knowledge').hidden").await,
        json!(true),
        "signed out for good"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_signs_in_on_a_phone_in_spanish_and_lands_on_the_admin_page() {
    let Some(path) = driver_or_skip("an_administrator_signs_in_on_a_phone...") else {
        return;
    };
    let server = Server::start().await;
    account(&server, "root", "admin", "una contraseña larga").await;
    let driver = Driver::start(&path).await;
    let phone = driver.browser(390, 844, "es").await;
    phone.goto(&server.url("/signin")).await.unwrap();
    assert_eq!(text_of(&phone, "#heading").await, "Iniciar sesión");
    screenshot(&phone, "signin-phone-es").await;
    axe(&phone, "sign-in page on a phone in Spanish").await;
    // An empty form is told what is missing, without a call.
    click(&phone, "#submit").await;
    assert_eq!(
        text_of(&phone, "#error").await,
        "Indique el nombre de usuario y la contraseña."
    );
    fill(&phone, "#username", "root").await;
    fill(&phone, "#password", "una contraseña larga").await;
    click(&phone, "#submit").await;
    until(&phone, "the admin page", "location.pathname === '/admin'").await;
    until(
        &phone,
        "the admin page signed in",
        "!document.getElementById('app').hidden",
    )
    .await;
    phone
        .find(Locator::Css("#signout"))
        .await
        .expect("a sign-out button");
    screenshot(&phone, "signin-phone-admin").await;
    axe(&phone, "admin page signed in with a password, phone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attendant_signs_in_to_the_console_with_a_password_and_its_live_feed_works() {
    let Some(path) = driver_or_skip("an_attendant_signs_in_to_the_console...") else {
        return;
    };
    let server = Server::start().await;
    server.desk_with_ana().await;
    account(&server, "ana.souza", "attendant", "senha da ana 2026").await;
    // The account acts as the desk's person `ana`.
    server
        .ok(
            "PUT",
            "/api/admin/accounts/ana.souza",
            ADMIN,
            Some(json!({ "role": "attendant", "subject": "ana" })),
        )
        .await;
    let driver = Driver::start(&path).await;
    let ana = driver.browser(1280, 900, "en").await;
    ana.goto(&server.url("/console")).await.unwrap();
    click(&ana, "#signin-password").await;
    until(&ana, "the sign-in page", "location.pathname === '/signin'").await;
    fill(&ana, "#username", "ana.souza").await;
    fill(&ana, "#password", "senha da ana 2026").await;
    click(&ana, "#submit").await;
    until(
        &ana,
        "back on the console",
        "location.pathname === '/console'",
    )
    .await;
    until(
        &ana,
        "the console signed in as Ana",
        "!document.getElementById('console').hidden && document.getElementById('user-name').textContent === 'Ana'",
    )
    .await;
    // The staff feed runs on the cookie too: a chat queued now shows in the queue without a
    // reload.
    click(&ana, "#tab-unassigned").await;
    let (status, session) =
        crate::durability::http(server.port, "POST", "/api/widget/session", "", None)
            .await
            .unwrap();
    assert!((200..300).contains(&status), "{session}");
    let guest = session["token"].as_str().unwrap().to_string();
    let (_, opened) = crate::durability::http(
        server.port,
        "POST",
        "/api/conversations",
        &guest,
        Some(json!({ "language": "en", "channel": "web" })),
    )
    .await
    .unwrap();
    let id = opened["conversation"]["id"].as_str().unwrap().to_string();
    for (path, body) in [
        (
            format!("/api/conversations/{id}/messages"),
            json!({ "text": "my badge melted" }),
        ),
        (
            format!("/api/conversations/{id}/options"),
            json!({ "option_id": "talk_to_attendant" }),
        ),
    ] {
        let (status, answer) =
            crate::durability::http(server.port, "POST", &path, &guest, Some(body))
                .await
                .unwrap();
        assert!((200..300).contains(&status), "{answer}");
    }
    until(
        &ana,
        "the queued chat on the list, live",
        &format!("document.querySelector('#chat-list li[data-chat-id=\"{id}\"]') !== null"),
    )
    .await;
    screenshot(&ana, "signin-console").await;
    axe(&ana, "console signed in with a password").await;
    click(&ana, "#signout").await;
    until(
        &ana,
        "the form again",
        "!document.getElementById('signin').hidden",
    )
    .await;
}
