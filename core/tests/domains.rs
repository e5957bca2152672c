//! Core's domains (the folders under `src/`) may use one another only in one direction, and `base`
//! uses none of them. This test reads every source file, finds each path into the crate (`use`
//! declarations, paths inside function bodies, `super::super` escapes) and fails on any import
//! cycle between domains. A flat `src/x.rs` counts as a domain of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Which domain uses which, with one place each edge comes from (for the failure message).
type Edges = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn no_import_cycle_between_domains() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    assert!(files.len() > 20, "found only {} source files under {}", files.len(), root.display());
    let edges = domain_edges(&files);
    assert!(edges.contains_key("chat"), "the scan found no path between domains: {edges:?}");
    if let Err(problem) = check(&edges) {
        panic!("{problem}");
    }
}

fn collect(root: &Path, dir: &Path, files: &mut Vec<(String, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read src").map(|e| e.expect("dir entry").path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(root, &path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).expect("under src").to_string_lossy().replace('\\', "/");
            files.push((relative, std::fs::read_to_string(&path).expect("read source")));
        }
    }
}

/// Fails when `base` uses another domain or when the domains' use graph has a cycle.
fn check(edges: &Edges) -> Result<(), String> {
    if let Some(used) = edges.get("base").filter(|used| !used.is_empty()) {
        return Err(format!("base must not use any domain, but uses: {used:?}"));
    }
    let domains: BTreeSet<&String> = edges.keys().chain(edges.values().flat_map(|used| used.keys())).collect();
    // Depth-first search; a domain met again while still on the path closes a cycle.
    fn visit<'a>(domain: &'a String, edges: &'a Edges, path: &mut Vec<&'a String>, done: &mut BTreeSet<&'a String>) -> Result<(), String> {
        if let Some(start) = path.iter().position(|d| *d == domain) {
            let cycle = &path[start..];
            let steps: Vec<String> = cycle
                .iter()
                .enumerate()
                .map(|(i, from)| {
                    let to = cycle.get(i + 1).copied().unwrap_or(domain);
                    format!("{from} -> {to} (at {})", edges[*from][to])
                })
                .collect();
            return Err(format!("import cycle between core's domains:\n  {}", steps.join("\n  ")));
        }
        if done.contains(domain) {
            return Ok(());
        }
        path.push(domain);
        for used in edges.get(domain).into_iter().flat_map(|used| used.keys()) {
            visit(used, edges, path, done)?;
        }
        path.pop();
        done.insert(domain);
        Ok(())
    }
    let mut done = BTreeSet::new();
    for domain in domains {
        visit(domain, edges, &mut Vec::new(), &mut done)?;
    }
    Ok(())
}

/// Every use of one domain by another, from `(path under src, source)` pairs.
fn domain_edges(files: &[(String, String)]) -> Edges {
    let mut edges = Edges::new();
    for (path, source) in files {
        let module = module_path(path);
        let Some(domain) = module.first() else { continue };
        edges.entry(domain.clone()).or_default();
        for (line, used) in used_domains(&module, source) {
            if used != *domain {
                edges.get_mut(domain).expect("inserted above").entry(used).or_insert_with(|| format!("{path}:{line}"));
            }
        }
    }
    edges
}

/// `chat/conversation/tests.rs` is `["chat", "conversation", "tests"]`; `base/mod.rs` is `["base"]`;
/// `lib.rs` is the crate root, `[]`.
fn module_path(path: &str) -> Vec<String> {
    let mut parts: Vec<String> = path.trim_end_matches(".rs").split('/').map(str::to_owned).collect();
    if parts.last().is_some_and(|last| last == "mod" || last == "lib") {
        parts.pop();
    }
    parts
}

