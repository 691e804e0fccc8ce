//! RabbitMQ restarted mid-stream. The test starts a RabbitMQ node of its own on free loopback
//! ports with its data in a temporary directory (the shared broker on 5672 is never touched),
//! publishes a bounded stream of events from concurrent publishers that retry a failed publish
//! as an application would, stops the node half-way through (the whole node, not just its
//! application) and starts it again on the same ports and data. Then:
//!
//! - every event whose `publish` returned `Ok` was handled at least once (none lost);
//! - consumption resumed by itself, within [`RESUME_WITHIN`] of the node being back;
//! - the counts are printed: published, publish errors retried, handled, duplicates, lost.
//!
//! Needs `rabbitmq-server` and `rabbitmqctl` on this machine; run with
//! `cargo test -p tidings-tests --features amqp --test amqp_restart`.

use std::collections::{BTreeSet, HashMap};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tidings::{Bus, Subscriber};
use tidings_tests::Ping;
use tokio::sync::watch;

/// Events published in all.
const EVENTS: u32 = 2000;
/// Concurrent publishers, each publishing every `PUBLISHERS`-th event.
const PUBLISHERS: u32 = 4;
/// The node is restarted once this many events were handled.
const RESTART_AFTER: usize = 500;
/// How soon after the node is back consumption must have resumed, and everything acknowledged
/// must have been handled.
const RESUME_WITHIN: Duration = Duration::from_secs(60);
/// How long a start or stop of the node may take before the test calls it hung.
const NODE_TIMEOUT: Duration = Duration::from_secs(90);

/// Where RabbitMQ's scripts are: as root the ones in `/usr/sbin` re-run themselves as the
/// `rabbitmq` user, which would not see this test's environment; the ones they call do.
fn rabbitmq_command(name: &str) -> Command {
    let direct = Path::new("/usr/lib/rabbitmq/bin").join(name);
    Command::new(if direct.exists() {
        direct
    } else {
        PathBuf::from(name)
    })
}

/// A free loopback port, outside the range RabbitMQ's command line tools take for themselves
/// (35672–35682: the default distribution port plus 10000).
fn free_port(taken: &[u16]) -> u16 {
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        if !(35672..=35682).contains(&port) && !taken.contains(&port) {
            return port;
        }
    }
}

/// A RabbitMQ node of the test's own, stopped when dropped.
struct PrivateNode {
    dir: tempfile::TempDir,
    name: String,
    port: u16,
    dist_port: u16,
    server: Option<Child>,
}

