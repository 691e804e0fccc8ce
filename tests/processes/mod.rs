//! Instances of one group as separate OS processes on a broker (`tests/bin/group_member.rs`):
//! they share the group's work without loss or duplicates, and when one is killed with SIGKILL
//! mid-handler the others finish its work. Each broker suite runs them with
//! `processes_suite!(backend)`, the backend giving a URL of a namespace of its own.

/// The cases as tests of the suite that invokes it; `$backend` has a `url()` method.
macro_rules! processes_suite {
    ($backend:expr) => {
        processes_suite!(@cases $backend;
            two_members_share_the_work,
            a_member_killed_mid_handler_loses_nothing,
        );
    };
    (@cases $backend:expr; $($case:ident,)*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $case() {
            let backend = $backend;
            crate::processes::$case(&backend.url()).await;
        }
    )*};
}

use std::collections::{BTreeMap, BTreeSet};
use std::process::Stdio;
use std::time::Duration;

use tidings::Bus;
use tidings_tests::Ping;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// How long the members may take for everything, kill and redelivery included: far more than
/// they need (seconds), so only a lost event or a stuck consumer reaches it.
const DEADLINE: Duration = Duration::from_secs(90);

/// What a member printed, or that its output ended.
#[derive(Debug)]
enum Heard {
    Ready,
    Start(u32),
    Done(u32),
    Gone,
}

/// The group's members and everything they say, in one channel.
struct Members {
    children: Vec<Child>,
    heard: mpsc::UnboundedReceiver<(usize, Heard)>,
}

impl Members {
    /// Starts `count` members handling each event for `handling`, and waits until each is ready.
    async fn start(url: &str, count: usize, handling: Duration) -> Self {
        let (tell, heard) = mpsc::unbounded_channel();
        let children = (0..count)
            .map(|index| {
                let mut child = Command::new(env!("CARGO_BIN_EXE_group_member"))
                    .args([url, &handling.as_millis().to_string()])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .kill_on_drop(true)
                    .spawn()
                    .expect("start group_member");
                let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
                let tell = tell.clone();
                tokio::spawn(async move {
                    while let Ok(Some(line)) = lines.next_line().await {
                        let _ = tell.send((index, parse(&line)));
                    }
                    let _ = tell.send((index, Heard::Gone));
                });
                child
            })
            .collect();
        let mut members = Members { children, heard };
        let mut ready = 0;
        while ready < count {
            match members.next().await {
                (_, Heard::Ready) => ready += 1,
                (index, other) => panic!("member {index} said {other:?} before it was ready"),
            }
        }
        members
    }

    async fn next(&mut self) -> (usize, Heard) {
        tokio::time::timeout(DEADLINE, self.heard.recv())
            .await
            .unwrap_or_else(|_| panic!("the members said nothing for {DEADLINE:?}"))
            .expect("a member's reader is always listening")
    }

    /// Closes every member's stdin and checks that each shuts down cleanly.
    async fn stop(mut self) {
        for child in &mut self.children {
            drop(child.stdin.take());
        }
        for (index, child) in self.children.iter_mut().enumerate() {
            let status = child.wait().await.expect("wait for a member");
            assert!(status.success(), "member {index} exited with {status}");
        }
    }
}

fn parse(line: &str) -> Heard {
    let seq = |word: &str| line.strip_prefix(word).and_then(|seq| seq.parse().ok());
    if line == "ready" {
        Heard::Ready
    } else if let Some(seq) = seq("start ") {
        Heard::Start(seq)
    } else if let Some(seq) = seq("done ") {
        Heard::Done(seq)
    } else {
        panic!("a member said `{line}`")
    }
}

/// Publishes `count` events, each with a key of its own, from a bus that runs no subscriber.
async fn publish(url: &str, count: u32) -> Bus {
    let bus = Bus::builder().url(url).manual().build().await.unwrap();
    for seq in 0..count {
        bus.publish(Ping::new(&format!("k{seq}"), seq))
            .await
            .unwrap();
    }
    bus
}

