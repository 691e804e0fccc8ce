//! The Python the interop clients run on: a virtual environment under the cargo target
//! directory with `requirements.txt` installed, made on first use and reused by later runs.
//! Anything missing fails the test with what to do; nothing is skipped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// What the environment must hold. Compiled in, so that editing the file rebuilds the tests
/// and the next run installs the new pins.
const REQUIREMENTS: &str = include_str!("requirements.txt");

/// The environment's interpreter, provisioned once per test binary.
pub(crate) fn interpreter() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(provision)
}

fn provision() -> PathBuf {
    let scratch = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let venv = scratch.join("interop-venv");
    // The nats and amqp suites are separate binaries, maybe running at once: one provisions
    // while the other waits on this lock, then finds the work done.
    std::fs::create_dir_all(scratch).expect("the cargo target tmp directory");
    let lock = File::create(scratch.join("interop-venv.lock")).expect("the venv lock file");
    lock.lock().expect("lock the venv");

    let python = venv.join("bin").join("python");
    // Written after a successful install: the requirements that environment holds.
    let installed = venv.join("tidings-requirements.txt");
    if python.exists() && std::fs::read_to_string(&installed).ok().as_deref() == Some(REQUIREMENTS)
    {
        return python;
    }
    if !python.exists() {
        let base = std::env::var("TIDINGS_PYTHON").unwrap_or_else(|_| "python3".to_owned());
        run(
            Command::new(&base).args(["-m", "venv"]).arg(&venv),
            &format!(
                "create a virtual environment at {} with `{base}`",
                venv.display()
            ),
            "install Python 3 with its venv module (Debian: `apt-get install python3-venv`), \
             or point TIDINGS_PYTHON at a python3 that has it",
        );
    }
    let requirements = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop/requirements.txt");
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--disable-pip-version-check",
                "--quiet",
            ])
            .arg("-r")
            .arg(&requirements),
        &format!("install {} into {}", requirements.display(), venv.display()),
        "pip needs to reach PyPI (or a mirror set with PIP_INDEX_URL); delete that directory \
         to start over",
    );
    std::fs::write(&installed, REQUIREMENTS).expect("record the installed requirements");
    python
}

/// Runs a provisioning step, failing the test with its output and `hint` if it fails.
fn run(command: &mut Command, what: &str, hint: &str) {
    match command.output() {
        Ok(output) if output.status.success() => {}
        Ok(output) => panic!(
            "failed to {what} ({}):\n{}{}\n{hint}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
        Err(error) => panic!("failed to {what}: {error}\n{hint}"),
    }
}
