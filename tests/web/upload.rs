//! The requester sends files from the widget (issue 18, item 1): with the attach button,
//! by pasting an image and by dropping a file on the chat, each with its upload's progress;
//! the attendant downloads the same bytes and answers with an image the requester sees in
//! the chat, beside the requester's own files shown the same way. A file the server's rules
//! refuse is refused with a sentence in the widget's language: by the server (a type the
//! browser cannot name) or before it is sent (too large, from the rules the widget reads at
//! `/api/widget/config`). The requester downloads the conversation as a text file. In
//! Portuguese on a desktop and in Spanish on a phone, with axe-core on every state visited.

use super::harness::{ATTENDANT, Server, axe, click, eval, screenshot, shown, until, with_ana};
use super::{ana_captures, fall_back_to_a_person, image_shown, open_widget, widget_conversation};
use fantoccini::Client;
use serde_json::{Value, json};

/// Ana goes online and takes the widget's chat; the widget names her.
async fn ana_takes_the_chat(server: &Server, requester: &Client) -> String {
    let conversation = widget_conversation(requester).await;
    ana_captures(server, &conversation).await;
    until(
        requester,
        "Ana in the header",
        "document.querySelector('#ponte-title').textContent === 'Ana'",
    )
    .await;
    conversation
}

/// The attachments of the chat as Ana reads its transcript: (file name, id).
async fn attachments_seen_by_ana(server: &Server, conversation: &str) -> Vec<(String, String)> {
    let transcript = server
        .ok(
            "GET",
            &format!("/api/desk/chats/{conversation}/messages"),
            ATTENDANT,
            None,
        )
        .await;
    transcript["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["sender_kind"] == "requester")
        .filter_map(|m| {
            let attachment = &m["payload"]["attachment"];
            Some((
                attachment["file_name"].as_str()?.to_string(),
                attachment["id"].as_str()?.to_string(),
            ))
        })
        .collect()
}

/// Ana downloads the requester's file `name`.
async fn ana_downloads(server: &Server, conversation: &str, name: &str) -> Vec<u8> {
    let found = attachments_seen_by_ana(server, conversation).await;
    let id = &found
        .iter()
        .find(|(file, _)| file == name)
        .unwrap_or_else(|| panic!("{name} among {found:?}"))
        .1;
    let (status, bytes) = server
        .download(ATTENDANT, &format!("/api/attachments/{id}"))
        .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    bytes
}

/// Records, from now on, every value the widget's upload progress bars take.
async fn watch_progress(client: &Client) {
    eval(
        client,
        "(() => { window.__progress = [];
          new MutationObserver(() => {
            for (const bar of document.querySelectorAll('#ponte-log progress.ponte-progress')) window.__progress.push(bar.value);
          }).observe(document.querySelector('#ponte-log'), { subtree: true, childList: true, attributes: true });
          return true; })()",
    )
    .await;
}

/// A PNG of `width`×`height` drawn in the page, as a `File` named `name` in
/// `window.__file`; answers its bytes.
async fn draw_png(client: &Client, name: &str, width: u32, height: u32) -> Vec<u8> {
    let bytes = client
        .execute_async(
            "const [name, width, height, done] = arguments;
             const canvas = document.createElement('canvas');
             canvas.width = width; canvas.height = height;
             const pen = canvas.getContext('2d');
             pen.fillStyle = '#f4d35e'; pen.fillRect(0, 0, width, height);
             pen.fillStyle = '#0b5cad'; pen.fillRect(10, 10, width / 2, height / 2);
             canvas.toBlob(async (blob) => {
               window.__file = new File([blob], name, { type: 'image/png' });
               done(Array.from(new Uint8Array(await blob.arrayBuffer())));
             }, 'image/png');",
            vec![json!(name), json!(width), json!(height)],
        )
        .await
        .unwrap();
    serde_json::from_value(bytes).unwrap()
}

