use super::*;

fn kv(makefile_version: &str) -> KernelVersion {
    let (nums, extra) = match makefile_version.split_once('-') {
        Some((n, e)) => (n, format!("-{e}")),
        None => (makefile_version, String::new()),
    };
    let p: Vec<&str> = nums.split('.').collect();
    KernelVersion::from_makefile(&format!(
        "VERSION = {}\nPATCHLEVEL = {}\nSUBLEVEL = {}\nEXTRAVERSION = {extra}\n",
        p[0], p[1], p[2]
    ))
    .unwrap()
}

fn strict() -> CompilerLookup {
    CompilerLookup::default()
}

/// An executable file standing in for a versioned compiler.
fn fake_compiler(dir: &Path, rel: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, "#!/bin/sh\necho fake\n").unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p.display().to_string()
}

#[test]
fn builtin_gcc_table_matches_syzbot() {
    let t = ToolchainTable::builtin().unwrap();
    // The default entry must work on any machine with gcc.
    let tc = t
        .resolve(&kv("6.12.117"), CompilerFamily::Gcc, &strict())
        .unwrap();
    assert_eq!(
        (tc.compiler.as_str(), tc.wanted.as_str(), tc.note),
        ("gcc", "default", None)
    );
    assert!(tc.cherry_picks.is_empty());
    assert_eq!(tc.config_changes.get("CONFIG_KCOV"), Some(&ConfigValue::No));
    assert!(!tc.config_changes.contains_key("CONFIG_UNWINDER_ORC"));
    let wanted = |v: &str| match t.resolve(&kv(v), CompilerFamily::Gcc, &strict()) {
        Ok(tc) => tc.wanted,
        Err(ToolchainError::CompilerMissing { version, .. }) => version,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(wanted("5.16.0"), "default");
    // An -rc of v5.16 is still built like v5.15.
    assert_eq!(wanted("5.16.0-rc1"), "10.1");
    assert_eq!(wanted("5.15.120"), "10.1");
    assert_eq!(wanted("5.9.0"), "10.1");
    assert_eq!(wanted("5.8.18"), "8.1");
    assert_eq!(wanted("4.12.0"), "8.1");
    assert_eq!(wanted("4.11.12"), "7.3");
    assert_eq!(wanted("4.10.0"), "5.5");
    assert_eq!(wanted("3.18.0"), "5.5");
}

#[test]
fn builtin_clang_table_matches_syzbot() {
    let t = ToolchainTable::builtin().unwrap();
    let lookup = CompilerLookup {
        fallback_to_default: true,
        ..CompilerLookup::default()
    };
    let wanted = |v: &str| {
        t.resolve(&kv(v), CompilerFamily::Clang, &lookup)
            .unwrap()
            .wanted
    };
    assert_eq!(wanted("6.15.0"), "default");
    assert_eq!(wanted("6.14.3"), "15");
    assert_eq!(wanted("5.9.0"), "15");
    assert_eq!(wanted("5.8.0"), "9.0.1");
}

#[test]
fn a_missing_compiler_is_a_clear_error_or_a_noted_fallback() {
    let t = ToolchainTable::builtin().unwrap();
    let e = t
        .resolve(&kv("4.14.300"), CompilerFamily::Gcc, &strict())
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.starts_with("kernel 4.14.300 needs gcc 8.1 (toolchain table), but none of gcc-8.1.0, gcc-8.1, gcc-8 is installed"),
        "{msg}"
    );
    let lookup = CompilerLookup {
        default_command: Some("gcc-12".into()),
        fallback_to_default: true,
        ..CompilerLookup::default()
    };
    let tc = t
        .resolve(&kv("4.14.300"), CompilerFamily::Gcc, &lookup)
        .unwrap();
    assert_eq!(tc.compiler, "gcc-12");
    assert_eq!(
        tc.note.as_deref(),
        Some("gcc 8.1 (toolchain table for kernel 4.14.300) is not installed; using gcc-12")
    );
    // Old versions collect every tweak that still applies.
    assert_eq!(
        tc.config_changes.get("CONFIG_UNWINDER_ORC"),
        Some(&ConfigValue::No)
    );
    assert_eq!(
        tc.config_changes.get("CONFIG_UNWINDER_FRAME_POINTER"),
        Some(&ConfigValue::Yes)
    );
    assert_eq!(
        tc.config_changes.get("CONFIG_USBIP_VUDC"),
        Some(&ConfigValue::No)
    );
    assert!(!tc.config_changes.contains_key("CONFIG_CAN"));
    assert!(tc.reasons.iter().any(|r| r.contains("ORC")));
    let old = t
        .resolve(&kv("4.0.9"), CompilerFamily::Gcc, &lookup)
        .unwrap();
    assert_eq!(old.cherry_picks.len(), 1);
    assert_eq!(
        old.cherry_picks[0].as_str(),
        "99124e4db5b7b70daeaaf1d88a6a8078a0004c6e"
    );
}

