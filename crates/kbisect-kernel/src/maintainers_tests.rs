#![allow(clippy::unwrap_used)]
use super::*;

const SMALL: &str = "\
List of maintainers
===================

Descriptions of section entries and preferred order
---------------------------------------------------

\tM: *Mail* patches to: FullName <address@domain>
\tF: *Files* and directories wildcard patterns.

Maintainers List
----------------

.. note:: When reading this list, please look for the most precise areas
          first. When adding to this list, please keep the entries in
          alphabetical order.

3C59X NETWORK DRIVER
M:\tSteffen Klassert <klassert@kernel.org>
L:\tnetdev@vger.kernel.org
S:\tOdd Fixes
F:\tdrivers/net/ethernet/3com/3c59x.c

DOCUMENTATION
M:\tJonathan Corbet <corbet@lwn.net>
L:\tlinux-doc@vger.kernel.org
S:\tMaintained
F:\tDocumentation

NETWORKING DRIVERS
M:\t\"David S. Miller\" <davem@davemloft.net>
M:\tJakub Kicinski <kuba@kernel.org>
R:\tEve Reviewer <eve@example.org>
L:\tnetdev@vger.kernel.org
S:\tMaintained
F:\tdrivers/net/
X:\tdrivers/net/wireless/

NETWORKING DRIVERS TOP-LEVEL FILES AND A VERY LONG SECTION NAME INDEED
M:\tTop Level <top@example.org>
R:\tDavid Miller <DAVEM@davemloft.net>
S:\tMaintained
F:\tdrivers/net/*.c

NETWORKING DRIVERS (WIRELESS)
M:\tKalle Valo <kvalo@kernel.org>
L:\tlinux-wireless@vger.kernel.org
S:\tSupported
F:\tdrivers/net/wireless/

PRCTL
M:\tCarol Core <carol@example.com>
S:\tMaintained
F:\tkernel/sys.c
F:\tinclude/uapi/linux/prctl.h
K:\t\\bPR_GET_AUXV\\b

SOUND
M:\tJaroslav Kysela <perex@perex.cz>
L:\talsa-devel@alsa-project.org (moderated for non-subscribers)
L:\tsecret@example.org (subscribers-only)
S:\tSupported
F:\tsound/
N:\tsnd

THE REST
M:\tLinus Torvalds <torvalds@linux-foundation.org>
L:\tlinux-kernel@vger.kernel.org
S:\tBuried alive in reporters
F:\t*
F:\t*/
";

fn small() -> Maintainers {
    Maintainers::parse(SMALL, None)
}

fn shown(m: &Maintainers, files: &[&str], patch: Option<&str>) -> Vec<String> {
    m.get_maintainers(files, patch)
        .into_iter()
        .map(|m| match m.name {
            Some(n) => format!("{n} <{}> ({})", m.address, m.role),
            None => format!("{} ({})", m.address, m.role),
        })
        .collect()
}

fn set(a: &[&str]) -> BTreeSet<String> {
    a.iter().map(|s| s.to_string()).collect()
}

#[test]
fn sections_and_entries_are_parsed() {
    let m = small();
    let names: Vec<&str> = m.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names.len(), 8);
    assert_eq!(names[0], "3C59X NETWORK DRIVER");
    assert_eq!(names[7], "THE REST");
    assert_eq!(
        m.sections[5].entries[0],
        ('M', "Carol Core <carol@example.com>".to_owned())
    );
}

#[test]
fn a_file_only_the_rest_covers_goes_to_lkml() {
    let m = small();
    assert_eq!(
        shown(&m, &["init/main.c"], None),
        ["linux-kernel@vger.kernel.org (open list)"]
    );
    let r = m.recipients(&["init/main.c"], None);
    assert_eq!(r.to, set(&[LKML]));
    assert!(r.cc.is_empty());
    // A top-level file matches `*` (same depth), not `*/`.
    assert_eq!(m.sections_for("Makefile").len(), 1);
}

#[test]
fn subsystem_maintainers_lists_and_reviewers() {
    let m = small();
    assert_eq!(
        shown(&m, &["drivers/net/ethernet/3com/3c59x.c"], None),
        [
            "Steffen Klassert <klassert@kernel.org> (odd fixer:3C59X NETWORK DRIVER)",
            "David S. Miller <davem@davemloft.net> (maintainer:NETWORKING DRIVERS)",
            "Jakub Kicinski <kuba@kernel.org> (maintainer:NETWORKING DRIVERS)",
            "Eve Reviewer <eve@example.org> (reviewer:NETWORKING DRIVERS)",
            "netdev@vger.kernel.org (open list:3C59X NETWORK DRIVER)",
            "linux-kernel@vger.kernel.org (open list)",
        ]
    );
    let r = m.recipients(&["drivers/net/ethernet/3com/3c59x.c"], None);
    assert_eq!(
        r.to,
        set(&[
            "davem@davemloft.net",
            "kuba@kernel.org",
            "netdev@vger.kernel.org"
        ])
    );
    assert_eq!(r.cc, set(&["eve@example.org", "klassert@kernel.org", LKML]));
}

