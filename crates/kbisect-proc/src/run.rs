//! Running one command: spawn in its own process group, pump both pipes,
//! enforce the limits, and make sure the whole group is gone at the end.
//!
//! One thread per pipe and one thread blocked in `waitid` feed a single
//! bounded channel, so the main loop sleeps until something happens or a
//! deadline passes: no polling latency for the many short git calls, and no
//! deadlock whichever pipe the child fills first.

use std::io::{self, Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;

use crate::cmd::Cmd;
use crate::output::{Output, ProcError, Status, Stream, TailBuf};

const CHUNK: usize = 64 * 1024;
/// Messages in flight between the pipe readers and the main loop (bounds memory).
const CHANNEL_DEPTH: usize = 64;
/// How often the cancel token is looked at.
const CANCEL_POLL: Duration = Duration::from_millis(50);
/// After the child exited and its group was killed, how long to keep reading
/// pipes still held open by something that escaped the group.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);
/// Once the group is gone, how long the pipes may stay silent before we
/// stop waiting for their EOF (something that left the group holds them).
/// Counted from the last chunk too: on a loaded machine the reader threads
/// may simply not have run yet, and cutting them off would truncate output.
const DRAIN_AFTER_GROUP: Duration = Duration::from_millis(500);

/// Where `run_streaming` sends chunks as they arrive.
pub(crate) type ChunkSink<'a> = &'a mut dyn FnMut(Stream, &[u8]);

enum Event {
    Chunk(Stream, Vec<u8>),
    Eof(Stream),
    ReadError(Stream, io::Error),
    Exited,
}

pub(crate) fn run(cmd: &Cmd, mut on_chunk: Option<ChunkSink<'_>>) -> Result<Output, ProcError> {
    let argv = cmd.argv_string();
    let tag = cmd.end_escapees.then(crate::escapees::new_tag);
    let env_tag = tag.as_deref().or(cmd.escapee_tag.as_deref());
    let mut child = spawn(cmd, &argv, env_tag)?;
    let child_pid = child.id() as i32;
    let start = Instant::now();
    let pgid = match i32::try_from(child.id()) {
        Ok(p) => Pid::from_raw(p),
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ProcError::Io {
                argv,
                source: io::Error::other(e),
            });
        }
    };

    // Dropped when this function returns, by which time the group is dead.
    let _record = crate::groups::record(
        pgid.as_raw(),
        cmd.cancel.as_ref().and_then(|c| c.groups_dir()),
    );
    let (tx, rx) = mpsc::sync_channel::<Event>(CHANNEL_DEPTH);
    if let (Some(bytes), Some(mut stdin)) = (cmd.stdin.clone(), child.stdin.take()) {
        // A child that never reads its stdin gets EPIPE here once it exits; ignore.
        thread::spawn(move || {
            let _ = stdin.write_all(&bytes);
        });
    }
    if let Some(out) = child.stdout.take() {
        spawn_reader(out, Stream::Stdout, tx.clone());
    }
    if let Some(err) = child.stderr.take() {
        spawn_reader(err, Stream::Stderr, tx.clone());
    }
    spawn_waiter(pgid, tx);
    if let Some(name) = &cmd.failpoint {
        crate::failpoint::hit(name);
    }

    let mut tails = [TailBuf::new(cmd.output_cap), TailBuf::new(cmd.output_cap)];
    let mut eof = [false, false];
    let mut exited_at: Option<Instant> = None;
    let mut group_gone_at: Option<Instant> = None;
    let mut reason: Option<Status> = None;
    let mut term_at: Option<Instant> = None;
    let mut killed = false;
    let mut last_output = start;
    let mut read_error: Option<io::Error> = None;
    let mut exit_status: Option<ExitStatus> = None;

    loop {
        let now = Instant::now();
        if let Some(ex) = exited_at {
            if eof == [true, true] {
                break;
            }
            if group_gone_at.is_none() && killpg(pgid, None) == Err(Errno::ESRCH) {
                group_gone_at = Some(now);
            }
            let gone_long_enough =
                group_gone_at.is_some_and(|g| now >= g.max(last_output) + DRAIN_AFTER_GROUP);
            if gone_long_enough || now >= ex + DRAIN_AFTER_EXIT {
                tracing::debug!(argv = %argv, "pipes still open after the process group died; not waiting");
                break;
            }
        } else {
            if reason.is_none() {
                reason = limit_reached(cmd, start, last_output, now);
                if reason.is_some() {
                    let _ = killpg(pgid, Signal::SIGTERM);
                    term_at = Some(now);
                }
            }
            if !killed && term_at.is_some_and(|t| now >= t + cmd.grace) {
                let _ = killpg(pgid, Signal::SIGKILL);
                killed = true;
            }
        }

        let wake = next_wake(cmd, start, last_output, term_at, killed, exited_at, now);
        match rx.recv_timeout(wake.saturating_duration_since(now)) {
            Ok(Event::Chunk(s, bytes)) => {
                last_output = Instant::now();
                if let Some(f) = on_chunk.as_mut() {
                    f(s, &bytes);
                }
                tails[s as usize].push(&bytes);
            }
            Ok(Event::Eof(s)) => eof[s as usize] = true,
            Ok(Event::ReadError(s, e)) => {
                eof[s as usize] = true;
                read_error.get_or_insert(e);
            }
            Ok(Event::Exited) => {
                // Still unreaped (WNOWAIT), so the group id cannot have been reused.
                let _ = killpg(pgid, Signal::SIGKILL);
                if let Some(t) = &tag {
                    // Those that left the group hold our pipes open too.
                    crate::escapees::end_tagged(t);
                }
                // Reaped at once so that the group-gone probe above does not
                // keep seeing our own zombie; after this only signal 0 is sent.
                match child.wait() {
                    Ok(st) => exit_status = Some(st),
                    Err(e) => {
                        read_error.get_or_insert(e);
                    }
                }
                exited_at = Some(Instant::now());
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }

    let exit = match exit_status {
        Some(st) => st,
        None => child.wait().map_err(|source| ProcError::Io {
            argv: argv.clone(),
            source,
        })?,
    };
    crate::escapees::forget(child_pid);
    let duration = start.elapsed();
    if let Some(source) = read_error {
        return Err(ProcError::Io { argv, source });
    }
    let status = reason.unwrap_or_else(|| match (exit.code(), exit.signal()) {
        (Some(c), _) => Status::Exited(c),
        (None, Some(s)) => Status::Signaled(s),
        (None, None) => Status::Exited(-1),
    });
    let [out, err] = tails;
    let (stdout, stdout_dropped) = out.finish();
    let (stderr, stderr_dropped) = err.finish();
    tracing::debug!(argv = %argv, cwd = ?cmd.cwd, duration = ?duration, status = %status, "command finished");
    Ok(Output {
        status,
        stdout,
        stderr,
        stdout_dropped,
        stderr_dropped,
        duration,
    })
}

fn spawn(cmd: &Cmd, argv: &str, tag: Option<&str>) -> Result<Child, ProcError> {
    let mut c = Command::new(&cmd.program);
    c.args(&cmd.args);
    if let Some(dir) = &cmd.cwd {
        // Checked here because a missing cwd also fails with ENOENT and would
        // be misreported as a missing program.
        if !dir.is_dir() {
            return Err(ProcError::Spawn {
                argv: argv.to_owned(),
                source: io::Error::new(
                    io::ErrorKind::NotFound,
                    format!("working directory {} does not exist", dir.display()),
                ),
            });
        }
        c.current_dir(dir);
    }
    for (k, _) in std::env::vars_os() {
        if k.as_encoded_bytes().starts_with(b"GIT_") {
            c.env_remove(&k);
        }
    }
    c.env("LC_ALL", "C");
    for (k, v) in &cmd.envs {
        c.env(k, v);
    }
    c.stdin(if cmd.stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(t) = tag {
        c.env(crate::escapees::TAG_ENV, t);
    }
    c.process_group(0);
    tracing::debug!(argv = %argv, cwd = ?cmd.cwd, "spawning");
    let guard = crate::escapees::spawning();
    let spawned = c.spawn();
    if let (Ok(child), Some(g)) = (&spawned, guard) {
        g.register(child.id() as i32);
    }
    spawned.map_err(|source| {
        if source.kind() == io::ErrorKind::NotFound {
            ProcError::NotFound {
                program: cmd.program.to_string_lossy().into_owned(),
            }
        } else {
            ProcError::Spawn {
                argv: argv.to_owned(),
                source,
            }
        }
    })
}

/// Which limit, if any, has been hit.
fn limit_reached(cmd: &Cmd, start: Instant, last_output: Instant, now: Instant) -> Option<Status> {
    if cmd.timeout.is_some_and(|t| now >= start + t) {
        Some(Status::TimedOut)
    } else if cmd.idle_timeout.is_some_and(|t| now >= last_output + t) {
        Some(Status::NoOutput)
    } else if cmd.cancel.as_ref().is_some_and(|c| c.is_cancelled()) {
        Some(Status::Cancelled)
    } else {
        None
    }
}

/// The earliest moment the loop has something to check without an event.
fn next_wake(
    cmd: &Cmd,
    start: Instant,
    last_output: Instant,
    term_at: Option<Instant>,
    killed: bool,
    exited_at: Option<Instant>,
    now: Instant,
) -> Instant {
    if exited_at.is_some() {
        return now + Duration::from_millis(10);
    }
    let mut wake = now + Duration::from_secs(3600);
    if let Some(t) = term_at {
        if !killed {
            wake = wake.min(t + cmd.grace);
        }
        return wake;
    }
    if let Some(t) = cmd.timeout {
        wake = wake.min(start + t);
    }
    if let Some(t) = cmd.idle_timeout {
        wake = wake.min(last_output + t);
    }
    if cmd.cancel.is_some() {
        wake = wake.min(now + CANCEL_POLL);
    }
    wake
}

fn spawn_reader(mut pipe: impl Read + Send + 'static, s: Stream, tx: SyncSender<Event>) {
    thread::spawn(move || {
        let mut buf = vec![0u8; CHUNK];
        loop {
            let ev = match pipe.read(&mut buf) {
                Ok(0) => Event::Eof(s),
                Ok(n) => Event::Chunk(s, buf[..n].to_vec()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => Event::ReadError(s, e),
            };
            let last = !matches!(ev, Event::Chunk(..));
            // A failed send means the main loop gave up on this pipe.
            if tx.send(ev).is_err() || last {
                return;
            }
        }
    });
}

/// Reports the child's exit without reaping it, so that its pid (and thus
/// the group id) stays reserved until the group has been killed.
fn spawn_waiter(pid: Pid, tx: SyncSender<Event>) {
    thread::spawn(move || {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT;
        while waitid(Id::Pid(pid), flags) == Err(Errno::EINTR) {}
        let _ = tx.send(Event::Exited);
    });
}
