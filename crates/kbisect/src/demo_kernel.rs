//! `kbisect demo --kernel`'s case: a git repository of Debian's
//! linux-source tarball (one import commit tagged like a stable release),
//! then 28 commits with three merges and a second release tag — changes to
//! files the config does not build, comments appended to built files (the
//! binary stays the same), message rewordings (it does not) — and one
//! commit that plants a `WARN_ON_ONCE` in `prctl(PR_GET_AUXV)` that the
//! reproducer reaches. Deterministic: fixed identities and dates, so the
//! same tarball always gives the same hashes. Every edit is anchored on text
//! of the 6.12 tree and fails loudly when the anchor is missing.
//!
//! (`bench/kernel-e2e/make-tree.sh` makes the same tree from the shell.)

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use kbisect_proc::Cmd;

/// The kernel config fragment merged over `make tinyconfig`: boots under
/// qemu TCG to a static `/init`, prints WARN reports on ttyS0.
pub const TINY_CONFIG: &str = include_str!("../../../bench/kernel-e2e/tiny.config");
/// The reproducer: `prctl(PR_GET_AUXV)` with a buffer shorter than one entry.
pub const REPRO_C: &str = include_str!("../../../bench/kernel-e2e/repro.c");

/// The generated case.
pub struct KernelDemo {
    /// The tree.
    pub repo: PathBuf,
    /// The planted commit.
    pub culprit: String,
    /// Its title.
    pub culprit_title: String,
    /// The start commit (HEAD of master).
    pub head: String,
    /// The full kernel config (tinyconfig + the fragment, olddefconfig'd).
    pub config: PathBuf,
    /// The reproducer.
    pub repro: PathBuf,
    /// Commits between the import and HEAD.
    pub commits: usize,
}

const MARKER: &str = ".git/kbisect-kernel-demo";
const CULPRIT_TITLE: &str = "prctl: warn about PR_GET_AUXV buffers too short for an entry";
const BASE_TIME: u64 = 1_731_830_400; // 2024-11-17 08:00 UTC

struct Tree {
    dir: PathBuf,
    step: u64,
}

type Person = (&'static str, &'static str);
const ALICE: Person = ("Alice Doc", "alice@example.org");
const BOB: Person = ("Bob Net", "bob@example.net");
const CAROL: Person = ("Carol Core", "carol@example.com");
const DAVE: Person = ("Dave Drivers", "dave@example.com");
const EVE: Person = ("Eve Reviewer", "eve@example.org");
const STABLE: Person = ("Stable Maintainer", "stable-maint@example.org");

impl Tree {
    fn git_as(&mut self, who: Person, args: &[&str]) -> Result<String> {
        self.step += 1;
        let date = format!("@{} +0000", BASE_TIME + self.step * 3600);
        let out = Cmd::new("git")
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args([
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "core.autocrlf=false",
            ])
            .args(args)
            .cwd(&self.dir)
            .env("GIT_AUTHOR_NAME", who.0)
            .env("GIT_AUTHOR_EMAIL", who.1)
            .env("GIT_COMMITTER_NAME", who.0)
            .env("GIT_COMMITTER_EMAIL", who.1)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .timeout(Duration::from_secs(600))
            .run_checked()
            .with_context(|| format!("git {}", args.join(" ")))?;
        Ok(out.stdout_str().trim().to_string())
    }

    fn git(&mut self, args: &[&str]) -> Result<String> {
        self.git_as(STABLE, args)
    }

    /// Commits everything with a message whose last paragraph is the trailers.
    fn commit(&mut self, who: Person, subject: &str, body: &str, trailers: &[&str]) -> Result<()> {
        let mut msg = format!("{subject}\n\n{body}\n");
        for t in trailers {
            msg.push('\n');
            msg.push_str(t);
        }
        msg.push_str(&format!("\nSigned-off-by: {} <{}>", who.0, who.1));
        self.git_as(who, &["add", "-A"])?;
        self.git_as(who, &["commit", "-q", "-m", &msg])?;
        kbisect_proc::failpoint::hit("demo-generate");
        Ok(())
    }