#[test]
fn versioned_compilers_are_found_in_toolchain_dirs() {
    let dir = tempfile::tempdir().unwrap();
    let gcc8 = fake_compiler(dir.path(), "gcc-8.1.0/bin/gcc");
    let lookup = CompilerLookup {
        toolchain_dirs: vec![dir.path().to_owned()],
        ..CompilerLookup::default()
    };
    let t = ToolchainTable::builtin().unwrap();
    let tc = t
        .resolve(&kv("4.19.1"), CompilerFamily::Gcc, &lookup)
        .unwrap();
    assert_eq!(tc.compiler, gcc8);
    let e = t
        .resolve(&kv("5.10.1"), CompilerFamily::Gcc, &lookup)
        .unwrap_err();
    assert!(
        e.to_string()
            .contains(&format!("{}/gcc-10.1.0/bin/gcc", dir.path().display())),
        "{e}"
    );
}

#[test]
fn user_file_extends_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let mine = fake_compiler(dir.path(), "bin/my-gcc");
    let text = format!(
        r#"
[[compiler]]
family = "gcc"
since = "v5.16"
version = "12"
command = "{mine}"

[[compiler]]
family = "gcc"
since = "v6.10"
version = "default"

[[tweak]]
since = "v6.0"
disable = ["CONFIG_MY_DEBUG"]
set = {{ LOG_BUF_SHIFT = "18", CMDLINE = "\"quiet\"" }}
cherry_pick = ["0123456789abcdef0123456789abcdef01234567"]
why = "mine"
"#
    );
    let path = dir.path().join("toolchains.toml");
    std::fs::write(&path, text).unwrap();
    let t = ToolchainTable::with_user_file(&path).unwrap();
    // Same `since` as a built-in entry: the user's wins.
    let tc = t
        .resolve(&kv("6.1.0"), CompilerFamily::Gcc, &strict())
        .unwrap();
    assert_eq!(
        (tc.compiler.as_str(), tc.wanted.as_str()),
        (mine.as_str(), "12")
    );
    assert_eq!(
        tc.config_changes.get("CONFIG_MY_DEBUG"),
        Some(&ConfigValue::No)
    );
    assert_eq!(
        tc.config_changes.get("CONFIG_LOG_BUF_SHIFT"),
        Some(&ConfigValue::Number("18".into()))
    );
    assert_eq!(
        tc.config_changes.get("CONFIG_CMDLINE"),
        Some(&ConfigValue::Str("quiet".into()))
    );
    assert_eq!(tc.cherry_picks.len(), 1);
    assert_eq!(tc.reasons.last().map(String::as_str), Some("mine"));
    // A newer `since` wins over both.
    let tc = t
        .resolve(&kv("6.12.1"), CompilerFamily::Gcc, &strict())
        .unwrap();
    assert_eq!(tc.compiler, "gcc");
    // Older versions still see the built-in entries.
    let e = t
        .resolve(&kv("5.10.0"), CompilerFamily::Gcc, &strict())
        .unwrap_err();
    assert!(matches!(e, ToolchainError::CompilerMissing { .. }));
}

#[test]
fn replace_defaults_drops_the_builtin_table() {
    let t = ToolchainTable::with_user_text(
        "replace_defaults = true\n[[compiler]]\nfamily = \"gcc\"\nsince = \"v6.0\"\nversion = \"default\"\n",
        "mine.toml",
    )
    .unwrap();
    let tc = t
        .resolve(&kv("6.12.0"), CompilerFamily::Gcc, &strict())
        .unwrap();
    assert!(tc.config_changes.is_empty());
    let e = t
        .resolve(&kv("5.4.0"), CompilerFamily::Gcc, &strict())
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "toolchain table has no gcc entry for kernel 5.4.0"
    );
    assert!(
        t.resolve(&kv("6.12.0"), CompilerFamily::Clang, &strict())
            .is_err()
    );
}

#[test]
fn bad_tables_are_clear_errors() {
    for (text, want) in [
        ("[[compiler]]\nfamily = \"icc\"\nversion = \"1\"\n", "icc"),
        (
            "[[compiler]]\nfamily = \"gcc\"\nsince = \"5.4\"\nversion = \"1\"\n",
            "\"5.4\" is not a release",
        ),
        (
            "[[tweak]]\ncherry_pick = [\"abc\"]\n",
            "not a full 40 or 64 digit hex hash",
        ),
        ("[[tweak]]\nset = { X = \"maybe\" }\n", "CONFIG_X=maybe"),
        ("[[tweak]]\ndisabled = [\"X\"]\n", "disabled"),
        ("not toml", "mine.toml"),
    ] {
        let e = ToolchainTable::with_user_text(text, "mine.toml").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("toolchain table mine.toml: ") && msg.contains(want),
            "{msg}"
        );
    }
    let e = ToolchainTable::with_user_file(Path::new("/nonexistent/t.toml")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/t.toml"), "{e}");
}

#[test]
fn installed_means_an_executable_file() {
    assert!(is_installed("sh"));
    assert!(!is_installed("kbisect-no-such-compiler"));
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("plain");
    std::fs::write(&f, "").unwrap();
    assert!(!is_installed(&f.display().to_string()));
    assert!(is_installed(&fake_compiler(dir.path(), "x/cc")));
}
