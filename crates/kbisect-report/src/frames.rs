//! Stack frames: recognising frame lines, the infrastructure skip list and
//! walking a stack recipe to the guilty frame.

use std::collections::HashSet;

use regex::bytes::Regex;

use crate::Error;
use crate::infra_table::{INFRA_FILES, SECTION_LABELS};
use crate::oops_table::{Extractor, Stack, compile};
use crate::skip_families::SKIP_FAMILIES;
use crate::skip_libs::SKIP_LIBS;
use crate::skip_list::SKIP;

/// Regexps that read one frame line (first group, and for ARM also the
/// second, which is the caller).
const FRAME_RES: &[&str] = &[
    // x86/arm64/riscv: "[<ffffffff81234>] func+0x12/0x34", "func+0x12/0x34 (T)".
    // Symbolized inline frames ("func file.c:12 [inline]") are not frames:
    // the guilty function is the one that was really called.
    r"^ *(?:\[<?(?:0x)?[0-9a-f]+>?\] ){0,2}(?:\? )?([a-zA-Z0-9_]+)(?:\.[a-zA-Z0-9_.]+)?\+0x[0-9a-f]+",
    // ARM: "[<80616f94>] (check_zeroed_user) from [<80321578>] (sys_openat2+0x124/0x170)".
    r"^ *\[<?(?:0x)?[0-9a-f]+>?\] \(([a-zA-Z0-9_]+)(?:\.[a-zA-Z0-9_.]+)?\) from \[<?(?:0x)?[0-9a-f]+>?\] \(([a-zA-Z_][a-zA-Z0-9_]*)",
    // Newer ARM: " check_zeroed_user from sys_openat2+0x124/0x170".
    r"^ *([a-zA-Z0-9_]+)(?:\.[a-zA-Z0-9_.]+)?(?:\+0x[0-9a-f]+/0x[0-9a-f]+)? from ([a-zA-Z0-9_]+)(?:\.[a-zA-Z0-9_.]+)?\+0x",
];

/// Lines that start another, unrelated stack: reading a trace stops there.
const STACK_START: &[&str] = &[
    r"^ *Call (?:T|t)race:",
    r"^ *Allocated(?: by task [0-9]+)?:",
    r"^ *Freed(?: by task [0-9]+)?:",
    r"^ *(?:Second to )?[Ll]ast potentially related work creation:",
    r"^ *Last call_rcu\(\):",
    r"^ *Second to last call_rcu\(\):",
    r"^ *The buggy address belongs to",
    r"^ *Uninit was (?:created|stored to memory) at:",
    r"^ *Memory state around the buggy address",
    r"^ *allocated by task [0-9]+ on cpu",
    r"^ *freed by task [0-9]+ on cpu",
    r"^ *NMI backtrace for cpu",
    r"^ *Showing all locks held",
    r"^ *other info that might help us debug this",
    r"^ *stack backtrace:",
    r"^ *Kernel panic - not syncing",
    r"^ *Sending NMI from CPU",
    r"^ *Task dump for CPU",
];

/// Lines that mean another stack is spliced into the one being read.
/// A `should_fail*` frame is the fault injector's own dump_stack(): its
/// stack was spliced in even when its "FAULT_INJECTION" line was not.
const CORRUPTED_LINES: &[&str] = &[
    r"FAULT_INJECTION: forcing a failure",
    r"^ *(?:\[<?(?:0x)?[0-9a-f]+>?\] )?should_fail(?:slab|_alloc_page|_ex|_usercopy)?(?:\.[a-z0-9.]+)?\+0x",
];