    fn merge(&mut self, branch: &str, subject: &str) -> Result<()> {
        self.git(&["merge", "-q", "--no-ff", "--no-edit", "-m", subject, branch])
            .map(|_| ())
    }

    fn path(&self, rel: &str) -> Result<PathBuf> {
        let p = self.dir.join(rel);
        if !p.is_file() {
            bail!("the tarball has no {rel}: not the 6.12 tree this demo is made for");
        }
        Ok(p)
    }

    /// Appends a comment at the very end of a file: no line of code moves,
    /// so a built file's binary stays the same.
    fn append_c(&self, rel: &str, text: &str) -> Result<()> {
        self.append(rel, &format!("\n/* {text} */\n"))
    }

    fn append_txt(&self, rel: &str, text: &str) -> Result<()> {
        self.append(rel, &format!("\n{text}\n"))
    }

    fn append(&self, rel: &str, text: &str) -> Result<()> {
        let p = self.path(rel)?;
        let mut s = std::fs::read(&p)?;
        s.extend_from_slice(text.as_bytes());
        std::fs::write(&p, s)?;
        Ok(())
    }

    /// Replaces the one occurrence of `old`.
    fn replace(&self, rel: &str, old: &str, new: &str) -> Result<()> {
        let p = self.path(rel)?;
        let s = String::from_utf8_lossy(&std::fs::read(&p)?).into_owned();
        let n = s.matches(old).count();
        if n != 1 {
            bail!(
                "expected 1 match of the anchor in {rel}, found {n}: not the 6.12 tree this demo is made for"
            );
        }
        std::fs::write(&p, s.replacen(old, new, 1))?;
        Ok(())
    }

    fn makefile_var(&self, name: &str) -> Result<u32> {
        let text = std::fs::read_to_string(self.path("Makefile")?)?;
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} = ")))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("no {name} in the Makefile"))
    }
}

/// The tarball: `$KBISECT_LINUX_TARBALL`, else Debian's linux-source-6.12.
pub fn default_tarball() -> PathBuf {
    std::env::var_os("KBISECT_LINUX_TARBALL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/src/linux-source-6.12.tar.xz"))
}

/// Makes the case in `base` (`base/linux`, `base/kernel.config`,
/// `base/repro.c`), or reuses it when a complete one is there.
pub fn prepare(base: &Path, tarball: &Path) -> Result<KernelDemo> {
    let repo = base.join("linux");
    let done = repo.join(MARKER);
    if !done.is_file() {
        if !tarball.is_file() {
            bail!(
                "{} is missing: install it (apt-get install linux-source-6.12) or give --tarball",
                tarball.display()
            );
        }
        std::fs::create_dir_all(base)?;
        // Generated aside and renamed into place once complete, so a demo
        // killed half way leaves nothing that looks like a finished tree.
        let scratch = base.join(format!("linux.generating-{}", std::process::id()));
        for e in std::fs::read_dir(base)?.flatten() {
            if e.file_name()
                .to_string_lossy()
                .starts_with("linux.generating-")
            {
                std::fs::remove_dir_all(e.path())?;
            }
        }
        if repo.exists() {
            std::fs::remove_dir_all(&repo)?;
        }
        let out = make_tree(&scratch, tarball)?;
        std::fs::write(scratch.join(MARKER), out)?;
        std::fs::rename(&scratch, &repo)?;
    }
    let text = std::fs::read_to_string(&done)?;
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k} ")))
            .map(str::to_string)
            .with_context(|| format!("{} lacks '{k}'", done.display()))
    };
    let repro = base.join("repro.c");
    std::fs::write(&repro, REPRO_C)?;
    let config = base.join("kernel.config");
    if !config.is_file() {
        make_config(&repo, base, &config)?;
    }
    Ok(KernelDemo {
        culprit: field("culprit")?,
        culprit_title: CULPRIT_TITLE.to_string(),
        head: field("head")?,
        commits: field("commits")?.parse().unwrap_or(0),
        repo,
        config,
        repro,
    })
}

