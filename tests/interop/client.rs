//! Runs a Python client: `publish` to completion, `read` in the background from the moment it
//! says it is subscribed.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};

use serde_json::Value;

use super::python;

/// One of the clients in `tests/interop/`, with the options that reach a test's broker and
/// namespace.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    script: &'static str,
    options: Vec<String>,
}

/// How a CloudEvent travels: attributes as headers, or the whole document as the body.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    Binary,
    Structured,
}

impl Client {
    pub(crate) fn new(script: &'static str, options: Vec<String>) -> Self {
        Client { script, options }
    }

    /// The client with `arguments`, its output piped. Blocks while the Python environment is
    /// set up, the first time: call it off the runtime's threads.
    fn command(&self, arguments: &[&str]) -> Command {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("interop")
            .join(self.script);
        let mut command = Command::new(python::interpreter());
        command
            .arg(script)
            .args(&self.options)
            .args(arguments)
            // No `__pycache__` in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Publishes `event`, a structured-mode CloudEvents document, in `mode`; `body`, if given,
    /// travels instead of its payload. Returns what the client printed once the broker stored
    /// the event.
    pub(crate) async fn publish(&self, mode: Mode, event: &Value, body: Option<&str>) -> Value {
        let mode = match mode {
            Mode::Binary => "binary",
            Mode::Structured => "structured",
        };
        let body = body.map(str::to_owned);
        let (client, input) = (self.clone(), event.to_string());
        let output = blocking(move || {
            let mut arguments = vec!["publish", "--mode", mode];
            arguments.extend(body.iter().flat_map(|body| ["--body", body.as_str()]));
            let mut child = client.command(&arguments).stdin(Stdio::piped()).spawn()?;
            // Dropped at the end of the statement: the client sees the end of its input.
            child
                .stdin
                .take()
                .expect("piped")
                .write_all(input.as_bytes())?;
            child.wait_with_output()
        })
        .await
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", self.script));
        assert!(
            output.status.success(),
            "{} publish failed ({}): {}",
            self.script,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        parse(self.script, &output.stdout)
    }

    /// Starts reading the next `event_type` event, and returns once the client is subscribed:
    /// whatever is published from then on is what it reads.
    pub(crate) async fn reader(&self, event_type: &str) -> Reader {
        let (client, event_type) = (self.clone(), event_type.to_owned());
        blocking(move || {
            let script = client.script;
            let mut child = client
                .command(&["read", "--type", &event_type])
                .spawn()
                .unwrap_or_else(|error| panic!("cannot run {script}: {error}"));
            let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
            let mut first = String::new();
            let _ = stdout.read_line(&mut first);
            let mut reader = Reader {
                script,
                child,
                stdout,
            };
            if first.trim_end() != "ready" {
                let (_, _, stderr) = reader.finish();
                panic!("{script} read did not get ready (it printed {first:?}): {stderr}");
            }
            reader
        })
        .await
    }
}

/// A client reading, subscribed.
#[derive(Debug)]
pub(crate) struct Reader {
    script: &'static str,
    child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Reader {
    /// The event the client read, as it printed it. The client waits a bounded time, then
    /// fails saying what it waited for.
    pub(crate) async fn event(mut self) -> Value {
        blocking(move || {
            let (status, stdout, stderr) = self.finish();
            assert!(
                status.is_some_and(|status| status.success()),
                "{} read failed ({status:?}): {stderr}",
                self.script
            );
            parse(self.script, stdout.as_bytes())
        })
        .await
    }

    /// Waits for the client to end: how it ended, its remaining output and its errors.
    fn finish(&mut self) -> (Option<ExitStatus>, String, String) {
        let (mut stdout, mut stderr) = (String::new(), String::new());
        let _ = self.stdout.read_to_string(&mut stdout);
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        (self.child.wait().ok(), stdout, stderr)
    }
}

impl Drop for Reader {
    /// A test that failed before reading leaves no client behind.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `work`, which waits on a client process, off the runtime's threads; its panic is the
/// test's.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()))
}

/// The one JSON line a client prints.
fn parse(script: &str, stdout: &[u8]) -> Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.trim())
        .unwrap_or_else(|error| panic!("{script} printed {text:?}, not one JSON line: {error}"))
}
