//! The workspace's binaries as child processes: finding them ([`binary`]), running them in a
//! process group of their own that dies with the test ([`Process`]), and free ports for them.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A workspace binary, built by `cargo build --workspace --bins` (the test command does).
pub fn binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target directory");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is missing: build the binaries first (`cargo build --workspace --bins`; the README's test command does)",
        path.display()
    );
    path
}

/// A child process killed when dropped.
pub struct Process {
    child: Child,
}

impl Process {
    /// Starts binary `name` with `env` on top of a clean environment.
    pub fn start(name: &str, args: &[&str], env: &[(&str, String)]) -> anyhow::Result<Self> {
        let mut command = Command::new(binary(name));
        command.args(args).env_clear();
        if let Ok(path) = std::env::var("PATH") {
            command.env("PATH", path);
        }
        command.env(
            "RUST_LOG",
            std::env::var("TEST_CHILD_LOG").unwrap_or_else(|_| "warn".into()),
        );
        for (key, value) in env {
            command.env(key, value);
        }
        Self::spawn(command, name)
    }

    /// Spawns `command` in a process group of its own, so that killing it kills whatever it
    /// started too.
    pub fn spawn(mut command: Command, name: &str) -> anyhow::Result<Self> {
        use std::os::unix::process::CommandExt;
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .process_group(0);
        Ok(Self {
            child: command
                .spawn()
                .with_context(|| format!("starting {name}"))?,
        })
    }

    /// Kills the process and its group at once (SIGKILL): no cleanup of any kind runs.
    pub fn kill(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Waits for the process to exit on its own; fails unless it exits with success.
    pub fn wait_success(&mut self) -> anyhow::Result<()> {
        let status = self.child.wait()?;
        if !status.success() {
            bail!("process exited with {status}");
        }
        Ok(())
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(&mut self) -> anyhow::Result<()> {
        let status = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()?;
        if !status.success() {
            bail!("kill -TERM failed");
        }
        let status = self.child.wait()?;
        if !status.success() {
            bail!("process exited with {status}");
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
