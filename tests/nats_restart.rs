//! A NATS server restarted while events flow: a private `nats-server` with JetStream on a free
//! loopback port (never the shared one), stopped and started again on the same port and store
//! mid-stream. Every publish that returned `Ok` is handled; publishes refused during the outage
//! are retried by the publisher, as an application would; the bus resumes by itself.
//!
//! Run with `cargo test -p tidings-tests --features nats --test nats_restart` (needs the
//! `nats-server` binary on `PATH` or at `/usr/sbin/nats-server`, or `NATS_SERVER`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tidings::{Bus, Subscriber};
use tidings_tests::Ping;

const EVENTS: u32 = 1_000;
/// The server is restarted once this many events were handled.
const RESTART_AFTER: usize = 300;
/// Far beyond what resuming takes (about a second): only a stuck bus reaches it.
const DEADLINE: Duration = Duration::from_secs(90);

fn nats_server() -> PathBuf {
    if let Some(path) = std::env::var_os("NATS_SERVER") {
        return path.into();
    }
    let installed = Path::new("/usr/sbin/nats-server");
    if installed.exists() {
        installed.to_owned()
    } else {
        "nats-server".into()
    }
}

/// A private server: its own port and store, stopped when dropped.
struct PrivateServer {
    port: u16,
    store: tempfile::TempDir,
    process: Child,
}

impl PrivateServer {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let store = tempfile::tempdir().unwrap();
        let process = Self::spawn(port, store.path());
        PrivateServer {
            port,
            store,
            process,
        }
    }

    fn spawn(port: u16, store: &Path) -> Child {
        let process = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
            .arg(store)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {}: {e}; install nats-server or set NATS_SERVER",
                    nats_server().display()
                )
            });
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the private nats-server did not listen on port {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        process
    }

    /// Stops the server the way an operator does (SIGTERM: it flushes its store and leaves)
    /// and starts it again on the same port and store.
    fn restart(&mut self) {
        let stopped = Command::new("kill")
            .args(["-TERM", &self.process.id().to_string()])
            .status()
            .expect("run kill");
        assert!(stopped.success(), "kill -TERM the private nats-server");
        self.process.wait().expect("the server stops");
        self.process = Self::spawn(self.port, self.store.path());
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restart_mid_stream_loses_nothing_acknowledged() {
    let mut server = PrivateServer::start();
    let url = format!("nats://127.0.0.1:{}?namespace=restart", server.port);
    let (handled, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let subscriber = Subscriber::new("stock", move |ping: Arc<Ping>| {
        let handled = handled.clone();
        async move {
            let _ = handled.send(ping.seq);
        }
    });
    let bus = Bus::builder()
        .url(&url)
        .manual()
        .subscribe(subscriber)
        .build()
        .await
        .unwrap();

    // The publisher retries what the bus refused, as an application would; it reports the
    // events whose publish returned `Ok` and how many attempts were refused.
    let publisher = tokio::spawn({
        let bus = bus.clone();
        async move {
            let mut refused = 0;
            for seq in 0..EVENTS {
                while let Err(error) = bus.publish(Ping::new(&format!("k{seq}"), seq)).await {
                    refused += 1;
                    eprintln!("publish of {seq} refused, retrying: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            refused
        }
    });

    let mut times_handled: BTreeMap<u32, u32> = BTreeMap::new();
    let mut restarted = false;
    // The longest wait for the next handled event: the outage as the subscriber saw it.
    let mut longest_pause = Duration::ZERO;
    let mut last_heard = Instant::now();
    let started = Instant::now();
    while times_handled.len() < EVENTS as usize {
        let seq = tokio::time::timeout(DEADLINE, heard.recv())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "nothing handled for {DEADLINE:?}; {} of {EVENTS} handled",
                    times_handled.len()
                )
            })
            .expect("the subscriber lives");
        *times_handled.entry(seq).or_default() += 1;
        longest_pause = longest_pause.max(last_heard.elapsed());
        last_heard = Instant::now();
        if !restarted && times_handled.len() >= RESTART_AFTER {
            tokio::task::block_in_place(|| server.restart());
            restarted = true;
        }
    }
    let refused = publisher.await.unwrap();
    bus.wait_idle().await;
    while let Ok(seq) = heard.try_recv() {
        *times_handled.entry(seq).or_default() += 1;
    }
    bus.shutdown().await.unwrap();

    let duplicates: u32 = times_handled.values().map(|times| times - 1).sum();
    println!(
        "server restarted after {RESTART_AFTER} handled: {EVENTS} published (plus {refused} \
         refused attempts retried), {} handled, 0 lost, {duplicates} handled twice; the longest \
         wait between two handled events was {longest_pause:?}; {:.1} s in all",
        times_handled.len(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(times_handled.len(), EVENTS as usize);
    assert_eq!(
        times_handled.keys().copied().collect::<Vec<_>>(),
        (0..EVENTS).collect::<Vec<_>>()
    );
}
