//! A keep-alive connection stays open when a handler takes no body but the client sent one
//! (as `ponte bench fanout` does with `{}` on every capture) and the body's bytes arrive after
//! the request head: the next request on the same connection is answered.

use crate::desk::Desk;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Sends one request whose body follows its head after a pause, and reads the answer:
/// `(status, connection header)`, or what went wrong.
async fn request_with_late_body(
    reader: &mut BufReader<TcpStream>,
    path: &str,
    token: &str,
) -> Result<(u16, String), String> {
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: ponte\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 2\r\n\r\n"
    );
    let stream = reader.get_mut();
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    tokio::time::sleep(Duration::from_millis(150)).await;
    stream.write_all(b"{}").await.map_err(|e| e.to_string())?;
    let mut status_line = String::new();
    reader
        .read_line(&mut status_line)
        .await
        .map_err(|e| e.to_string())?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut length = 0;
    let mut connection = String::new();
    loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .await
            .map_err(|e| e.to_string())?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
            if name.eq_ignore_ascii_case("connection") {
                connection = value.trim().to_ascii_lowercase();
            }
        }
    }
    let mut body = vec![0u8; length];
    reader
        .read_exact(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    Ok((status, connection))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ignored_request_body_does_not_close_the_keep_alive_connection() {
    let desk = Desk::new().await;
    let ana = desk.attendant("ana", "Ana", 3).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = desk.app.clone();
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let stream = TcpStream::connect(address).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream);
    for round in 1..=3 {
        let (status, connection) =
            request_with_late_body(&mut reader, "/api/desk/chats/no-such-chat/capture", &ana)
                .await
                .unwrap_or_else(|error| panic!("request {round} on the connection: {error}"));
        assert!((400..500).contains(&status), "request {round}: {status}");
        assert_ne!(
            connection, "close",
            "request {round}: the server closes the connection"
        );
    }
    server.abort();
}