/// Frames a stall report walks up to; the frame above is blamed.
const STALL_ANCHORS: &[&str] = &[
    // Syscall entry.
    "^do_syscall_",
    "^entry_SYSCALL",
    "^entry_SYSENTER",
    "^entry_INT80",
    "^ret_fast_syscall",
    "^el0_svc",
    "^do_el0_svc",
    "^invoke_syscall",
    "^el0t_",
    "^__do_fast_syscall",
    "^do_fast_syscall",
    "^do_int80_syscall",
    "^system_call",
    // Generic dispatchers of file, socket, netlink and mm operations.
    "^sock_sendmsg",
    "^__sock_sendmsg",
    "^sock_recvmsg",
    "^sock_write_iter",
    "^sock_read_iter",
    "^sock_ioctl",
    "^sock_do_ioctl",
    "^vfs_write",
    "^vfs_read",
    "^__vfs_write",
    "^__vfs_read",
    "^new_sync_write",
    "^new_sync_read",
    "^vfs_writev",
    "^vfs_readv",
    "^do_iter_write",
    "^do_iter_read",
    "^do_iter_readv_writev",
    "^vfs_iter_write",
    "^vfs_iter_read",
    "^vfs_ioctl",
    "^do_vfs_ioctl",
    "^__fput",
    "^____fput",
    "^task_work_run",
    "^do_dentry_open",
    "^mmap_region",
    "^__mmap_region",
    "^__do_fault",
    "^rtnetlink_rcv_msg",
    "^nfnetlink_rcv_msg",
    "^netlink_dump$",
    // Socket calls multiplexed through proto_ops / proto (net/socket.c,
    // net/core/sock.c): the protocol's handler above them is the story.
    "^__sys_(?:setsockopt|getsockopt|bind|listen|connect|connect_file|accept4|accept4_file|socketpair|shutdown|shutdown_sock)$",
    "^do_sock_(?:setsockopt|getsockopt)$",
    "^do_accept$",
    "^sock_common_(?:setsockopt|getsockopt|recvmsg)$",
    "^kernel_(?:setsockopt|connect|bind|listen|accept)$",
    "^compat_sock_ioctl",
    "^sock_mmap$",
    // Closing a socket runs the protocol's release.
    "^sock_close$",
    "^__?sock_release$",
    "^sk_common_release$",
    // Block-device ioctls dispatch to the driver (block/ioctl.c).
    "^blkdev_ioctl$",
    "^blkdev_driver_ioctl$",
    "^compat_blkdev_ioctl$",
    // File operations dispatch (include/linux/fs.h, mm/mmap.c, fs/open.c).
    "^call_(?:read|write)_iter$",
    "^call_mmap$",
    "^do_mmap$",
    "^vfs_open$",
    "^__netlink_dump_start",
    "^ksys_ioctl$",
    "compat_ioctl$",
    "^(?:__x64_|__ia32_|__arm64_|__se_|__do_|__do_compat_|compat_)?(?:sys|SyS)_ioctl$",
    "^__netif_receive_skb",
    "^netif_receive_skb",
    "^process_backlog",
    "^napi_poll",
    "^__napi_poll",
    "^net_rx_action",
    // Work, timers, softirqs, threads.
    "^ret_from_fork",
    "^kthread$",
    "^worker_thread",
    "^process_one_work",
    "^process_scheduled_works",
    "^call_timer_fn",
    "^__run_timers",
    "^run_timer_softirq",
    "^expire_timers",
    "^__hrtimer_run_queues",
    "^tasklet_action",
    "^__do_softirq",
    "^handle_softirqs",
    "^rcu_do_batch",
    "^rcu_core",
    "^smpboot_thread_fn",
    "^run_ksoftirqd",
    "^cpu_startup_entry",
    "^do_idle",
    "^start_secondary",
    "^hrtimer_run_queues",
    "^tasklet_hi_action",
    "^exit_to_user_mode_loop",
    "^exit_to_usermode_loop",
    // The section label kallsyms prints for __do_softirq on older kernels.
    "^__softirqentry_text_start$",
];

/// Hung tasks sit in the scheduler, locks and waits; these are not the story.
const HANG_SKIP: &[&str] = &[
    "sched",
    "_lock",
    "_slowlock",
    "down",
    "rwsem",
    "completion",
    "kthread",
    "wait",
    "synchronize",
    "do_read_cache",
    "context_switch",
    "__switch_to",
    "cancel_delayed_work",
    "rcu_barrier",
];

/// Hung-task stacks that are grouped under one name whatever the exact frame.
const HANG_BUCKETS: &[(&str, &str)] = &[
    ("rtnl_lock", ""),
    ("synchronize_rcu", "synchronize_rcu"),
    ("synchronize_srcu", "synchronize_rcu"),
    ("synchronize_net", "synchronize_rcu"),
    ("synchronize_sched", "synchronize_rcu"),
];

pub(crate) struct FrameRules {
    frame_res: Vec<Regex>,
    stack_start: Regex,
    skip: Regex,
    /// Functions that are infrastructure by the file that defines them (the
    /// generated table), and linker-script labels, which are not functions.
    infra: HashSet<&'static [u8]>,
    stall_anchor: Regex,
    corrupted_line: Regex,
}

