//! Generates the static demo shop «Кроха» (Krokha) that hosts the Floorwalker widget.
//!
//! Usage: `floorwalker-demo-site <output-dir>`
//!
//! Content comes from `demo-site/catalog.json`, static assets (CSS, SVG images,
//! favicon) are copied from `demo-site/static/`, and every page is written as
//! `<output-dir>/<path>/index.html`.

mod catalog;
mod html;
mod pages;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use catalog::Catalog;

/// The crate directory, which holds `catalog.json` and `static/`.
fn source_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("floorwalker-demo-site: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut args = std::env::args_os().skip(1);
    let out = match (args.next(), args.next()) {
        (Some(dir), None) => PathBuf::from(dir),
        _ => return Err("usage: floorwalker-demo-site <output-dir>".into()),
    };
    let catalog_path = source_dir().join("catalog.json");
    let json = fs::read_to_string(&catalog_path)
        .map_err(|e| format!("{}: {e}", catalog_path.display()))?;
    let catalog = Catalog::parse(&json)?;

    let static_dir = source_dir().join("static");
    for p in &catalog.products {
        let img = static_dir.join("img").join(format!("{}.svg", p.slug));
        if !img.is_file() {
            return Err(format!("missing product image {}", img.display()));
        }
    }
    let assets = copy_dir(&static_dir, &out)?;

    let pages = pages::build_site(&catalog);
    for page in &pages {
        let dir = out.join(page.path.trim_start_matches('/'));
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let file = dir.join("index.html");
        fs::write(&file, &page.html).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    println!(
        "wrote {} pages and {assets} static files to {}",
        pages.len(),
        out.display()
    );
    Ok(())
}

/// Recursively copies `from` into `to`, returning the number of files copied.
fn copy_dir(from: &Path, to: &Path) -> Result<usize, String> {
    let err = |p: &Path, e: std::io::Error| format!("{}: {e}", p.display());
    fs::create_dir_all(to).map_err(|e| err(to, e))?;
    let mut copied = 0;
    for entry in fs::read_dir(from).map_err(|e| err(from, e))? {
        let entry = entry.map_err(|e| err(from, e))?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        if entry.file_type().map_err(|e| err(&src, e))?.is_dir() {
            copied += copy_dir(&src, &dst)?;
        } else {
            fs::copy(&src, &dst).map_err(|e| err(&src, e))?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn catalog_json() -> String {
        fs::read_to_string(source_dir().join("catalog.json")).unwrap_or_default()
    }

    pub fn catalog() -> Catalog {
        match Catalog::parse(&catalog_json()) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn copies_static_tree() {
        let out = std::env::temp_dir().join(format!("krokha-static-{}", std::process::id()));
        let n = copy_dir(&source_dir().join("static"), &out);
        assert!(out.join("css/shop.css").is_file());
        assert!(out.join("img/logo.svg").is_file());
        assert!(n.is_ok_and(|n| n > catalog().products.len()));
        let _ = fs::remove_dir_all(&out);
    }
}