/// The domains a file's code names, with the line of each: `crate::x`, `crate::{x::..., y::...}`,
/// and `super::` chains that climb to the crate root, inside inline modules too.
fn used_domains(module: &[String], source: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    // Inline `mod name {` blocks open below the file's module: the brace depth each one opened at.
    let mut inline_mods: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    for (index, line) in code_only(source).lines().enumerate() {
        let trimmed = line.trim_start();
        let opens_inline_mod = trimmed
            .trim_start_matches("pub(crate) ")
            .trim_start_matches("pub ")
            .strip_prefix("mod ")
            .is_some_and(|rest| rest.trim_end().ends_with('{'));
        let nesting = module.len() + inline_mods.len();
        for rest in after_each(line, "crate::") {
            found.extend(first_segments(rest).into_iter().map(|d| (index + 1, d)));
        }
        for rest in after_each(line, "super::") {
            let mut climbs = 1;
            let mut rest = rest;
            while let Some(further) = rest.strip_prefix("super::") {
                climbs += 1;
                rest = further;
            }
            // Climbing to the crate root names a domain next; climbing less stays in this one.
            if climbs == nesting {
                found.extend(first_segments(rest).into_iter().map(|d| (index + 1, d)));
            }
        }
        for c in line.chars() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if inline_mods.last() == Some(&depth) {
                        inline_mods.pop();
                    }
                }
                _ => {}
            }
        }
        if opens_inline_mod {
            inline_mods.push(depth - 1);
        }
    }
    found
}

/// The source with comments removed and the contents of string and character literals blanked,
/// line breaks kept (so neither a URL's `//` nor a `{` in a format string is taken for code).
fn code_only(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut code = String::with_capacity(source.len());
    let mut i = 0;
    // Keeps line breaks inside skipped text so that line numbers stay right.
    let skip = |code: &mut String, from: usize, to: usize| {
        code.extend(chars[from..to.min(chars.len())].iter().filter(|c| **c == '\n'));
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let after_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
        if c == '/' && next == Some('/') {
            let end = chars[i..].iter().position(|c| *c == '\n').map_or(chars.len(), |p| i + p);
            i = end;
        } else if c == '/' && next == Some('*') {
            let end = (i + 2..chars.len().saturating_sub(1)).find(|&j| chars[j] == '*' && chars[j + 1] == '/').map_or(chars.len(), |j| j + 2);
            skip(&mut code, i, end);
            i = end;
        } else if c == 'r' && !after_ident && matches!(next, Some('"' | '#')) {
            // A raw string: r"...", r#"..."#.
            let hashes = chars[i + 1..].iter().take_while(|c| **c == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                code.push(c);
                i += 1;
                continue;
            }
            let body = i + 2 + hashes;
            let closes = |j: usize| chars[j] == '"' && (1..=hashes).all(|h| chars.get(j + h) == Some(&'#'));
            let end = (body..chars.len()).find(|&j| closes(j)).map_or(chars.len(), |j| j + 1 + hashes);
            code.push_str("\"\"");
            skip(&mut code, i, end);
            i = end;
        } else if c == '"' {
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '"' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            code.push_str("\"\"");
            skip(&mut code, i, j + 1);
            i = j + 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal ('x', '\n', '{'); a lifetime ('a) is code.
            let mut j = i + 1;
            while j < chars.len() && chars[j] != '\'' {
                j += if chars[j] == '\\' { 2 } else { 1 };
            }
            code.push_str("' '");
            i = j + 1;
        } else {
            code.push(c);
            i += 1;
        }
    }
    code
}

/// The text after each occurrence of `needle` that starts a path (not the tail of `x::crate::`).
fn after_each<'a>(line: &'a str, needle: &str) -> Vec<&'a str> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = line[from..].find(needle) {
        let start = from + at;
        let before = line[..start].chars().next_back();
        let starts_path = before.is_none_or(|b| !(b.is_alphanumeric() || b == '_' || b == ':'));
        if starts_path {
            found.push(&line[start + needle.len()..]);
        }
        from = start + needle.len();
    }
    found
}

