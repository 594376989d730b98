//! A release remote cannot mint tokens because nothing that mints is in its dependency graph:
//! not the local Forge host (`forge-devhost`), not `rsa`, not `serde_yaml_ng`, not
//! `forge-fit`'s `mint` feature. Checked with `cargo tree` on the server's normal dependencies
//! (what `cargo build --release -p server` compiles), against the devhost's as a control, so a
//! `cargo tree` whose output stopped parsing cannot pass by finding nothing.
//!
//! end2end/tests/release-server.spec.ts checks the built binary itself (no host listeners,
//! routes or strings).

use std::{collections::BTreeSet, process::Command};

/// `cargo tree -p <package> -e normal,features --prefix none`: one line per package
/// (`rsa v0.9.8`) or enabled feature (`forge-fit feature "mint"`).
fn normal_tree(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "-p",
            package,
            "-e",
            "normal,features",
            "--prefix",
            "none",
        ])
        .arg("--offline")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("running cargo tree");
    assert!(
        output.status.success(),
        "cargo tree -p {package} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("cargo tree prints UTF-8")
        .lines()
        .map(|line| line.trim_end_matches(" (*)").trim().to_owned())
        .filter(|line| !line.is_empty())
        .collect()
}

/// The package names in a tree (the first word of `name vX.Y.Z …` lines).
fn packages(tree: &BTreeSet<String>) -> BTreeSet<&str> {
    tree.iter()
        .filter_map(
            |line| match line.split_whitespace().collect::<Vec<_>>()[..] {
                [name, version, ..] if version.starts_with('v') => Some(name),
                _ => None,
            },
        )
        .collect()
}

const MINTING: [&str; 3] = ["forge-devhost", "rsa", "serde_yaml_ng"];
const MINT_FEATURE: &str = r#"forge-fit feature "mint""#;

#[test]
fn the_release_server_depends_on_nothing_that_mints_tokens() {
    let tree = normal_tree("server");
    let names = packages(&tree);
    assert!(names.contains("forge-fit"), "no forge-fit in {names:?}");
    for name in MINTING {
        assert!(!names.contains(name), "the server depends on {name}");
    }
    assert!(
        !tree.contains(MINT_FEATURE),
        "the server enables {MINT_FEATURE}"
    );
}

#[test]
fn the_check_sees_them_in_the_local_host() {
    let tree = normal_tree("forge-devhost");
    let names = packages(&tree);
    for name in MINTING {
        assert!(names.contains(name), "no {name} in {names:?}");
    }
    assert!(names.contains("server"));
    assert!(tree.contains(MINT_FEATURE), "no {MINT_FEATURE}");
}