/// The outcome of walking a stack recipe.
#[derive(Debug, Default, Clone)]
pub(crate) struct Extracted {
    /// The frame as it appears in the stack (empty when none was found).
    pub raw: String,
    /// The name to put in the title (a bucket name may replace `raw`).
    pub name: String,
}

fn any(pats: &[&str]) -> Result<Regex, Error> {
    let joined: Vec<String> = pats.iter().map(|p| format!("(?:{p})")).collect();
    compile(&joined.join("|"))
}

impl FrameRules {
    pub(crate) fn new() -> Result<FrameRules, Error> {
        Ok(FrameRules {
            frame_res: FRAME_RES
                .iter()
                .map(|p| compile(p))
                .collect::<Result<_, _>>()?,
            stack_start: any(STACK_START)?,
            skip: any(&[SKIP, SKIP_LIBS, SKIP_FAMILIES].concat())?,
            infra: INFRA_FILES
                .iter()
                .flat_map(|(_, _, _, names)| names.split(' '))
                .chain(SECTION_LABELS.split(' '))
                .filter(|n| !n.is_empty())
                .map(str::as_bytes)
                .collect(),
            stall_anchor: any(STALL_ANCHORS)?,
            corrupted_line: any(CORRUPTED_LINES)?,
        })
    }

    fn skipped(&self, stack: &Stack, f: &[u8]) -> bool {
        self.is_infrastructure(f) || stack.skip.as_ref().is_some_and(|s| s.is_match(f))
    }

