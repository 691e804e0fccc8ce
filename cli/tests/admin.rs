//! The admin endpoint under hostile requests, over real HTTP and raw TCP: each refusal with its
//! exact status, and the dead letter still there afterwards.

// The shared session helpers; this suite uses a few of them.
#[allow(dead_code)]
mod session;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HOST, ORIGIN};
use session::{Parcel, courier, stderr, stdout};
use tidings::Bus;
use tidings::admin::{AdminOptions, AdminServer, CLIENT_HEADER};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const TOKEN: &str = "full-access-token-0123456789";
const READ_TOKEN: &str = "read-only-token-0123456789";

/// A memory bus whose courier dead-letters one parcel, and its endpoint served with `options`.
async fn one_dead_letter(options: AdminOptions) -> (Bus, AdminServer, String, String) {
    let bus = Bus::builder()
        .manual()
        .subscribe(courier(Arc::new(AtomicBool::new(true))))
        .build()
        .await
        .unwrap();
    bus.publish(Parcel { n: 1 }).await.unwrap();
    bus.wait_idle().await;
    let letters = bus.dead_letters().list().await.unwrap();
    assert_eq!(letters.len(), 1);
    let admin = tidings::admin::serve_with(bus.clone(), "127.0.0.1:0", options)
        .await
        .unwrap();
    let base = format!("http://{}", admin.local_addr());
    (bus, admin, base, letters[0].id.to_string())
}