/// `make tinyconfig`, the fragment after it (a later line wins a kconfig
/// choice), `make olddefconfig`, and a check that every line survived.
fn make_config(repo: &Path, base: &Path, out: &Path) -> Result<()> {
    let build = base.join("config-build");
    std::fs::create_dir_all(&build)?;
    let make = |target: &str| {
        Cmd::new("make")
            .arg("-s")
            .arg("-C")
            .arg(repo)
            .arg(format!("O={}", build.display()))
            .arg(target)
            .timeout(Duration::from_secs(900))
            .run_checked()
            .with_context(|| format!("make {target} (are flex, bison and bc installed?)"))
    };
    make("tinyconfig")?;
    let dot = build.join(".config");
    let mut text = std::fs::read_to_string(&dot)?;
    text.push_str(TINY_CONFIG);
    std::fs::write(&dot, text)?;
    make("olddefconfig")?;
    let got = std::fs::read_to_string(&dot)?;
    // Options turned off may vanish altogether (their dependencies are off
    // too); those turned on must be there.
    for want in TINY_CONFIG
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        if !got.lines().any(|l| l == want) {
            bail!("make olddefconfig dropped '{want}' of the demo's config");
        }
    }
    std::fs::copy(&dot, out)?;
    Ok(())
}

/// The tree itself; returns the marker's text (`culprit H`, `head H`, ...).
fn make_tree(dir: &Path, tarball: &Path) -> Result<String> {
    std::fs::create_dir_all(dir)?;
    Cmd::new("tar")
        .arg("-xJf")
        .arg(tarball)
        .arg("-C")
        .arg(dir)
        .arg("--strip-components=1")
        .timeout(Duration::from_secs(1800))
        .run_checked()
        .context("unpacking the kernel tarball")?;
    // Debian's .gitignore ends with a block ignoring every top-level entry
    // ("/*" ... "!/debian/"): drop it, keep the kernel's own rules.
    let gi = dir.join(".gitignore");
    let text = std::fs::read_to_string(&gi)?;
    let mut kept = Vec::new();
    let mut skip = false;
    for l in text.lines() {
        if l.starts_with("# Debian packaging") {
            skip = true;
        }
        if !skip {
            kept.push(l);
        }
        if skip && l == "!/debian/" {
            skip = false;
        }
    }
    std::fs::write(&gi, kept.join("\n") + "\n")?;

    let mut t = Tree {
        dir: dir.to_path_buf(),
        step: 0,
    };
    t.git(&["init", "-q", "-b", "master", "."])?;
    t.git(&["config", "gc.auto", "0"])?;
    let (version, patchlevel, sublevel) = (
        t.makefile_var("VERSION")?,
        t.makefile_var("PATCHLEVEL")?,
        t.makefile_var("SUBLEVEL")?,
    );
    let good = format!("v{version}.{patchlevel}.{sublevel}");
    let bad = format!("v{version}.{patchlevel}.{}", sublevel + 1);
    t.git(&["add", "-A"])?;
    t.git(&[
        "commit",
        "-q",
        "-m",
        &format!("Linux {version}.{patchlevel}.{sublevel}"),
    ])?;
    t.git(&["tag", "-a", &good, "-m", &format!("Linux {}", &good[1..])])?;

    // Up to the second release.
    t.append_txt(
        "Documentation/process/coding-style.rst",
        "Prefer the kernel's own helpers over open-coded equivalents.",
    )?;
    t.commit(
        ALICE,
        "Documentation: coding-style: prefer existing helpers",
        "Say once that existing helpers beat open-coded loops.",
        &[],
    )?;
    t.append_c(
        "drivers/net/ethernet/intel/e1000e/netdev.c",
        "The watchdog task runs every two seconds.",
    )?;
    t.commit(
        BOB,
        "e1000e: document the watchdog period",
        "The period was only implied by the timer setup.",
        &[],
    )?;

    t.git(&["branch", "docs-next"])?;
    t.git(&["checkout", "-q", "docs-next"])?;
    t.append_txt(
        "Documentation/admin-guide/README.rst",
        "See also the kernel-parameters document.",
    )?;
    t.commit(
        ALICE,
        "Documentation: admin-guide: point at kernel-parameters",
        "A cross reference readers asked for.",
        &[],
    )?;
    t.append_txt(
        "Documentation/filesystems/proc.rst",
        "Fields may be added at the end of these files.",
    )?;
    t.commit(
        ALICE,
        "Documentation: proc: fields may be appended",
        "State the compatibility rule.",
        &[],
    )?;
    t.append_txt(
        "Documentation/process/howto.rst",
        "Patches are reviewed on the mailing lists.",
    )?;
    t.commit(
        ALICE,
        "Documentation: howto: where review happens",
        "One line for newcomers.",
        &[],
    )?;
    t.git(&["checkout", "-q", "master"])?;

    t.replace(
        "init/main.c",
        "pr_err(\"Warning: unable to open an initial console.\\n\");",
        "pr_err(\"Warning: unable to open an initial console\\n\");",
    )?;
    t.commit(
        CAROL,
        "init: drop the full stop of the console warning",
        "Kernel messages do not end with a full stop.",
        &[],
    )?;

    t.git(&["branch", "prctl"])?;
    t.git(&["checkout", "-q", "prctl"])?;
    t.append_c(
        "kernel/sys.c",
        "prctl option numbers are ABI: new options only ever get new numbers.",
    )?;
    t.commit(
        CAROL,
        "kernel/sys: note on prctl option numbering",
        "Comment only.",
        &[],
    )?;
    // The planted bug: a sanity check that userspace can trip at will.
    t.replace(
        "kernel/sys.c",
        "\tunsigned long size = min_t(unsigned long, sizeof(mm->saved_auxv), len);\n\n\tif (size && copy_to_user(addr, mm->saved_auxv, size))",
        "\tunsigned long size = min_t(unsigned long, sizeof(mm->saved_auxv), len);\n\n\t/* A buffer that cannot hold one (type, value) pair is a caller bug. */\n\tWARN_ON_ONCE(len && len < 2 * sizeof(unsigned long));\n\tif (size && copy_to_user(addr, mm->saved_auxv, size))",
    )?;
    t.commit(
        CAROL,
        CULPRIT_TITLE,
        "A buffer shorter than one auxv entry cannot be what the caller meant:\nmake such calls visible.",
        &[
            &format!("Reviewed-by: {} <{}>", EVE.0, EVE.1),
            "Cc: stable@vger.kernel.org",
        ],
    )?;
    let culprit = t.git(&["rev-parse", "HEAD"])?;
    t.append_c(
        "kernel/sys.c",
        "The uname helpers above copy at most __NEW_UTS_LEN + 1 bytes.",
    )?;
    t.commit(
        CAROL,
        "kernel/sys: note on the uname helpers",
        "Comment only.",
        &[],
    )?;
    t.git(&["checkout", "-q", "master"])?;

    t.append_c(
        "fs/ext4/super.c",
        "Journal checksums are verified before replay.",
    )?;
    t.commit(
        DAVE,
        "ext4: note when journal checksums are verified",
        "Comment only.",
        &[],
    )?;
    t.merge("docs-next", "Merge branch 'docs-next'")?;
    t.append_c("net/ipv4/tcp.c", "tcp_poll() must not sleep.")?;
    t.commit(
        BOB,
        "tcp: say that tcp_poll() must not sleep",
        "Comment only.",
        &[],
    )?;
    t.append_c(
        "drivers/gpu/drm/drm_drv.c",
        "drm_dev_unplug() may be called with open files.",
    )?;
    t.commit(
        DAVE,
        "drm: document drm_dev_unplug() with open files",
        "Comment only.",
        &[],
    )?;
    t.append_c(
        "lib/string.c",
        "Architectures may override any of the helpers above.",
    )?;
    t.commit(
        CAROL,
        "lib/string: architectures may override helpers",
        "Comment only.",
        &[],
    )?;
    t.append_c(
        "sound/core/init.c",
        "Cards are freed once the last file is closed.",
    )?;
    t.commit(
        DAVE,
        "ALSA: core: when cards are freed",
        "Comment only.",
        &[],
    )?;
    t.merge("prctl", "Merge branch 'prctl'")?;
    t.append_c(
        "kernel/printk/printk.c",
        "The console lock is not taken from NMI context.",
    )?;
    t.commit(CAROL, "printk: note on NMI context", "Comment only.", &[])?;

    t.replace(
        "Makefile",
        &format!("SUBLEVEL = {sublevel}"),
        &format!("SUBLEVEL = {}", sublevel + 1),
    )?;
    t.git(&["commit", "-q", "-a", "-m", &format!("Linux {}", &bad[1..])])?;
    t.git(&["tag", "-a", &bad, "-m", &format!("Linux {}", &bad[1..])])?;

    // After the second release.
    t.append_c(
        "mm/page_alloc.c",
        "Watermarks are recomputed when min_free_kbytes changes.",
    )?;
    t.commit(
        CAROL,
        "mm/page_alloc: when watermarks are recomputed",
        "Comment only.",
        &[],
    )?;
    t.git(&["branch", "drivers-next"])?;
    t.git(&["checkout", "-q", "drivers-next"])?;
    t.append_c(
        "drivers/usb/core/hub.c",
        "Port power is switched per port where the hub supports it.",
    )?;
    t.commit(
        DAVE,
        "usb: hub: per-port power switching note",
        "Comment only.",
        &[],
    )?;
    t.append_c(
        "drivers/gpu/drm/drm_file.c",
        "Events are dropped when the file is closed.",
    )?;
    t.commit(
        DAVE,
        "drm: file: closed files drop events",
        "Comment only.",
        &[],
    )?;
    t.append_c(
        "drivers/input/input.c",
        "Handlers see events in registration order.",
    )?;
    t.commit(DAVE, "Input: event order note", "Comment only.", &[])?;
    t.git(&["checkout", "-q", "master"])?;
    t.replace(
        "init/main.c",
        "pr_err(\"Failed to execute %s (error %d)\\n\",\n\t\t       ramdisk_execute_command, ret);",
        "pr_err(\"Failed to execute %s (error %d) from the initramfs\\n\",\n\t\t       ramdisk_execute_command, ret);",
    )?;
    t.replace(
        "kernel/panic.c",
        "\"panic_on_taint: bitmask=0x%lx nousertaint_mode=%s\\n\"",
        "\"panic_on_taint: bitmask=0x%lx, nousertaint_mode=%s\\n\"",
    )?;
    t.replace(
        "fs/exec.c",
        "with NULL argv: empty string added",
        "with NULL argv: added an empty string",
    )?;
    t.commit(
        CAROL,
        "treewide: reword three rarely seen messages",
        "Touches init/main.c, kernel/panic.c and fs/exec.c.",
        &[],
    )?;
    t.append_txt(
        "Documentation/admin-guide/sysrq.rst",
        "The sysrq key is disabled by default on some distributions.",
    )?;
    t.commit(
        ALICE,
        "Documentation: sysrq: default state varies",
        "One line.",
        &[],
    )?;
    t.merge("drivers-next", "Merge branch 'drivers-next'")?;
    t.append_c(
        "kernel/fork.c",
        "copy_process() is the only place a task_struct is born.",
    )?;
    t.commit(CAROL, "fork: where tasks are born", "Comment only.", &[])?;
    t.append_c(
        "tools/perf/builtin-record.c",
        "The ring buffer size is rounded to a power of two.",
    )?;
    t.commit(
        BOB,
        "perf record: ring buffer rounding note",
        "Comment only.",
        &[],
    )?;
    t.append_c(
        "kernel/sched/core.c",
        "The runqueue lock nests inside pi_lock.",
    )?;
    t.commit(CAROL, "sched: lock nesting note", "Comment only.", &[])?;

    t.git(&["branch", "-q", "-D", "docs-next", "prctl", "drivers-next"])?;
    let head = t.git(&["rev-parse", "HEAD"])?;
    let commits = t.git(&["rev-list", "--count", &format!("{good}..HEAD")])?;
    Ok(format!(
        "culprit {culprit}\ngood {good}\nbad {bad}\nhead {head}\ncommits {commits}\n"
    ))
}
