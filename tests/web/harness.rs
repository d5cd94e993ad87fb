//! What the browser tests stand on: the real `ponte serve` binary on a free port with its
//! staff tokens in a tokens file (so they survive a restart), Debian's chromedriver driving
//! headless Chromium, and small waits over WebDriver.
//!
//! Without chromedriver the tests say they were skipped and pass; `.ci/run` installs it and
//! sets `PONTE_E2E=1`, which turns a missing driver into a failure. [`axe`] runs axe-core
//! from the file `PONTE_AXE_JS` names (`.ci/run` installs a pinned version from npm into
//! target/); without it, each check says it was skipped.

use crate::durability::{free_port, http, wait_ready};
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN: &str = "e2e-admin-token";
pub const ATTENDANT: &str = "e2e-attendant-token-ana";
pub const KNOWLEDGE_MANAGER: &str = "e2e-knowledge-manager-token";

/// How long any one thing may take to show in the page.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// The chromedriver to use, or why the browser tests cannot run here.
pub fn chromedriver() -> Result<PathBuf, String> {
    let path = std::env::var_os("CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"));
    if path.exists() {
        Ok(path)
    } else {
        Err(format!("{} not found", path.display()))
    }
}

/// `Some(driver)` when the browser tests can run; otherwise says they were skipped (or
/// fails when `PONTE_E2E=1` asks for them).
pub fn driver_or_skip(test: &str) -> Option<PathBuf> {
    match chromedriver() {
        Ok(path) => Some(path),
        Err(reason) if std::env::var("PONTE_E2E").as_deref() == Ok("1") => {
            panic!("PONTE_E2E=1 but the browser tests cannot run: {reason}")
        }
        Err(reason) => {
            eprintln!(
                "skipped {test}: {reason} (apt-get install chromium chromium-driver, or set CHROMEDRIVER)"
            );
            None
        }
    }
}

/// A server whose desk has Ana online-ready, a browser driver and one browser window of
/// `width`x`height` in `lang`; `None` when the browser tests are skipped (see
/// [`driver_or_skip`]). The driver must outlive the window.
pub async fn with_ana(
    test: &str,
    width: u32,
    height: u32,
    lang: &str,
) -> Option<(Server, Driver, Client)> {
    let path = driver_or_skip(test)?;
    let server = Server::start().await;
    server.desk_with_ana().await;
    let driver = Driver::start(&path).await;
    let window = driver.browser(width, height, lang).await;
    Some((server, driver, window))
}

/// Where screenshots go: kept after the run as the tests' artifacts.
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running `ponte serve`, stopped on drop.
pub struct Server {
    pub port: u16,
    pub data: tempfile::TempDir,
    knowledge: PathBuf,
    /// A config file passed as `PONTE_CONFIG`, when the test needs one.
    config: Option<PathBuf>,
    child: Option<Child>,
}

impl Server {
    /// Starts a server on a copy of the bundled knowledge base (so the knowledge page may
    /// edit it) with the staff tokens in a tokens file.
    pub async fn start() -> Server {
        Server::start_with_config(None).await
    }