/// Two processes of one group: every event is handled exactly once, by either.
pub(crate) async fn two_members_share_the_work(url: &str) {
    const EVENTS: u32 = 200;
    let mut members = Members::start(url, 2, Duration::from_millis(20)).await;
    let bus = publish(url, EVENTS).await;
    let mut handled_by: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut done = 0;
    while done < EVENTS {
        match members.next().await {
            (index, Heard::Done(seq)) => {
                handled_by.entry(seq).or_default().push(index);
                done += 1;
            }
            (_, Heard::Start(_)) => {}
            (index, other) => panic!("member {index} said {other:?}"),
        }
    }
    members.stop().await;
    bus.shutdown().await.unwrap();

    let twice: Vec<_> = handled_by.iter().filter(|(_, by)| by.len() > 1).collect();
    assert!(twice.is_empty(), "handled more than once: {twice:?}");
    assert_eq!(handled_by.len(), EVENTS as usize, "every event handled");
    let by_first = handled_by.values().filter(|by| by[0] == 0).count();
    println!(
        "two member processes: {EVENTS} events, {by_first} handled by the first, {} by the \
         second, none twice",
        EVENTS as usize - by_first
    );
    assert!(
        by_first > 0 && by_first < EVENTS as usize,
        "both members take part: the first handled {by_first} of {EVENTS}"
    );
}

/// One of two members is killed with SIGKILL while its handlers run: the other handles every
/// event the killed one had not finished, so nothing published is lost.
pub(crate) async fn a_member_killed_mid_handler_loses_nothing(url: &str) {
    const EVENTS: u32 = 60;
    const VICTIM: usize = 0;
    let mut members = Members::start(url, 2, Duration::from_millis(100)).await;
    let bus = publish(url, EVENTS).await;
    let mut started: [BTreeSet<u32>; 2] = Default::default();
    let mut done: [BTreeSet<u32>; 2] = Default::default();
    let mut killed = false;
    let mut in_flight_at_kill = BTreeSet::new();
    let mut victim_gone = false;
    loop {
        let all_done = (0..EVENTS).all(|seq| done[0].contains(&seq) || done[1].contains(&seq));
        if all_done && victim_gone {
            break;
        }
        match members.next().await {
            (index, Heard::Start(seq)) => {
                started[index].insert(seq);
            }
            (index, Heard::Done(seq)) => {
                done[index].insert(seq);
            }
            (VICTIM, Heard::Gone) if killed => {
                // Everything it printed before dying has been read: what it started and did
                // not finish was in its handlers when it died.
                in_flight_at_kill = started[VICTIM].difference(&done[VICTIM]).copied().collect();
                victim_gone = true;
            }
            (index, other) => panic!("member {index} said {other:?}"),
        }
        if !killed && done[VICTIM].len() >= 5 {
            members.children[VICTIM]
                .start_kill()
                .expect("SIGKILL the member");
            killed = true;
        }
    }
    let survivor = 1 - VICTIM;
    members.children.remove(VICTIM).wait().await.unwrap();
    members.stop().await;
    bus.shutdown().await.unwrap();

    let duplicates = done[0].intersection(&done[1]).count();
    println!(
        "killed a member mid-handler: {EVENTS} events published, all handled; the killed one \
         finished {} and had {} in its handlers; the survivor handled {} (those {} among them); \
         {duplicates} handled by both (finished, not yet acknowledged when killed)",
        done[VICTIM].len(),
        in_flight_at_kill.len(),
        done[survivor].len(),
        in_flight_at_kill.len(),
    );
    assert!(
        !in_flight_at_kill.is_empty(),
        "the member was killed with handlers running"
    );
    let lost: Vec<_> = in_flight_at_kill
        .difference(&done[survivor])
        .copied()
        .collect();
    assert!(
        lost.is_empty(),
        "in flight at the kill and never handled: {lost:?}"
    );
}
