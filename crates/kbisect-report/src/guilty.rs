//! The source file to blame (for picking maintainers): the first file named
//! in the report that is not generic infrastructure.

use regex::bytes::Regex;

use crate::Error;
use crate::frames::FrameRules;
use crate::oops_table::compile;
use crate::parse::Aux;

/// Files that show up in most stacks and are never the culprit.
const GUILTY_SKIP: &[&str] = &[
    r"^mm/kasan/",
    r"^mm/kmsan/",
    r"^mm/kfence/",
    r"^mm/page_alloc\.c",
    r"^mm/sl.b\.c",
    r"^mm/slab_common\.c",
    r"^mm/util\.c",
    r"^mm/kmemleak\.c",
    r"^mm/vmalloc\.c",
    r"^mm/usercopy\.c",
    r"^mm/percpu",
    r"^mm/filemap\.c",
    r"^mm/folio-compat\.c",
    r"^mm/truncate\.c",
    r"^mm/memory\.c",
    r"^mm/mempool\.c",
    r"^kernel/kcov\.c",
    r"^kernel/locking/",
    r"^kernel/panic\.c",
    r"^kernel/printk/",
    r"^kernel/softirq\.c",
    r"^kernel/kthread\.c",
    r"^kernel/sched/",
    r"^kernel/time/",
    r"^kernel/workqueue\.c",
    r"^kernel/rcu/",
    r"^kernel/entry/",
    r"^kernel/stacktrace\.c",
    r"^kernel/fork\.c",
    r"^kernel/exit\.c",
    r"^kernel/task_work\.c",
    r"^kernel/irq/",
    r"^lib/",
    r"^arch/[a-z0-9]+/include/",
    r"^arch/[a-z0-9]+/kernel/",
    r"^arch/[a-z0-9]+/entry/",
    r"^arch/[a-z0-9]+/mm/",
    r"^arch/[a-z0-9]+/lib/",
    r"^include/",
    r"^fs/proc/generic\.c",
    r"^fs/read_write\.c",
    r"^fs/inode\.c",
    r"^fs/fs-writeback\.c",
    r"^fs/file_table\.c",
    r"^fs/open\.c",
    r"^fs/namei\.c",
    r"^fs/ioctl\.c",
    r"^fs/super\.c",
    r"^fs/libfs\.c",
    r"^fs/kernfs/",
    r"^fs/sysfs/",
    r"^drivers/base/",
    r"^drivers/usb/core/urb\.c",
    r"^drivers/usb/core/message\.c",
    r"^net/core/dev\.c",
    r"^net/core/sock\.c",
    r"^net/core/skbuff\.c",
    r"^net/socket\.c",
    r"^net/ipv6/ip6_input\.c",
    r"^net/ipv4/ip_input\.c",
    r"^net/netlink/af_netlink\.c",
    r"^net/mac80211/main\.c",
    r"^virt/lib/irqbypass\.c",
    r"^security/security\.c",
    r"^trusty/",
];

pub(crate) fn skip_regex() -> Result<Regex, Error> {
    let joined: Vec<String> = GUILTY_SKIP.iter().map(|p| format!("(?:{p})")).collect();
    compile(&joined.join("|"))
}

/// The first file the report names that is not generic infrastructure (the
/// first file at all when every one is).
pub(crate) fn guilty_file(aux: &Aux, frames: &FrameRules, report: &[u8]) -> String {
    let mut first = None;
    for line in report.split(|&c| c == b'\n') {
        let Some(m) = aux.source_file.captures(line).and_then(|c| c.get(1)) else {
            continue;
        };
        let cleaned = clean_path(m.as_bytes());
        let f = &cleaned[..];
        if aux.guilty_line_skip.is_match(line) {
            continue;
        }
        first.get_or_insert_with(|| f.to_vec());
        if aux.guilty_skip.is_match(f) {
            continue;
        }
        // A frame of infrastructure code does not make its file guilty.
        if let Some(names) = frames.frame_line(line)
            && names.first().is_some_and(|n| frames.is_infrastructure(n))
        {
            continue;
        }
        return String::from_utf8_lossy(f).into_owned();
    }
    first
        .map(|f| String::from_utf8_lossy(&f).into_owned())
        .unwrap_or_default()
}

/// Resolves `.` and `..` ("arch/x86/kvm/../../../virt/kvm/eventfd.c").
fn clean_path(p: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in p.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            _ => parts.push(c),
        }
    }
    parts.join(&b'/')
}