    /// All frames of a frame line (ARM lines name two).
    pub(crate) fn frame_line<'a>(&self, line: &'a [u8]) -> Option<Vec<&'a [u8]>> {
        for re in &self.frame_res {
            if let Some(c) = re.captures(line) {
                let v: Vec<&[u8]> = c.iter().skip(1).flatten().map(|m| m.as_bytes()).collect();
                return Some(v);
            }
        }
        None
    }

    /// Never the culprit: by name (the skip lists) or by where the kernel
    /// defines it (the generated table).
    pub(crate) fn is_infrastructure(&self, f: &[u8]) -> bool {
        self.infra.contains(f) || self.skip.is_match(f)
    }

    /// A frame line of the "func+0x12/0x34" kind (not the ARM "from" kind).
    pub(crate) fn is_offset_frame(&self, line: &[u8]) -> bool {
        self.frame_res.first().is_some_and(|re| re.is_match(line))
    }

    pub(crate) fn is_frame(&self, line: &[u8]) -> bool {
        self.frame_res.iter().any(|re| re.is_match(line))
    }

    pub(crate) fn is_stack_start(&self, line: &[u8]) -> bool {
        self.stack_start.is_match(line)
    }

    /// Walks `stack` over `text` (the report from the matched title on).
    pub(crate) fn extract(&self, stack: &Stack, text: &[u8]) -> Extracted {
        // Lockdep prints "... at:" and the frame on the next line; join them.
        let joined;
        let text = if crate::console::contains(text, b"at:\n") {
            joined = join_at_lines(text);
            &joined[..]
        } else {
            text
        };
        // Another task's fault-injection stack spliced into ours: no frame
        // from here can be trusted.
        if self.corrupted_line.is_match(text) {
            return Extracted::default();
        }
        let lines: Vec<&[u8]> = text.split(|&c| c == b'\n').collect();
        let mut frames: Vec<String> = Vec::new();
        let mut pos = 0;
        let mut traces = 0;
        let mut idx = 0;
        let mut matched_later = false;
        while idx < stack.parts.len() {
            match &stack.parts[idx] {
                Some(re) => {
                    let mut found = None;
                    for (i, l) in lines.iter().enumerate().skip(pos) {
                        if self.corrupted_line.is_match(l) {
                            return Extracted::default();
                        }
                        if let Some(c) = re.captures(l) {
                            found = Some(i);
                            if let Some(m) = c.get(1) {
                                self.push(stack, &mut frames, m.as_bytes());
                            }
                            break;
                        }
                    }
                    // A step that finds nothing does not consume the text:
                    // a missing RIP line must not hide the call trace.
                    // A stall report must show where the interrupted code is;
                    // without that boundary only the watchdog's stack is left.
                    if found.is_none() && idx == 0 && stack.extractor == Extractor::Stall {
                        return Extracted::default();
                    }
                    // Without its heading, what follows is no trace (the
                    // heading was lost with the rest of the report).
                    if found.is_none() && stack.heading.get(idx) == Some(&true) && idx == 0 {
                        break;
                    }
                    if let Some(i) = found {
                        pos = i + 1;
                        matched_later |= i > 0;
                    }
                }
                None => {
                    if traces > 0 {
                        let got = self.pick(stack.extractor, &frames);
                        if !got.raw.is_empty() {
                            return got;
                        }
                        frames.clear();
                    }
                    traces += 1;
                    let next_re = stack.parts.get(idx + 1).and_then(|p| p.as_ref());
                    let mut i = pos;
                    let mut jumped = false;
                    let mut in_trace = 0usize;
                    while i < lines.len() {
                        let l = lines[i];
                        i += 1;
                        if self.corrupted_line.is_match(l) {
                            return Extracted::default();
                        }
                        if self.is_stack_start(l) {
                            // A header right where the trace begins (e.g.
                            // "stack backtrace:" then "Call Trace:") is ours.
                            if in_trace == 0 {
                                continue;
                            }
                            break;
                        }
                        if let Some(re) = next_re
                            && let Some(c) = re.captures(l)
                        {
                            if let Some(m) = c.get(1) {
                                self.push(stack, &mut frames, m.as_bytes());
                            }
                            jumped = true;
                            break;
                        }
                        if let Some(fs) = self.frame_line(l) {
                            in_trace += 1;
                            for f in fs {
                                self.push(stack, &mut frames, f);
                            }
                        }
                    }
                    pos = i;
                    matched_later |= in_trace > 0;
                    if jumped {
                        idx += 1;
                    }
                }
            }
            idx += 1;
        }
        // A lone header line (e.g. the WARNING line) without anything after
        // it that looks like a stack is a truncated report.
        if stack.need_body && !matched_later {
            return Extracted::default();
        }
        self.pick(stack.extractor, &frames)
    }

    fn push(&self, stack: &Stack, frames: &mut Vec<String>, f: &[u8]) {
        // Padding symbols of function-entry patching are never real frames.
        if f.starts_with(b"__pfx_") {
            return;
        }
        let demangled;
        let f = match crate::demangle::demangle(f) {
            Some(d) => {
                demangled = d;
                &demangled[..]
            }
            None => f,
        };
        if stack.extractor == Extractor::First && self.skipped(stack, f) {
            return;
        }
        if stack.extractor != Extractor::First && stack.skip.as_ref().is_some_and(|s| s.is_match(f))
        {
            return;
        }
        frames.push(String::from_utf8_lossy(f).into_owned());
    }

    fn pick(&self, ex: Extractor, frames: &[String]) -> Extracted {
        let plain = |f: &String| Extracted {
            raw: f.clone(),
            name: f.clone(),
        };
        match ex {
            Extractor::First => frames.first().map(plain).unwrap_or_default(),
            Extractor::Stall => {
                for f in frames {
                    if f.contains("smp_call_function") {
                        return Extracted {
                            raw: f.clone(),
                            name: "smp_call_function".into(),
                        };
                    }
                }
                // Blame the frame just above the first anchor, looking past
                // infrastructure (locking, RCU helpers); when everything above
                // the anchor is infrastructure, the interrupted frame itself.
                let Some(at) = frames
                    .iter()
                    .enumerate()
                    .skip(1)
                    .find(|(_, f)| self.stall_anchor.is_match(f.as_bytes()))
                    .map(|(i, _)| i)
                else {
                    return Extracted::default();
                };
                let above = &frames[..at];
                above
                    .iter()
                    .rev()
                    .find(|f| !self.is_infrastructure(f.as_bytes()))
                    .or(above.first())
                    .map(plain)
                    .unwrap_or_default()
            }
            Extractor::Hang => {
                for f in frames {
                    for (anchor, bucket) in HANG_BUCKETS {
                        if f.contains(anchor) {
                            let name = if bucket.is_empty() {
                                f.clone()
                            } else {
                                (*bucket).to_string()
                            };
                            return Extracted {
                                raw: f.clone(),
                                name,
                            };
                        }
                    }
                }
                frames
                    .iter()
                    .find(|f| {
                        !HANG_SKIP.iter().any(|s| f.contains(s))
                            && !self.is_infrastructure(f.as_bytes())
                    })
                    .map(plain)
                    .unwrap_or_default()
            }
        }
    }
}

fn join_at_lines(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i..].starts_with(b"at:\n") {
            out.extend_from_slice(b"at: ");
            i += 4;
            while i < text.len() && text[i] == b' ' {
                i += 1;
            }
            continue;
        }
        out.push(text[i]);
        i += 1;
    }
    out
}
