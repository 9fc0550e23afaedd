//! Finding and running CNI plugins (spec §2.4, §2.5): plugin lookup, the plugin environment, and one bounded,
//! leak-free execution per call: no inherited fds, signal mask or ignored signals, the whole process group killed
//! on timeout, always reaped.

mod env;
mod io;
mod landing;
mod spawn;
mod sys;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;

use crate::cni::error::{codes, CniError, Error, Result};

pub use env::{build_env, BaseEnv, CniVars, PluginEnv};
use io::{Io, Stop};
use spawn::Child;
pub use spawn::Exit;

/// FindInPath: the first `<dir>/<plugin_type>` that stats (following symlinks) as a regular file. Empty directory
/// entries are skipped rather than resolved against the host's working directory.
pub fn find_plugin(plugin_type: &str, dirs: &[PathBuf]) -> Result<PathBuf> {
    if plugin_type.is_empty() {
        return Err(Error::config("no plugin name provided"));
    }
    if plugin_type.contains(['/', '\0']) || plugin_type == "." || plugin_type == ".." {
        return Err(Error::Config(format!("invalid plugin name: {plugin_type}")));
    }
    if dirs.is_empty() {
        return Err(Error::config("no paths provided"));
    }
    dirs.iter()
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(plugin_type))
        .find(|candidate| std::fs::metadata(candidate).is_ok_and(|meta| meta.is_file()))
        .ok_or_else(|| Error::PluginNotFound {
            plugin: plugin_type.to_string(),
            paths: dirs.to_vec(),
        })
}

/// A plugin result bigger than this is an error.
pub const DEFAULT_MAX_STDOUT: usize = 16 << 20;
/// Plugin stderr beyond this is drained and dropped.
pub const DEFAULT_MAX_STDERR: usize = 64 << 10;

#[derive(Clone, Debug)]
pub struct ExecOptions {
    /// Wall-clock limit of the call; when it expires the plugin's process group is killed.
    pub timeout: Option<Duration>,
    pub max_stdout: usize,
    pub max_stderr: usize,
}

impl Default for ExecOptions {
    fn default() -> ExecOptions {
        ExecOptions {
            timeout: None,
            max_stdout: DEFAULT_MAX_STDOUT,
            max_stderr: DEFAULT_MAX_STDERR,
        }
    }
}

#[derive(Debug)]
pub struct ExecOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub elapsed: Duration,
}

/// Runs one plugin: argv = [path], envp = env, stdin = `stdin`; returns its output when it exits 0.
pub fn exec_plugin(
    path: &Path,
    command: &str,
    stdin: &[u8],
    env: &PluginEnv,
    opts: &ExecOptions,
) -> Result<ExecOutput> {
    run_plugin(path, command, stdin, env, opts)?.into_output()
}

/// A plugin that ran to its exit, whatever its exit status.
#[derive(Debug)]
pub struct Finished<'a> {
    pub exit: Exit,
    pub output: ExecOutput,
    path: &'a Path,
    command: &'a str,
}

impl Finished<'_> {
    /// The output of a plugin that exited 0, else its failure as libcni words it.
    pub fn into_output(self) -> Result<ExecOutput> {
        if self.exit == Exit::Code(0) {
            Ok(self.output)
        } else {
            Err(plugin_failure(
                self.path,
                self.command,
                self.exit,
                &self.output.stdout,
                &self.output.stderr,
            ))
        }
    }
}

/// Runs one plugin to its exit; errors are only for a plugin that could not be run, talked to or waited for, or
/// that overran its limits.
pub fn run_plugin<'a>(
    path: &'a Path,
    command: &'a str,
    stdin: &[u8],
    env: &PluginEnv,
    opts: &ExecOptions,
) -> Result<Finished<'a>> {
    let exec_error = |reason: String| Error::Exec {
        path: path.to_path_buf(),
        reason,
    };
    let timeout_error = |after| Error::Timeout {
        path: path.to_path_buf(),
        command: command_label(command),
        after,
    };
    if let Some(after) = opts.timeout.filter(Duration::is_zero) {
        // Starting a plugin only to kill it at once could leave half-made changes behind.
        return Err(timeout_error(after));
    }
    let started = Instant::now();
    let deadline = opts
        .timeout
        .and_then(|timeout| started.checked_add(timeout));
    let (mut child, pipes, fed) = Child::spawn(path, env, stdin, deadline).map_err(exec_error)?;
    let mut io = Io::new(&stdin[fed..], pipes, opts.max_stdout, opts.max_stderr);
    let stop = io
        .run(&mut child, deadline)
        .map_err(|e| exec_error(format!("communicating with the plugin: {e}")))?;
    match stop {
        Stop::TimedOut => {
            child.terminate();
            return Err(timeout_error(opts.timeout.unwrap_or_default()));
        }
        Stop::TooLarge => {
            child.terminate();
            return Err(exec_error(format!(
                "plugin output exceeds {} bytes",
                opts.max_stdout
            )));
        }
        Stop::PipesHeld => child.kill_group(),
        Stop::Done => {}
    }
    let exit = child.reap().map_err(|e| match e {
        Errno::ECHILD => exec_error(
            "its exit status was taken by another waiter in this process (ECHILD)".into(),
        ),
        e => exec_error(format!("waiting for the plugin: {e}")),
    })?;
    let (stdout, stderr) = io.into_output();
    Ok(Finished {
        exit,
        output: ExecOutput {
            stdout,
            stderr,
            elapsed: started.elapsed(),
        },
        path,
        command,
    })
}

/// The command as libcni names it in errors: lowercase, with DEL spelled "delete".
fn command_label(command: &str) -> String {
    if command.eq_ignore_ascii_case("DEL") {
        "delete".to_string()
    } else {
        command.to_ascii_lowercase()
    }
}

/// The error of a plugin that did not exit 0: its own error object from stdout when it printed one (stderr fills
/// empty `details`), otherwise a code-999 error built from stderr and the exit status, worded like libcni.
fn plugin_failure(path: &Path, command: &str, exit: Exit, stdout: &[u8], stderr: &[u8]) -> Error {
    let stderr = String::from_utf8_lossy(stderr).trim().to_string();
    let error = if stdout.is_empty() {
        let msg = if stderr.is_empty() {
            format!("netplugin failed with no error message: {exit}")
        } else {
            format!("netplugin failed: {stderr:?}: {exit}")
        };
        CniError::new(codes::INTERNAL, msg, "")
    } else {
        let mut error = serde_json::from_slice::<CniError>(stdout).unwrap_or_else(|e| {
            let text = String::from_utf8_lossy(stdout);
            let msg =
                format!("netplugin failed but error parsing its diagnostic message {text:?}: {e}");
            CniError::new(codes::INTERNAL, msg, "")
        });
        if error.details.is_empty() {
            error.details = stderr;
        }
        error
    };
    let plugin = path
        .file_name()
        .unwrap_or(path.as_os_str())
        .to_string_lossy()
        .into_owned();
    Error::Plugin {
        plugin,
        command: command_label(command),
        error,
    }
}

/// Pauses for retry loops: `spins` zero ones first, then exponentially growing ones, capped at `max`.
struct Backoff {
    spins: u32,
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn new(spins: u32, first: Duration, max: Duration) -> Backoff {
        Backoff {
            spins,
            next: first,
            max,
        }
    }

    fn step(&mut self) -> Duration {
        if self.spins > 0 {
            self.spins -= 1;
            return Duration::ZERO;
        }
        let pause = self.next;
        self.next = pause.saturating_mul(2).min(self.max);
        pause
    }
}