#[test]
fn excludes_depth_and_duplicates() {
    let m = small();
    // X: takes the wireless driver out of NETWORKING DRIVERS.
    let r = m.recipients(&["drivers/net/wireless/ath/main.c"], None);
    assert_eq!(
        r.to,
        set(&["kvalo@kernel.org", "linux-wireless@vger.kernel.org"])
    );
    assert_eq!(r.cc, set(&[LKML]));
    // `drivers/net/*.c` covers drivers/net/loopback.c but not deeper files.
    // Its section is deeper, so it comes first, and davem keeps the role he
    // has there (reviewer): get_maintainer.pl adds an address only once.
    assert_eq!(
        shown(&m, &["drivers/net/loopback.c"], None)[..3],
        [
            "Top Level <top@example.org> (maintainer:NETWORKING DRIVERS TOP-LEVEL FILES AND A VERY L...)",
            "David Miller <DAVEM@davemloft.net> (reviewer:NETWORKING DRIVERS TOP-LEVEL FILES AND A VERY L...)",
            "Jakub Kicinski <kuba@kernel.org> (maintainer:NETWORKING DRIVERS)",
        ]
    );
    let r = m.recipients(&["drivers/net/loopback.c"], None);
    assert!(r.cc.contains("davem@davemloft.net") && !r.to.contains("davem@davemloft.net"));
    assert!(
        !m.sections_for("drivers/net/phy/phy.c")
            .iter()
            .any(|s| s.name.starts_with("NETWORKING DRIVERS TOP"))
    );
    // Several files: union, each address once.
    let r = m.recipients(
        &[
            "drivers/net/loopback.c",
            "drivers/net/wireless/x.c",
            "init/main.c",
        ],
        None,
    );
    assert!(r.to.contains("top@example.org") && r.to.contains("kvalo@kernel.org"));
    assert!(r.cc.contains(LKML) && !r.to.contains(LKML));
}

#[test]
fn moderated_lists_count_subscriber_lists_do_not() {
    let m = small();
    let r = m.recipients(&["sound/core/init.c"], None);
    assert_eq!(
        r.to,
        set(&["alsa-devel@alsa-project.org", "perex@perex.cz"])
    );
    assert_eq!(r.cc, set(&[LKML]));
    // N: matches anywhere in the path.
    let names: Vec<&str> = m
        .sections_for("include/linux/snd_pcm.h")
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(names, ["SOUND", "THE REST"]);
}

#[test]
fn keywords_match_the_message_and_changed_lines_only() {
    let m = small();
    let patch = |msg: &str, line: &str| {
        format!(
            "commit 0123\nAuthor: A <a@example.org>\n\n    {msg}\n\ndiff --git a/fs/other.c b/fs/other.c\n--- a/fs/other.c\n+++ b/fs/other.c\n@@ -1,3 +1,3 @@\n{line}\n"
        )
    };
    let hit = m.recipients(
        &["fs/other.c"],
        Some(&patch("fs: tidy", "+\tif (opt == PR_GET_AUXV)")),
    );
    assert!(hit.to.contains("carol@example.com"));
    let shown = shown(
        &m,
        &["fs/other.c"],
        Some(&patch("fs: tidy", "-\tPR_GET_AUXV;")),
    );
    assert!(
        shown.contains(
            &"Carol Core <carol@example.com> (maintainer:PRCTL:Keyword:\\bPR_GET_AUXV\\b)"
                .to_owned()
        ),
        "{shown:?}"
    );
    let msg = m.recipients(
        &["fs/other.c"],
        Some(&patch("fs: handle PR_GET_AUXV", " context")),
    );
    assert!(msg.to.contains("carol@example.com"));
    let context = m.recipients(&["fs/other.c"], Some(&patch("fs: tidy", " \tPR_GET_AUXV;")));
    assert!(!context.to.contains("carol@example.com"));
}

#[test]
fn directory_patterns_without_a_slash_need_the_tree() {
    let m = small();
    // Without a tree, `F: Documentation` is a file pattern of depth 0.
    assert!(
        m.sections_for("Documentation/process/howto.rst")
            .iter()
            .all(|s| s.name != "DOCUMENTATION")
    );
    let tree = tempfile::tempdir().unwrap();
    std::fs::create_dir(tree.path().join("Documentation")).unwrap();
    std::fs::write(tree.path().join("MAINTAINERS"), SMALL).unwrap();
    let m = Maintainers::read(tree.path()).unwrap();
    let r = m.recipients(&["Documentation/process/howto.rst"], None);
    assert_eq!(r.to, set(&["corbet@lwn.net", "linux-doc@vger.kernel.org"]));
    assert!(Maintainers::read(&tree.path().join("nope")).is_err());
}

#[test]
fn email_forms() {
    assert_eq!(
        parse_email("\"A. B\" <a@b.org>"),
        Some((Some("A. B".into()), "a@b.org".into()))
    );
    assert_eq!(parse_email("<a@b.org>"), Some((None, "a@b.org".into())));
    assert_eq!(
        parse_email("a@b.org (comment)"),
        Some((None, "a@b.org".into()))
    );
    assert_eq!(parse_email("nobody"), None);
}
