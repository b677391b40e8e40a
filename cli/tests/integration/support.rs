//! Helpers of the `wxpay` command tests: running the built binary with a
//! time limit, a sandbox's credentials as files and variables.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use wxpay_sandbox::Sandbox;

/// How long one run of the binary may take.
pub const RUN_LIMIT: Duration = Duration::from_secs(60);

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// The exit status (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output, as text.
    pub stdout: String,
    /// Standard error, as text.
    pub stderr: String,
    /// Standard output, as bytes.
    pub stdout_bytes: Vec<u8>,
}

impl Run {
    /// Panics with both outputs unless the exit status is `code`.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "exit status\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Where the tests point `XDG_CONFIG_HOME`: a folder that does not exist,
/// so that no config file of the machine's user is read.
pub const NO_CONFIG_HOME: &str = "/nonexistent/wxpay-cli-tests/config-home";

/// The `wxpay` binary with no `WXPAY_…` variable from the test's own
/// environment, no default config file (see [`NO_CONFIG_HOME`]), and
/// `vars` set (which may set `XDG_CONFIG_HOME` again).
pub fn wxpay(args: &[&str], vars: &BTreeMap<String, String>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wxpay"));
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("WXPAY_") {
            command.env_remove(name);
        }
    }
    command.env("XDG_CONFIG_HOME", NO_CONFIG_HOME);
    command.args(args).envs(vars);
    command
}

/// The lower-case hex SHA-1 of `bytes`.
pub fn sha1_hex(bytes: &[u8]) -> String {
    use sha1::Digest as _;
    sha1::Sha1::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Runs `command` to its end, within [`RUN_LIMIT`] (then it is killed and
/// the test fails).
pub fn run(mut command: Command) -> Run {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("start wxpay");
    let stdout = reader(child.stdout.take().expect("stdout"));
    let stderr = reader(child.stderr.take().expect("stderr"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("wxpay ran longer than {RUN_LIMIT:?}: {command:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout_bytes = stdout.join().expect("stdout reader");
    let stderr = stderr.join().expect("stderr reader");
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&stdout_bytes).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        stdout_bytes,
    }
}

/// Runs `command` on a blocking thread, so that a sandbox running on the
/// test's runtime keeps answering.
pub async fn run_async(command: Command) -> Run {
    tokio::task::spawn_blocking(move || run(command))
        .await
        .expect("run thread")
}

fn reader(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

/// Writes `contents` to `dir/name` and returns the path as text.
pub fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, contents).expect("write a test file");
    path.display().to_string()
}

/// Writes the secret `contents` to `dir/name`, readable by its owner only
/// (as a key file should be: others readable gets a warning), and returns
/// the path as text.
pub fn write_secret(dir: &Path, name: &str, contents: impl AsRef<[u8]>) -> String {
    let path = write(dir, name, contents);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .expect("chmod a test key file");
    }
    path
}

/// The variables a command needs to talk to `sandbox` as its merchant, in
/// public-key mode, with the key files written to `dir` (the private key
/// mode 0600).
pub fn sandbox_vars(sandbox: &Sandbox, dir: &Path) -> BTreeMap<String, String> {
    let credentials = sandbox.credentials();
    BTreeMap::from([
        ("WXPAY_BASE_URL".to_owned(), sandbox.base_url().to_owned()),
        ("WXPAY_MCHID".to_owned(), credentials.mchid.clone()),
        (
            "WXPAY_SERIAL".to_owned(),
            credentials.merchant_serial.clone(),
        ),
        (
            "WXPAY_PRIVATE_KEY_FILE".to_owned(),
            write_secret(
                dir,
                "merchant_private_key.pem",
                &credentials.merchant_private_key_pem,
            ),
        ),
        (
            "WXPAY_PUBLIC_KEY_ID".to_owned(),
            credentials.public_key_id.clone(),
        ),
        (
            "WXPAY_PUBLIC_KEY_FILE".to_owned(),
            write(
                dir,
                "platform_public_key.pem",
                &credentials.platform_public_key_pem,
            ),
        ),
    ])
}

/// `../shared/vectors`, or `None` after saying loudly that `test` is
/// skipped. `WXPAY_VECTORS_DIR` overrides the folder.
pub fn vectors(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("WXPAY_VECTORS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors"));
    if dir.join("golden.json").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED {test}: {} not found; the known-answer vectors were NOT checked",
            dir.display()
        );
        None
    }
}

/// A child process killed (SIGTERM, then SIGKILL) when dropped, so that a
/// failing test leaves no sandbox behind.
pub struct Running {
    /// The child.
    pub child: Child,
}

impl Running {
    /// Asks the child to stop (SIGTERM through `kill`), waits up to 10 s,
    /// then kills it; returns whether it stopped by itself.
    pub fn stop(&mut self) -> bool {
        if self.child.try_wait().ok().flatten().is_some() {
            return true;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Reads a `sandbox.env` as `set -a; . FILE` would: `NAME=value` lines,
/// values bare or in single quotes; comments and blank lines skipped.
pub fn parse_env(text: &str) -> BTreeMap<String, String> {
    let mut variables = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, raw) = line.split_once('=').expect("NAME=value");
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'),
            "`{name}` is not a shell variable name"
        );
        let mut value = String::new();
        let mut quoted = false;
        for c in raw.chars() {
            match c {
                '\'' => quoted = !quoted,
                c => {
                    assert!(
                        quoted || !" \t\"$`\\;&|<>()*?[]#~".contains(c),
                        "`{c}` would be special to the shell in {line}"
                    );
                    value.push(c);
                }
            }
        }
        assert!(!quoted, "unbalanced quote in {line}");
        variables.insert(name.to_owned(), value);
    }
    variables
}

/// Reads a child's stdout lines on a thread; returns the receiver.
pub fn lines(pipe: impl std::io::Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead as _;
        for line in std::io::BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// Reads a file to the end, as bytes.
pub fn read_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    bytes
}

/// Starts `wxpay sandbox --state DIR` and waits (at most a minute) for its
/// "listening" line; returns the child and the base URL.
pub fn start_state_sandbox(state: &Path) -> (Running, String) {
    let mut command = wxpay(
        &["sandbox", "--state", &state.display().to_string()],
        &BTreeMap::new(),
    );
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = command.spawn().expect("start wxpay sandbox");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running { child };
    let lines = lines(stdout);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .expect("`wxpay sandbox` said it listens within a minute");
        if let Some(url) = line.strip_prefix("wxpay sandbox listening on ") {
            // Keep draining stdout so the child never blocks on a full pipe.
            std::thread::spawn(move || for _ in lines {});
            return (running, url.to_owned());
        }
    }
}