    /// [`Server::start`] with a config file of this TOML (e.g. a faster `[bridge_delivery]`).
    pub async fn start_with_config(config: Option<&str>) -> Server {
        let data = tempfile::tempdir().unwrap();
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let knowledge = data.path().join("knowledge-src");
        crate::common::copy_dir(&repo.join("knowledge-index"), &knowledge);
        std::fs::write(
            data.path().join("tokens.toml"),
            format!(
                "[[tokens]]\ntoken = \"{ATTENDANT}\"\nrole = \"attendant\"\nsubject = \"ana\"\n\n\
                 [[tokens]]\ntoken = \"{KNOWLEDGE_MANAGER}\"\nrole = \"knowledge_manager\"\nsubject = \"km\"\n"
            ),
        )
        .unwrap();
        let config = config.map(|text| {
            let path = data.path().join("ponte.toml");
            std::fs::write(&path, text).unwrap();
            path
        });
        let mut server = Server {
            port: free_port(),
            data,
            knowledge,
            config,
            child: None,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut command = Command::new(env!("CARGO_BIN_EXE_ponte"));
        if let Some(config) = &self.config {
            command.env("PONTE_CONFIG", config);
        }
        let child = command
            .arg("serve")
            .env("PONTE_DATA_DIR", self.data.path())
            .env("PONTE_KNOWLEDGE_DIR", &self.knowledge)
            .env("PONTE_INTENTS_DIR", repo.join("intents"))
            .env("PONTE_LISTEN", format!("127.0.0.1:{}", self.port))
            .env("PONTE_ADMIN_TOKEN", ADMIN)
            .env("PONTE_TOKENS_FILE", self.data.path().join("tokens.toml"))
            .env("PONTE_RATE_LIMIT", "0")
            .env("PONTE_LOG", "warn")
            .env_remove("RUST_LOG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ponte serve starts");
        self.child = Some(child);
        wait_ready(self.port).await;
    }

    /// Stops the server (SIGKILL: nothing acknowledged may depend on a clean stop) and
    /// starts it again on the same data and port.
    pub async fn restart(&mut self) {
        self.stop();
        self.spawn().await;
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn knowledge_dir(&self) -> &Path {
        &self.knowledge
    }

    /// An API call that must succeed.
    pub async fn ok(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
        let (status, answer) = http(self.port, method, path, token, body)
            .await
            .unwrap_or_else(|| panic!("{method} {path}: no answer"));
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {answer}"
        );
        answer
    }

    /// Queue routing, one attendant (Ana) who serves web chats.
    pub async fn desk_with_ana(&self) {
        self.ok(
            "PUT",
            "/api/desk/config",
            ADMIN,
            Some(json!({
                "routing": { "default": "queue", "by_group": {} },
                "pause_reasons": ["break", "lunch"],
                "close_reasons": ["resolved", "no_response"],
            })),
        )
        .await;
        self.ok(
            "PUT",
            "/api/desk/people/ana",
            ADMIN,
            Some(
                json!({ "name": "Ana", "kind": "attendant", "groups": ["desk"],
                         "channels": ["web_chat"], "max_chats": 5 }),
            ),
        )
        .await;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Server {
    /// Sends a file in `conversation` as the holder of `token` (raw body, like the console's
    /// attach button); answers the status and the JSON body.
    pub async fn upload(
        &self,
        token: &str,
        conversation: &str,
        name: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> (u16, Value) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let head = format!(
            "POST /api/conversations/{conversation}/attachments?name={name} HTTP/1.1\r\n\
             Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Type: {content_type}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            bytes.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(bytes).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let text = String::from_utf8_lossy(&response).to_string();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        // The body may be chunked: the JSON object is between the first `{` and the last `}`.
        let json = match (body.find('{'), body.rfind('}')) {
            (Some(start), Some(end)) => {
                serde_json::from_str(&body[start..=end]).unwrap_or(Value::Null)
            }
            _ => Value::Null,
        };
        (status, json)
    }
}

impl Server {
    /// Downloads `path` as the holder of `token`: the status and the body's bytes (the
    /// answer is read to the end: `Connection: close`).
    pub async fn download(&self, token: &str, path: &str) -> (u16, Vec<u8>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .unwrap();
        let head = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
             Connection: close\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        let end = response
            .windows(4)
            .position(|window| window == b"\r\n\r\n")
            .expect("an HTTP answer");
        let head = String::from_utf8_lossy(&response[..end]).to_string();
        assert!(
            !head
                .to_ascii_lowercase()
                .contains("transfer-encoding: chunked"),
            "{head}"
        );
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        (status, response[end + 4..].to_vec())
    }
}

/// Runs axe-core (the file `PONTE_AXE_JS` names; `.ci/run` installs a pinned version into
/// target/) on the page as it is now, and fails on any violation, naming each rule and the
/// elements it found. Without `PONTE_AXE_JS` it says that the check was skipped.
pub async fn axe(client: &Client, state: &str) {
    let Some(path) = std::env::var_os("PONTE_AXE_JS") else {
        eprintln!(
            "skipped the axe-core check of {state}: PONTE_AXE_JS is not set (.ci/run installs axe-core and sets it)"
        );
        return;
    };
    let source = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("PONTE_AXE_JS={}: {error}", path.to_string_lossy()));
    // WebDriver's scripts are not the page's: the page's Content-Security-Policy does not
    // stop them.
    client
        .execute(&format!("{source}\n;return typeof axe;"), vec![])
        .await
        .expect("axe-core loads in the page");
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { resultTypes: ['violations'] })
               .then((result) => done(result.violations.map((v) => ({
                 id: v.id, impact: v.impact, help: v.help,
                 targets: v.nodes.map((n) => n.target.join(' ')).slice(0, 5),
               }))))
               .catch((error) => done([{ id: 'axe-error', help: String(error), targets: [] }]));",
            vec![],
        )
        .await
        .expect("axe-core runs");
    let violations = found.as_array().cloned().unwrap_or_default();
    assert!(
        violations.is_empty(),
        "axe-core found {} violation(s) on {state}:\n{}",
        violations.len(),
        violations
            .iter()
            .map(|v| format!(
                "  {} ({}): {} at {}",
                v["id"], v["impact"], v["help"], v["targets"]
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("axe-core: 0 violations on {state}");
}

/// chromedriver on a free port, stopped on drop.
pub struct Driver {
    port: u16,
    child: Child,
}

impl Driver {
    pub async fn start(path: &Path) -> Driver {
        let port = free_port();
        let mut command = Command::new(path);
        command.arg(format!("--port={port}"));
        // CHROMEDRIVER_LOG=<file> keeps the driver's verbose log, to see what a test waited on.
        if let Some(log) = std::env::var_os("CHROMEDRIVER_LOG") {
            command
                .arg("--verbose")
                .arg(format!("--log-path={}", log.to_string_lossy()));
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver { port, child };
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            // chromedriver keeps connections open whatever the request says: a successful
            // connect is the sign it listens.
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start on port {port}");
    }

    /// A new headless Chromium, `width`×`height`, whose language is `lang` (e.g. `en-US`).
    pub async fn browser(&self, width: u32, height: u32, lang: &str) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_string(),
            json!({
                "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string()),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", format!("--lang={lang}"),
                    format!("--window-size={width},{height}"),
                ],
                "prefs": { "intl.accept_languages": lang },
            }),
        );
        // A desktop window cannot be narrower than about 500 px: a phone is emulated.
        if width < 500
            && let Some(Value::Object(options)) = capabilities.get_mut("goog:chromeOptions")
        {
            options.insert(
                "mobileEmulation".to_string(),
                json!({ "deviceMetrics": { "width": width, "height": height, "pixelRatio": 2.0 } }),
            );
        }
        ClientBuilder::rustls()
            .expect("a TLS setup for the WebDriver client")
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The element matching `css`, once it is there and displayed.
pub async fn shown(client: &Client, css: &str) -> Element {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Ok(found) = client.find(Locator::Css(css)).await
            && found.is_displayed().await.unwrap_or(false)
        {
            return found;
        }
        assert!(Instant::now() < deadline, "nothing displayed matches {css}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until `script` (a JavaScript expression) is true in the page.
pub async fn until(client: &Client, what: &str, script: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let value = client
            .execute(&format!("return Boolean({script});"), vec![])
            .await
            .unwrap_or(Value::Bool(false));
        if value == Value::Bool(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {script}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A JavaScript expression's value.
pub async fn eval(client: &Client, script: &str) -> Value {
    client
        .execute(&format!("return ({script});"), vec![])
        .await
        .unwrap_or_else(|error| panic!("{script}: {error}"))
}

/// Saves a screenshot of the page as `name.png` among the artifacts.
pub async fn screenshot(client: &Client, name: &str) -> PathBuf {
    let png = client.screenshot().await.expect("a screenshot");
    let path = artifacts().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

/// Types `text` into the element at `css` and presses Enter.
pub async fn type_and_enter(client: &Client, css: &str, text: &str) {
    let field = shown(client, css).await;
    field.send_keys(text).await.unwrap();
    field.send_keys("\u{E007}").await.unwrap();
}

/// Clicks the element at `css` once it is displayed. A page that re-renders may replace the
/// element between finding and clicking it: then it is found again.
pub async fn click(client: &Client, css: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match shown(client, css).await.click().await {
            Ok(()) => return,
            Err(error) if Instant::now() < deadline => {
                eprintln!("clicking {css} again: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(error) => panic!("clicking {css}: {error}"),
        }
    }
}
