//! The edge worker's top-level modules import each other without a cycle, so each can be read
//! (and changed) knowing only the modules below it. Reads `edge-worker/src` as text: every
//! `crate::<module>` path outside comments is an import of that module (a folder such as `chat/`
//! counts as one module). Needs no wrangler, no browser.
//!
//! `cargo test -p floorwalker-e2e --test worker_modules -- --nocapture` prints the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn worker_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../edge-worker/src")
}

/// The worker's top-level modules and the files of each (`lib.rs`, the crate root, is not one).
fn modules(src: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("edge-worker/src is readable") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a UTF-8 name").to_owned();
        if path.is_dir() {
            let mut files = Vec::new();
            collect_rust_files(&path, &mut files);
            modules.insert(name, files);
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" {
            modules.insert(name, vec![path]);
        }
    }
    modules
}

fn collect_rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a module folder is readable") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

/// The top-level modules named by `crate::` paths in `code`, including each item of a group
/// (`use crate::{a, b::c};`).
fn crate_references(code: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    names.insert(leading_identifier(item.trim()));
                }
            } else {
                names.insert(leading_identifier(rest));
            }
        }
    }
    names.remove("");
    names
}

fn leading_identifier(text: &str) -> String {
    text.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

fn dependency_graph() -> BTreeMap<String, BTreeSet<String>> {
    let modules = modules(&worker_src());
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    modules
        .iter()
        .map(|(name, files)| {
            let mut uses = BTreeSet::new();
            for file in files {
                let code = std::fs::read_to_string(file).expect("a source file is readable");
                uses.extend(crate_references(&code).into_iter().filter(|used| used != name && names.contains(used)));
            }
            (name.clone(), uses)
        })
        .collect()
}

/// Layers of a DAG, lowest first: each module's imports are all in lower layers. `Err` names the
/// modules left over, which import each other in at least one cycle.
fn layers(graph: &BTreeMap<String, BTreeSet<String>>) -> Result<Vec<Vec<String>>, BTreeMap<String, BTreeSet<String>>> {
    let mut placed: BTreeSet<String> = BTreeSet::new();
    let mut layers = Vec::new();
    while placed.len() < graph.len() {
        let layer: Vec<String> = graph
            .iter()
            .filter(|(name, uses)| !placed.contains(*name) && uses.iter().all(|used| placed.contains(used)))
            .map(|(name, _)| name.clone())
            .collect();
        if layer.is_empty() {
            return Err(graph.iter().filter(|(name, _)| !placed.contains(*name)).map(|(n, u)| (n.clone(), u.clone())).collect());
        }
        placed.extend(layer.iter().cloned());
        layers.push(layer);
    }
    Ok(layers)
}

#[test]
fn the_reader_sees_grouped_and_inline_paths_and_skips_comments() {
    let code = "use crate::http::{self, internal};\nuse crate::{cors, platform::d1::db};\n\
                //! see crate::outbox\nlet x = crate::chat::random();";
    let found: Vec<String> = crate_references(code).into_iter().collect();
    assert_eq!(found, ["chat", "cors", "http", "platform"]);
}

#[test]
fn a_cycle_is_reported() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_owned(), BTreeSet::from(["b".to_owned()])),
        ("b".to_owned(), BTreeSet::from(["a".to_owned()])),
        ("c".to_owned(), BTreeSet::new()),
    ]
    .into_iter()
    .collect();
    let left = layers(&graph).expect_err("a and b import each other");
    assert_eq!(left.keys().cloned().collect::<Vec<_>>(), ["a", "b"]);
}

#[test]
fn the_worker_modules_import_each_other_without_a_cycle() {
    let graph = dependency_graph();
    assert!(graph.contains_key("http") && graph.contains_key("chat"), "read the worker's modules: {graph:?}");
    match layers(&graph) {
        Ok(layers) => {
            for (n, layer) in layers.iter().enumerate() {
                println!("layer {n}: {}", layer.join(", "));
            }
        }
        Err(left) => panic!("these worker modules import each other in a cycle (module -> its imports): {left:#?}"),
    }
}