impl PrivateNode {
    fn start() -> PrivateNode {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port(&[]);
        let dist_port = free_port(&[port]);
        let file = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        file(
            "rabbitmq.conf",
            &format!("listeners.tcp.1 = 127.0.0.1:{port}\n"),
        );
        // No plugins (the management plugin would want port 15672), no shared env file.
        file("enabled_plugins", "");
        file("rabbitmq-env.conf", "");
        let mut node = PrivateNode {
            name: format!("tidings-test-{}@localhost", std::process::id()),
            dir,
            port,
            dist_port,
            server: None,
        };
        node.boot();
        node
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    /// `rabbitmqctl -n NODE …`, with the node's Erlang cookie (kept in its directory).
    fn ctl(&self, args: &[&str]) -> std::process::Output {
        rabbitmq_command("rabbitmqctl")
            .env("HOME", self.dir.path())
            .args(["-n", &self.name])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("rabbitmqctl runs")
    }

    /// Starts the node on its ports and data, and returns once it accepts connections.
    fn boot(&mut self) {
        let log = std::fs::File::create(self.path("server.out")).unwrap();
        let server = rabbitmq_command("rabbitmq-server")
            .env("HOME", self.dir.path())
            .env("RABBITMQ_NODENAME", &self.name)
            .env("RABBITMQ_DIST_PORT", self.dist_port.to_string())
            .env("RABBITMQ_CONFIG_FILE", self.path("rabbitmq.conf"))
            .env("RABBITMQ_CONF_ENV_FILE", self.path("rabbitmq-env.conf"))
            .env(
                "RABBITMQ_ENABLED_PLUGINS_FILE",
                self.path("enabled_plugins"),
            )
            .env("RABBITMQ_MNESIA_BASE", self.path("mnesia"))
            .env("RABBITMQ_LOG_BASE", self.path("log"))
            .env("RABBITMQ_PID_FILE", self.path("pid"))
            .env("ERL_EPMD_ADDRESS", "127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("rabbitmq-server starts");
        self.server = Some(server);
        // Waits for the pid file, then for the node's applications: a signal, not a guess.
        let pid_file = self.path("pid");
        let timeout = NODE_TIMEOUT.as_secs().to_string();
        let waited = self.ctl(&["wait", pid_file.to_str().unwrap(), "--timeout", &timeout]);
        assert!(
            waited.status.success(),
            "the private RabbitMQ node did not start: {}\n{}\nserver output:\n{}",
            String::from_utf8_lossy(&waited.stdout),
            String::from_utf8_lossy(&waited.stderr),
            std::fs::read_to_string(self.path("server.out")).unwrap_or_default()
        );
    }

    /// Stops the whole node (its Erlang VM), and returns once its process is gone.
    fn halt(&mut self) {
        let Some(mut server) = self.server.take() else {
            return;
        };
        let stopped = self.ctl(&["stop", self.path("pid").to_str().unwrap()]);
        if !stopped.status.success() {
            eprintln!(
                "rabbitmqctl stop failed ({}); killing the node",
                String::from_utf8_lossy(&stopped.stderr)
            );
            let _ = server.kill();
        }
        server.wait().expect("the node's process ends");
    }

    fn restart(&mut self) {
        self.halt();
        self.boot();
    }
}

impl Drop for PrivateNode {
    fn drop(&mut self) {
        self.halt();
    }
}

/// What the subscriber saw: how often each event was handled, and a running count to wait on.
#[derive(Clone)]
struct Handled {
    times: Arc<Mutex<HashMap<u32, u32>>>,
    count: Arc<watch::Sender<usize>>,
}

impl Handled {
    fn record(&self, seq: u32) {
        *self.times.lock().unwrap().entry(seq).or_default() += 1;
        self.count.send_modify(|count| *count += 1);
    }

    fn seqs(&self) -> BTreeSet<u32> {
        self.times.lock().unwrap().keys().copied().collect()
    }
}

/// Waits until `count` reaches `at_least`, or `timeout` passes.
async fn wait_for(count: &mut watch::Receiver<usize>, at_least: usize, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, count.wait_for(|count| *count >= at_least))
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_when_the_broker_restarts_mid_stream() {
    // `RUST_LOG=lapin=debug,tidings=debug` shows the reconnection.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let started = Instant::now();
    let mut node = tokio::task::spawn_blocking(PrivateNode::start)
        .await
        .unwrap();
    println!("private node {} on port {}", node.name, node.port);

    let (count, mut handled_count) = watch::channel(0);
    let handled = Handled {
        times: Arc::default(),
        count: Arc::new(count),
    };
    // Short broker calls, so that a publish fails (and is retried) soon while the node is down.
    let url = format!("{}?namespace=restart&timeout=2s", node.url());
    let bus = Bus::builder()
        .url(url)
        .manual()
        .subscribe(Subscriber::new("sink", {
            let handled = handled.clone();
            move |ping: Arc<Ping>| {
                handled.record(ping.seq);
                std::future::ready(())
            }
        }))
        .build()
        .await
        .expect("the bus builds on the private node");

    let acknowledged = Arc::new(Mutex::new(BTreeSet::new()));
    let errors = Arc::new(AtomicUsize::new(0));
    let publishers: Vec<_> = (0..PUBLISHERS)
        .map(|publisher| {
            let (bus, acknowledged, errors) = (bus.clone(), acknowledged.clone(), errors.clone());
            tokio::spawn(async move {
                for seq in (publisher..EVENTS).step_by(PUBLISHERS as usize) {
                    let key = format!("key-{}", seq % 32);
                    // As an application would: try again after a failed publish, a little later.
                    while let Err(error) = bus.publish(Ping::new(&key, seq)).await {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            println!("first failed publish (retried): {error}");
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    acknowledged.lock().unwrap().insert(seq);
                }
            })
        })
        .collect();

    assert!(
        wait_for(&mut handled_count, RESTART_AFTER, RESUME_WITHIN).await,
        "the stream did not get going before the restart"
    );
    let restart_begun = Instant::now();
    let before_restart = *handled_count.borrow();
    node = tokio::task::spawn_blocking(move || {
        node.restart();
        node
    })
    .await
    .unwrap();
    let back = Instant::now();
    let handled_at_back = *handled_count.borrow();
    println!(
        "node restarted in {:.1}s, {before_restart} events handled before it went down",
        restart_begun.elapsed().as_secs_f64()
    );

    // Consumption resumes by itself: more events get handled without anything done here.
    assert!(
        wait_for(&mut handled_count, handled_at_back + 1, RESUME_WITHIN).await,
        "consumption did not resume within {RESUME_WITHIN:?} of the node being back"
    );
    let resumed_after = back.elapsed();
    for publisher in publishers {
        tokio::time::timeout(RESUME_WITHIN, publisher)
            .await
            .expect("the publishers finish once the node is back")
            .unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let deadline = back + RESUME_WITHIN;
    let mut caught_up = false;
    while Instant::now() < deadline {
        let remaining = deadline - Instant::now();
        let seen = *handled_count.borrow();
        if acknowledged.is_subset(&handled.seqs()) {
            caught_up = true;
            break;
        }
        // Something is still missing: wait for the next handled event.
        if !wait_for(&mut handled_count, seen + 1, remaining).await {
            break;
        }
    }
    tokio::time::timeout(RESUME_WITHIN, bus.wait_idle())
        .await
        .expect("the bus goes idle");
    let unfinished = bus.shutdown().await;

    let seqs = handled.seqs();
    let lost: Vec<u32> = acknowledged.difference(&seqs).copied().collect();
    let deliveries: u32 = handled.times.lock().unwrap().values().sum();
    let duplicates = deliveries as usize - seqs.len();
    let unacknowledged_handled = seqs.difference(&acknowledged).count();
    println!(
        "restart report: published ok {}, publish errors retried {}, handled {} ({} deliveries), \
         duplicates {duplicates}, handled though their publish failed {unacknowledged_handled}, \
         lost {}; consumption resumed {:.1}s after the node was back; {:.1}s in all",
        acknowledged.len(),
        errors.load(Ordering::Relaxed),
        seqs.len(),
        deliveries,
        lost.len(),
        resumed_after.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    assert_eq!(
        acknowledged.len(),
        EVENTS as usize,
        "every publish succeeded in the end"
    );
    assert!(
        caught_up && lost.is_empty(),
        "acknowledged and never handled: {lost:?}"
    );
    assert!(
        seqs.iter().all(|seq| *seq < EVENTS),
        "only published events are handled"
    );
    unfinished.expect("the bus shuts down cleanly");
    drop(node);
}
