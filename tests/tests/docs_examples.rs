//! Every curl example in README.md and docs/*.md, run word for word against the real worker.
//!
//! A shell block (```sh / ```bash) runs in order, as one bash script with `set -e`, in a folder
//! holding the files the examples name (`my-site.json`). What is run: `curl` commands and plain
//! variable assignments; `EDGE`, `ADMIN_TOKEN` and `LEAD` (a lead of the site `shop`) come from the test (`https://EDGE` in a URL is
//! the worker too). `make owner` and `make operator` with a `URL=` run too (from the repository
//! root): they call the admin API of the worker it names. What is not run: deployment commands (`npx
//! wrangler ...`, other `make ...`), which need a Cloudflare account or are the test suite itself;
//! they are listed in the output. `curl` fails the block on any HTTP error (`--fail-with-body`), so
//! an example that answers 415 fails here.

use std::path::Path;
use std::process::Command;

use floorwalker_core::leads::lead::{Lead, LeadKind};
use floorwalker_e2e::repo_root;
use floorwalker_e2e::worker::Worker;

/// One shell block of a Markdown file: where it starts and its commands (continuation lines joined).
struct Block {
    file: String,
    line: usize,
    commands: Vec<String>,
}

fn shell_blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let file = path.strip_prefix(repo_root()).unwrap_or(path).display().to_string();
    let mut blocks = Vec::new();
    let mut current: Option<Block> = None;
    let mut pending = String::new();
    for (index, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut current {
            None if trimmed == "```sh" || trimmed == "```bash" => {
                current = Some(Block { file: file.clone(), line: index + 1, commands: Vec::new() });
            }
            None => {}
            Some(_) if trimmed.starts_with("```") => blocks.extend(current.take()),
            Some(block) => {
                if let Some(head) = line.strip_suffix('\\') {
                    pending.push_str(head);
                    pending.push(' ');
                } else {
                    pending.push_str(line);
                    block.commands.push(std::mem::take(&mut pending).trim().to_owned());
                }
            }
        }
    }
    blocks
}

/// The part of a command this test runs: a `curl`, or assignments (without those of the
/// variables the test provides). `None` for what is not run.
fn runnable(command: &str) -> Option<String> {
    // A trailing comment on a command is only commentary.
    let command = command.split("  #").next().unwrap_or(command).trim();
    // `make owner`/`make operator` against the worker `URL=` names; without it they mean `make demo`'s.
    let makes_member = (command.starts_with("make owner ") || command.starts_with("make operator ")) && command.contains(" URL=");
    if command.starts_with("curl ") || makes_member {
        return Some(command.to_owned());
    }
    let is_assignment = |part: &str| {
        part.split_once('=').is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
    };
    let parts: Vec<&str> = command.split("; ").map(str::trim).collect();
    if !parts.is_empty() && parts.iter().all(|part| is_assignment(part)) {
        let kept: Vec<&str> =
            parts.into_iter().filter(|part| !part.starts_with("EDGE=") && !part.starts_with("ADMIN_TOKEN=")).collect();
        return Some(kept.join("; "));
    }
    None
}