/// Pastes `window.__file` into the message field, as a screenshot copied to the clipboard.
async fn paste_file(client: &Client) {
    eval(
        client,
        "(() => { const data = new DataTransfer(); data.items.add(window.__file);
          document.querySelector('#ponte-input').dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
          return true; })()",
    )
    .await;
}

/// Drags `window.__file` over the chat (`drop`: and drops it).
async fn drag_file(client: &Client, events: &[&str]) {
    client
        .execute(
            "const events = arguments[0];
             const data = new DataTransfer(); data.items.add(window.__file);
             const log = document.querySelector('#ponte-log');
             for (const type of events) {
               log.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
             }
             return true;",
            vec![json!(events)],
        )
        .await
        .unwrap();
}

/// The requester's last bubble: whether it is failed or pending, and its error text.
async fn last_requester_bubble(client: &Client) -> Value {
    eval(
        client,
        "(() => { const all = document.querySelectorAll('#ponte-log .ponte-from-requester');
          const last = all[all.length - 1];
          const error = last.querySelector('.ponte-error');
          return { failed: last.classList.contains('ponte-failed'), pending: last.classList.contains('ponte-pending'),
                   error: error ? error.textContent : null, text: last.textContent }; })()",
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_requester_sends_files_by_button_paste_and_drop_and_sees_the_attendants_image() {
    let Some((server, driver, requester)) =
        with_ana("a_requester_sends_files_...", 1280, 900, "pt-BR").await
    else {
        return;
    };
    open_widget(&requester, &server).await;
    // Only the assistant answers: nobody to send a file to.
    let attach_shown = eval(
        &requester,
        "getComputedStyle(document.querySelector('#ponte-attach')).display !== 'none'",
    )
    .await;
    assert_eq!(attach_shown, Value::Bool(false));
    fall_back_to_a_person(&requester).await;
    let conversation = ana_takes_the_chat(&server, &requester).await;
    let attach = shown(&requester, "#ponte-attach").await;
    assert_eq!(
        attach.attr("aria-label").await.unwrap().as_deref(),
        Some("Anexar arquivo")
    );

    // The attach button's file picker: a text file of 3 MB, its progress shown as it goes.
    let folder = tempfile::tempdir().unwrap();
    let steps: Vec<u8> = (0..3 * 1024 * 1024)
        .map(|i| b"VPN: reinicie o cliente.\n"[i % 25])
        .collect();
    let steps_path = folder.path().join("passos-vpn.txt");
    std::fs::write(&steps_path, &steps).unwrap();
    watch_progress(&requester).await;
    shown(&requester, "#ponte-attach").await;
    let picker = requester
        .find(fantoccini::Locator::Css("#ponte-file"))
        .await
        .unwrap();
    picker
        .send_keys(steps_path.to_str().unwrap())
        .await
        .unwrap();
    until(
        &requester,
        "the text file sent, as a link",
        "document.querySelector('#ponte-log .ponte-from-requester a.ponte-attachment-link[download=\"passos-vpn.txt\"]')
         && !document.querySelector('#ponte-log .ponte-uploading')",
    )
    .await;
    let progress: Vec<f64> =
        serde_json::from_value(eval(&requester, "window.__progress").await).unwrap();
    assert!(
        progress.iter().any(|value| *value > 0.0),
        "no progress shown: {progress:?}"
    );
    assert_eq!(
        ana_downloads(&server, &conversation, "passos-vpn.txt").await,
        steps,
        "Ana's download differs from the file sent"
    );

    // A screenshot pasted from the clipboard: shown in the chat as an image, as Ana's are.
    let pasted = draw_png(&requester, "captura.png", 120, 80).await;
    paste_file(&requester).await;
    until(
        &requester,
        "the pasted image in the requester's bubble",
        "(() => { const img = document.querySelector('#ponte-log .ponte-from-requester img.ponte-attachment-image[alt=\"captura.png\"]');
                  return img && !img.hidden && img.complete && img.naturalWidth === 120; })()",
    )
    .await;
    assert_eq!(
        ana_downloads(&server, &conversation, "captura.png").await,
        pasted
    );
    // Ana opens it on her console: the requester's image shows in the transcript.
    let ana = driver.browser(1280, 900, "pt-BR").await;
    ana.goto(&server.url("/console")).await.unwrap();
    shown(&ana, "#signin-token")
        .await
        .send_keys(ATTENDANT)
        .await
        .unwrap();
    click(&ana, "#signin-submit").await;
    shown(&ana, "#console").await;
    click(&ana, "#tab-mine").await;
    click(
        &ana,
        &format!("#chat-list li[data-chat-id=\"{conversation}\"]"),
    )
    .await;
    until(
        &ana,
        "the requester's pasted image in Ana's transcript",
        "(() => { const img = document.querySelector('#transcript img.attachment-preview[alt=\"captura.png\"]');
                  return img && img.complete && img.naturalWidth === 120; })()",
    )
    .await;
    // The card's last message names the file after a drawn paperclip, not an emoji that
    // shows as an empty box where there is no emoji font.
    assert_eq!(
        eval(
            &ana,
            &format!(
                "(() => {{ const last = document.querySelector('#chat-list li[data-chat-id=\"{conversation}\"] .chat-item-last');
                    return [last.querySelector('svg.clip-icon') !== null, last.textContent.includes('\\u{{1F4CE}}'), last.textContent.trim()]; }})()"
            )
        )
        .await,
        json!([true, false, "captura.png"])
    );
    screenshot(&ana, "upload-console-sees-image").await;
    axe(&ana, "console with the requester's image").await;

    // Ana answers with an image: the requester sees it.
    let png = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/web/erro.png"),
    )
    .unwrap();
    let (status, sent) = server
        .upload(ATTENDANT, &conversation, "erro.png", "image/png", &png)
        .await;
    assert_eq!(status, 201, "{sent}");
    image_shown(&requester, "Ana's image shown", ".ponte-from-attendant").await;
    let as_text = eval(
        &requester,
        "document.querySelector('#ponte-log').textContent.includes('📎')",
    )
    .await;
    assert_eq!(as_text, Value::Bool(false), "a file shown as text");
    screenshot(&requester, "upload-sent-pt").await;
    axe(
        &requester,
        "the widget with files both ways (desktop, pt-BR)",
    )
    .await;

    // Dragging a file over the chat shows where to drop it.
    eval(
        &requester,
        "(window.__file = new File(['id;valor\\n1;2\\n'], 'dados.xyz', { type: '' }), true)",
    )
    .await;
    drag_file(&requester, &["dragenter", "dragover"]).await;
    let drop_zone = shown(&requester, "#ponte-panel .ponte-drop").await;
    assert_eq!(
        drop_zone.text().await.unwrap(),
        "Solte o arquivo para enviá-lo"
    );
    screenshot(&requester, "upload-drop-pt").await;
    axe(
        &requester,
        "the widget with a file dragged over (desktop, pt-BR)",
    )
    .await;
    // Dropped: a type the browser cannot name goes to the server, whose refusal (415) is
    // told in Portuguese.
    drag_file(&requester, &["drop"]).await;
    until(
        &requester,
        "the server's refusal",
        "document.querySelector('#ponte-log .ponte-from-requester.ponte-failed .ponte-error')",
    )
    .await;
    let refused = last_requester_bubble(&requester).await;
    assert_eq!(
        refused["error"], "Este tipo de arquivo não é aceito.",
        "{refused}"
    );
    assert!(
        refused["text"].as_str().unwrap().contains("dados.xyz"),
        "{refused}"
    );
    let drop_hidden = eval(
        &requester,
        "document.querySelector('#ponte-panel .ponte-drop').hidden",
    )
    .await;
    assert_eq!(drop_hidden, Value::Bool(true));
    let names: Vec<String> = attachments_seen_by_ana(&server, &conversation)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["passos-vpn.txt", "captura.png"]);
    screenshot(&requester, "upload-refused-pt").await;
    axe(
        &requester,
        "the widget with a refused file (desktop, pt-BR)",
    )
    .await;

    requester.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_in_spanish_a_requester_sends_an_image_and_a_too_large_file_is_refused() {
    let Some((server, _driver, phone)) = with_ana(
        "on_a_phone_in_spanish_a_requester_sends_...",
        390,
        844,
        "es-ES",
    )
    .await
    else {
        return;
    };
    open_widget(&phone, &server).await;

    // A screenshot pasted while only the assistant answers: not sent, and said why (once
    // the live feed is open, whose opening clears the notices).
    until(
        &phone,
        "the live feed open",
        "window.PonteWidgetParts.state.socket && window.PonteWidgetParts.state.socket.readyState === 1",
    )
    .await;
    draw_png(&phone, "captura.png", 60, 40).await;
    paste_file(&phone).await;
    let notice = shown(&phone, "#ponte-notice").await;
    assert_eq!(
        notice.text().await.unwrap(),
        "Podrá enviar archivos cuando una persona lo atienda."
    );
    assert_eq!(
        eval(
            &phone,
            "document.querySelectorAll('#ponte-log .ponte-from-requester').length"
        )
        .await,
        json!(0)
    );

    fall_back_to_a_person(&phone).await;
    let conversation = ana_takes_the_chat(&server, &phone).await;

    // The attach button's picker: an image, shown in the requester's own bubble.
    let png = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/web/erro.png");
    shown(&phone, "#ponte-attach").await;
    phone
        .find(fantoccini::Locator::Css("#ponte-file"))
        .await
        .unwrap()
        .send_keys(png.to_str().unwrap())
        .await
        .unwrap();
    until(
        &phone,
        "the requester's image shown",
        "(() => { const img = document.querySelector('#ponte-log .ponte-from-requester img.ponte-attachment-image[alt=\"erro.png\"]');
                  return img && !img.hidden && img.complete && img.naturalWidth === 160; })()",
    )
    .await;
    assert_eq!(
        ana_downloads(&server, &conversation, "erro.png").await,
        std::fs::read(&png).unwrap()
    );
    let fits = eval(
        &phone,
        "document.querySelector('#ponte-log .ponte-from-requester img.ponte-attachment-image').getBoundingClientRect().right <= 390
         && document.documentElement.scrollWidth <= 390",
    )
    .await;
    assert_eq!(fits, Value::Bool(true));
    screenshot(&phone, "upload-sent-phone-es").await;
    axe(&phone, "the widget with the requester's image (phone, es)").await;

    // An image over the 10 MB limit: refused before it is sent, in Spanish, with the limit.
    eval(
        &phone,
        "(window.__file = new File([new Uint8Array(10 * 1024 * 1024 + 1)], 'foto-enorme.png', { type: 'image/png' }), true)",
    )
    .await;
    paste_file(&phone).await;
    until(
        &phone,
        "the refusal",
        "document.querySelector('#ponte-log .ponte-from-requester.ponte-failed .ponte-error')",
    )
    .await;
    let refused = last_requester_bubble(&phone).await;
    assert_eq!(
        refused["error"], "El archivo supera el tamaño permitido. Límite: 10 MB.",
        "{refused}"
    );
    assert!(
        refused["text"]
            .as_str()
            .unwrap()
            .contains("foto-enorme.png"),
        "{refused}"
    );
    let names: Vec<String> = attachments_seen_by_ana(&server, &conversation)
        .await
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["erro.png"], "the refused file reached the server");
    screenshot(&phone, "upload-refused-phone-es").await;
    axe(&phone, "the widget with a refused file (phone, es)").await;

    // The attach button is named in Spanish.
    let attach = shown(&phone, "#ponte-attach").await;
    assert_eq!(
        attach.attr("aria-label").await.unwrap().as_deref(),
        Some("Adjuntar archivo")
    );
    phone.close().await.unwrap();
}