async fn still_one_letter(bus: &Bus) {
    assert_eq!(bus.dead_letters().list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_cross_site_request_changes_nothing() {
    let (bus, admin, base, id) = one_dead_letter(AdminOptions::new()).await;
    let client = reqwest::Client::new();
    let replay = format!("{base}/v1/dead-letters/{id}/replay");

    // What a form on another site sends: a simple text/plain POST with its Origin.
    let forged = client
        .post(&replay)
        .header(CONTENT_TYPE, "text/plain")
        .header(ORIGIN, "http://evil.example")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    still_one_letter(&bus).await;

    // The same without an Origin (an old browser, a stripped header): no custom header, refused.
    let simple = client
        .post(&replay)
        .header(CONTENT_TYPE, "text/plain")
        .send()
        .await
        .unwrap();
    assert_eq!(simple.status(), StatusCode::FORBIDDEN);
    let message = simple.text().await.unwrap();
    assert!(message.contains("X-Tidings-Client"), "{message}");
    let delete = client
        .delete(format!("{base}/v1/dead-letters/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);
    still_one_letter(&bus).await;

    // A page of another site that sends the header still names its Origin.
    let with_header = client
        .delete(format!("{base}/v1/dead-letters/{id}"))
        .header(CLIENT_HEADER, "1")
        .header(ORIGIN, "http://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(with_header.status(), StatusCode::FORBIDDEN);
    still_one_letter(&bus).await;

    // What the CLI sends passes.
    let discarded = client
        .delete(format!("{base}/v1/dead-letters/{id}"))
        .header(CLIENT_HEADER, "tidings-cli")
        .send()
        .await
        .unwrap();
    assert_eq!(discarded.status(), StatusCode::NO_CONTENT);
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    admin.stop().await;
}

#[tokio::test]
async fn a_foreign_host_name_is_refused() {
    let (bus, admin, base, id) = one_dead_letter(AdminOptions::new()).await;
    let client = reqwest::Client::new();
    let port = admin.local_addr().port();
    // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1.
    for (host, status) in [
        (
            format!("evil.example:{port}"),
            StatusCode::MISDIRECTED_REQUEST,
        ),
        (format!("localhost:{port}"), StatusCode::OK),
        (format!("127.0.0.1:{port}"), StatusCode::OK),
    ] {
        let answer = client
            .get(format!("{base}/v1/dead-letters"))
            .header(HOST, &host)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), status, "{host}");
    }
    let rebound = client
        .post(format!("{base}/v1/dead-letters/{id}/replay"))
        .header(HOST, format!("evil.example:{port}"))
        .header(CLIENT_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(rebound.status(), StatusCode::MISDIRECTED_REQUEST);
    still_one_letter(&bus).await;
    admin.stop().await;
}

#[tokio::test]
async fn tokens_authenticate_and_the_read_only_one_changes_nothing() {
    let options = AdminOptions::new().token(TOKEN).read_only_token(READ_TOKEN);
    let (bus, admin, base, id) = one_dead_letter(options).await;
    let client = reqwest::Client::new();
    let list = format!("{base}/v1/dead-letters");
    let replay = format!("{base}/v1/dead-letters/{id}/replay");

    let anonymous = client.get(&list).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        anonymous.headers()["www-authenticate"],
        "Bearer realm=\"tidings admin\""
    );
    for wrong in [
        "Bearer full-access-token-012345678",
        "Bearer ",
        "Basic Zm9vOmJhcg==",
    ] {
        let answer = client
            .get(&list)
            .header(AUTHORIZATION, wrong)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED, "{wrong}");
    }
    let read = client
        .get(&list)
        .bearer_auth(READ_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);

    let anonymous_replay = client
        .post(&replay)
        .header(CLIENT_HEADER, "1")
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous_replay.status(), StatusCode::UNAUTHORIZED);
    let read_only_replay = client
        .post(&replay)
        .header(CLIENT_HEADER, "1")
        .bearer_auth(READ_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(read_only_replay.status(), StatusCode::FORBIDDEN);
    let read_only_bulk = client
        .post(format!("{base}/v1/dead-letters/discard"))
        .header(CLIENT_HEADER, "1")
        .bearer_auth(READ_TOKEN)
        .json(&serde_json::json!({ "ids": [id] }))
        .send()
        .await
        .unwrap();
    assert_eq!(read_only_bulk.status(), StatusCode::FORBIDDEN);
    still_one_letter(&bus).await;

    let replayed = client
        .post(&replay)
        .header(CLIENT_HEADER, "1")
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::NO_CONTENT);
    bus.wait_idle().await;
    // Replayed, failed again (the van is still broken): a new letter, of a second parcel run.
    let letters = bus.dead_letters().list().await.unwrap();
    assert_eq!(letters.len(), 1);
    assert_ne!(letters[0].id.to_string(), id);
    admin.stop().await;
}

#[tokio::test]
async fn binding_beyond_loopback_needs_a_token() {
    let bus = Bus::builder().manual().build().await.unwrap();
    let error = tidings::admin::serve_with(bus.clone(), "0.0.0.0:0", AdminOptions::new())
        .await
        .unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::PermissionDenied);
    let message = error.to_string();
    assert!(message.contains("0.0.0.0:0"), "{message}");
    assert!(message.contains("TIDINGS_ADMIN_TOKEN"), "{message}");
    let short =
        tidings::admin::serve_with(bus.clone(), "0.0.0.0:0", AdminOptions::new().token("abc"))
            .await
            .unwrap_err();
    assert!(short.to_string().contains("at least 16"), "{short}");
    let served = tidings::admin::serve_with(bus, "0.0.0.0:0", AdminOptions::new().token(TOKEN))
        .await
        .unwrap();
    assert!(served.local_addr().ip().is_unspecified());
    served.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused() {
    let (bus, admin, base, id) = one_dead_letter(AdminOptions::new().body_limit(1024)).await;
    let padding = "x".repeat(4096);
    let answer = reqwest::Client::new()
        .post(format!("{base}/v1/dead-letters/discard"))
        .header(CLIENT_HEADER, "1")
        .json(&serde_json::json!({ "ids": [id], "padding": padding }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::PAYLOAD_TOO_LARGE);
    still_one_letter(&bus).await;
    admin.stop().await;
}

/// Slowloris: connections that never finish their headers, and one that idles after a request,
/// are closed once the header-read timeout passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_sent_requests_are_closed_at_the_header_timeout() {
    const SOCKETS: usize = 200;
    let timeout = Duration::from_secs(1);
    let (_bus, admin, _, _) =
        one_dead_letter(AdminOptions::new().header_read_timeout(timeout)).await;
    let started = Instant::now();
    let mut sockets = Vec::new();
    for _ in 0..SOCKETS {
        let mut socket = tokio::net::TcpStream::connect(admin.local_addr())
            .await
            .unwrap();
        socket
            .write_all(b"GET /v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            .await
            .unwrap();
        sockets.push(socket);
    }
    let mut idle = tokio::net::TcpStream::connect(admin.local_addr())
        .await
        .unwrap();
    idle.write_all(b"GET /v1/stats HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    sockets.push(idle);
    // Each socket's end: the server's close (EOF or reset), whatever the response before it.
    let closes = sockets.into_iter().map(|mut socket| async move {
        let mut buffer = [0; 1024];
        loop {
            match socket.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    });
    // Generous for a loaded 2-core machine; without a timeout they are held for good.
    let bound = Duration::from_secs(20);
    tokio::time::timeout(bound, futures_util::future::join_all(closes))
        .await
        .expect("the server closes every half-sent and idle connection");
    let elapsed = started.elapsed();
    assert!(
        elapsed >= timeout,
        "closed after {elapsed:?}, before the timeout"
    );
    admin.stop().await;
}

/// The CLI passes its token from `--token` or TIDINGS_TOKEN, never prints it, and says what to
/// do when the endpoint wants one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_sends_its_token_and_never_shows_it() {
    let options = AdminOptions::new().token(TOKEN).read_only_token(READ_TOKEN);
    let (bus, admin, base, id) = one_dead_letter(options).await;
    let run = |args: &[&str], token_env: Option<&str>| {
        let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_tidings"));
        command
            .arg("--url")
            .arg(&base)
            .args(args)
            .env_remove("TIDINGS_TOKEN");
        if let Some(token) = token_env {
            command.env("TIDINGS_TOKEN", token);
        }
        async move { command.output().await.unwrap() }
    };

    let without = run(&["dlq", "list"], None).await;
    assert!(!without.status.success());
    let error = stderr(&without);
    assert!(error.contains("401"), "{error}");
    assert!(
        error.contains("--token") && error.contains("TIDINGS_TOKEN"),
        "{error}"
    );

    let wrong = run(
        &["--token", "wrong-token-0123456789abc", "dlq", "list"],
        None,
    )
    .await;
    assert!(!wrong.status.success());
    let error = stderr(&wrong);
    assert!(error.contains("refused the token"), "{error}");
    assert!(!error.contains("wrong-token"), "{error}");

    let listed = run(&["--token", TOKEN, "dlq", "list", "--json"], None).await;
    assert!(listed.status.success(), "{}", stderr(&listed));
    let from_env = run(&["dlq", "list", "--json"], Some(READ_TOKEN)).await;
    assert!(from_env.status.success(), "{}", stderr(&from_env));
    assert_eq!(stdout(&listed), stdout(&from_env));

    let read_only = run(&["dlq", "discard", &id], Some(READ_TOKEN)).await;
    assert!(!read_only.status.success());
    let printed = format!("{}{}", stdout(&read_only), stderr(&read_only));
    assert!(printed.contains("403"), "{printed}");
    assert!(printed.contains("full token"), "{printed}");
    assert!(!printed.contains(READ_TOKEN), "{printed}");
    still_one_letter(&bus).await;

    let discarded = run(&["dlq", "discard", "--all"], Some(TOKEN)).await;
    assert_eq!(
        stdout(&discarded).trim(),
        "discarded 1 of 1 dead letter(s)",
        "{}",
        stderr(&discarded)
    );
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    admin.stop().await;
}

/// `tail ../stats` would be normalised to `/v1/stats`; the name is refused first, and the
/// endpoint refuses such a name too.
#[tokio::test]
async fn an_event_name_that_is_a_path_is_refused() {
    let (_bus, admin, base, _) = one_dead_letter(AdminOptions::new()).await;
    for name in ["../stats", "..", "a/b"] {
        let output = session::tidings(&base, &["tail", name, "--count", "1"]).await;
        assert!(!output.status.success(), "{name}");
        let error = stderr(&output);
        assert!(error.contains("invalid event name"), "{name}: {error}");
    }
    let encoded = reqwest::get(format!("{base}/v1/tail/a%2Fb")).await.unwrap();
    assert_eq!(encoded.status(), StatusCode::BAD_REQUEST);
    admin.stop().await;
}