/// The first segment of a path (`visitor::event::Event` → `visitor`), or of each path in a group
/// (`{visitor::event::Event, leads::lead}` → `visitor`, `leads`). A group left open on this line
/// gives the segments this line holds.
fn first_segments(rest: &str) -> Vec<String> {
    let ident = |s: &str| s.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    match rest.strip_prefix('{') {
        Some(group) => {
            let mut segments = Vec::new();
            let mut level = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => level += 1,
                    '}' if level == 0 => break,
                    '}' => level -= 1,
                    ',' if level == 0 => item_start = true,
                    c if item_start && (c.is_alphanumeric() || c == '_') => {
                        segments.push(ident(&group[i..]));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            segments.retain(|s| s != "self");
            segments
        }
        None => {
            let name = ident(rest);
            if name.is_empty() { Vec::new() } else { vec![name] }
        }
    }
}

#[cfg(test)]
mod the_check_itself {
    use super::*;

    fn edges_of(files: &[(&str, &str)]) -> Edges {
        let owned: Vec<(String, String)> = files.iter().map(|(p, s)| ((*p).to_owned(), (*s).to_owned())).collect();
        domain_edges(&owned)
    }

    fn fails(files: &[(&str, &str)]) -> bool {
        check(&edges_of(files)).is_err()
    }

    #[test]
    fn a_back_edge_in_a_use_declaration_fails() {
        let ok = [("leads/lead.rs", "use crate::visitor::event::Event;\n"), ("visitor/event.rs", "use crate::base::error::ApiError;\n")];
        assert!(!fails(&ok));
        let back = [ok[0], ("visitor/event.rs", "use crate::leads::lead::Lead;\n")];
        assert!(fails(&back));
    }

    #[test]
    fn a_path_inside_a_function_body_counts() {
        let files = [
            ("leads/lead.rs", "use crate::visitor::event::Event;\n"),
            ("visitor/session.rs", "fn f() {\n    let x = crate::leads::lead::MAX_LEAD_BYTES;\n}\n"),
        ];
        assert!(fails(&files));
    }

    #[test]
    fn super_chains_that_reach_the_root_count() {
        let lead = ("leads/lead.rs", "use crate::visitor::event::Event;\n");
        // `visitor/event.rs`: `super::super` is the crate root.
        assert!(fails(&[lead, ("visitor/event.rs", "use super::super::leads::lead::Lead;\n")]));
        // One level deeper, and inside an inline test module: three and four climbs.
        assert!(fails(&[lead, ("visitor/event/parse.rs", "fn f() { super::super::super::leads::lead::g() }\n")]));
        assert!(fails(&[lead, ("visitor/event.rs", "#[cfg(test)]\nmod tests {\n    use super::super::super::leads::lead::Lead;\n}\n")]));
        // Climbing within the domain is fine.
        assert!(!fails(&[lead, ("visitor/event/parse.rs", "use super::super::session::Session;\nmod tests {\n    use super::*;\n}\n")]));
    }

    #[test]
    fn grouped_paths_and_base_are_checked() {
        let lead = ("leads/lead.rs", "use crate::visitor::event::Event;\n");
        assert!(fails(&[lead, ("visitor/event.rs", "use crate::{base::error::ApiError, leads::lead::Lead};\n")]));
        assert!(fails(&[("base/text.rs", "use crate::visitor::event::MAX_TITLE_LEN;\n")]));
        assert!(!fails(&[("base/text.rs", "use crate::base::error::ApiError;\n")]));
    }

    #[test]
    fn comments_and_strings_are_not_code() {
        let lead = ("leads/lead.rs", "use crate::visitor::event::Event;\n");
        let quiet = "/// See [`crate::leads::lead::Lead`].\nconst URL: &str = \"https://x/crate::leads\"; // crate::leads\n";
        assert!(!fails(&[lead, ("visitor/event.rs", quiet)]));
    }

    #[test]
    fn a_longer_cycle_is_found() {
        let files = [
            ("visitor/event.rs", "use crate::leads::lead::Lead;\n"),
            ("leads/lead.rs", "use crate::prompts::config::Config;\n"),
            ("prompts/config.rs", "use crate::visitor::event::Event;\n"),
        ];
        let message = check(&edges_of(&files)).unwrap_err();
        assert!(message.contains("visitor -> leads") && message.contains("prompts -> visitor"), "{message}");
    }
}