#[tokio::test]
async fn every_curl_example_in_the_docs_works_word_for_word() {
    let worker = Worker::start("docs-examples").await;
    // The docs configure a site called `shop`; the README installs `my-site` from a file.
    let mut shop = worker.demo_site_config(&[]);
    shop.site = "shop".into();
    shop.origins = vec!["https://shop.example".into()];
    worker.put_site(&shop).await;
    // The deals example reports a deal for one of the shop's leads: `$LEAD`.
    let mut lead_request = floorwalker_e2e::leads::request(LeadKind::Callback, "visitor-docs-0001", "docs", "https://shop.example");
    lead_request.site = shop.site.clone();
    let posted = floorwalker_e2e::leads::post(&worker, "https://shop.example", &serde_json::to_string(&lead_request).unwrap()).await;
    assert_eq!(posted.status().as_u16(), 201, "the docs' lead");
    let lead = Lead::id_for(&shop.site, "visitor-docs-0001", &lead_request.idempotency_key);
    let folder = worker.state_dir().join("docs-examples");
    std::fs::create_dir_all(&folder).unwrap();
    let mut my_site = worker.demo_site_config(&[]);
    my_site.site = "my-site".into();
    my_site.origins = vec!["https://my-shop.example".into()];
    std::fs::write(folder.join("my-site.json"), serde_json::to_string_pretty(&my_site).unwrap()).unwrap();

    let mut files = vec![repo_root().join("README.md")];
    let mut docs: Vec<_> = std::fs::read_dir(repo_root().join("docs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    docs.sort();
    files.extend(docs);

    let mut ran = 0;
    let mut made = 0;
    let mut not_run = Vec::new();
    let mut failures = Vec::new();
    for block in files.iter().flat_map(|path| shell_blocks(path)) {
        let mut script = String::from(
            "set -euo pipefail\ncurl() { command curl -sS --fail-with-body --max-time 30 \"$@\"; echo; }\n\
             make() { command make --no-print-directory -C \"$FLOORWALKER_ROOT\" \"$@\"; }\n",
        );
        let mut curls = 0;
        let mut makes = 0;
        for command in &block.commands {
            if command.is_empty() || command.starts_with('#') {
                continue;
            }
            match runnable(command) {
                Some(run) => {
                    curls += usize::from(run.starts_with("curl "));
                    makes += usize::from(run.starts_with("make "));
                    script.push_str(&format!("echo '>>> {}' >&2\n", run.replace('\'', "'\\''")));
                    script.push_str(&run.replace("https://EDGE", "$EDGE"));
                    script.push('\n');
                }
                None => not_run.push(format!("{}:{}: {command}", block.file, block.line)),
            }
        }
        if curls + makes == 0 {
            continue;
        }
        ran += curls;
        made += makes;
        let output = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&folder)
            .env("EDGE", worker.origin())
            .env("ADMIN_TOKEN", &worker.admin_token)
            .env("LEAD", &lead)
            .env("FLOORWALKER_ROOT", repo_root())
            .output()
            .expect("running bash");
        if !output.status.success() {
            failures.push(format!(
                "{}:{} failed\n--- stderr\n{}\n--- stdout\n{}",
                block.file,
                block.line,
                String::from_utf8_lossy(&output.stderr),
                String::from_utf8_lossy(&output.stdout)
            ));
        }
    }
    println!("docs examples: {ran} curl and {made} make commands run; not run (deployment or the test suite itself):");
    for line in &not_run {
        println!("  {line}");
    }
    assert!(ran >= 8, "expected the docs' curl examples to be found, found {ran}");
    assert!(made >= 1, "expected the docs' `make owner` example to run");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn blocks_join_continuation_lines_and_keep_only_curl_and_assignments() {
    assert_eq!(runnable("curl -X POST $EDGE/v1/x").as_deref(), Some("curl -X POST $EDGE/v1/x"));
    assert_eq!(runnable("EDGE=https://x.example; AUTH=\"authorization: Bearer $ADMIN_TOKEN\"").as_deref(), Some("AUTH=\"authorization: Bearer $ADMIN_TOKEN\""));
    assert_eq!(runnable("npx wrangler secret put AMO_TOKEN_SHOP"), None);
    assert_eq!(runnable("make demo   # the demo"), None);
    assert_eq!(runnable("make owner EMAIL=o@x.example URL=\"$EDGE\"").as_deref(), Some("make owner EMAIL=o@x.example URL=\"$EDGE\""));
    assert_eq!(runnable("make operator EMAIL=a@x.example ADMIN_TOKEN=<printed token>"), None, "the demo's, on its default URL");
    let dir = std::env::temp_dir().join(format!("fw-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("x.md");
    std::fs::write(&file, "text\n```sh\ncurl -X PUT \\\n  -d '{}' $EDGE/a\n# note\n```\n```js\ncurl no\n```\n").unwrap();
    let blocks = shell_blocks(&file);
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].commands, vec!["curl -X PUT    -d '{}' $EDGE/a", "# note"]);
}
