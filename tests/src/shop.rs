//! A site owner's shop on its own origin: serves the demo pages from `dist/public`, with the
//! script tag pointing at the worker's origin as a real embed would (`https://EDGE/fw.js`).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::{free_port, repo_root};

pub struct ShopServer {
    pub port: u16,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
}

/// What a shop's theme adds to every page: markup at the end of `<head>` (its stylesheet) and at
/// the end of `<body>` (e.g. a credit line).
#[derive(Clone, Copy, Default)]
pub struct Theme {
    pub head: &'static str,
    pub body_end: &'static str,
}

impl ShopServer {
    pub fn start(edge_origin: &str) -> ShopServer {
        ShopServer::start_with_theme(edge_origin, Theme::default())
    }

    /// The demo pages with `theme` laid over them.
    pub fn start_with_theme(edge_origin: &str, theme: Theme) -> ShopServer {
        ShopServer::serve(edge_origin, theme, None)
    }

    /// The demo pages with their tag replaced by `tag`, as an owner pastes the one the console's
    /// Install screen copied.
    pub fn start_with_tag(tag: &str) -> ShopServer {
        ShopServer::serve("", Theme::default(), Some(tag.to_owned()))
    }

    fn serve(edge_origin: &str, theme: Theme, tag: Option<String>) -> ShopServer {
        let port = free_port();
        let server = Arc::new(tiny_http::Server::http(("127.0.0.1", port)).expect("binding the shop server"));
        let root = repo_root().join("dist/public");
        let edge_origin = edge_origin.to_owned();
        let serving = server.clone();
        let thread = std::thread::spawn(move || {
            for request in serving.incoming_requests() {
                let response = respond(&root, request.url(), &edge_origin, theme, tag.as_deref());
                let _ = request.respond(response);
            }
        });
        ShopServer { port, server, thread: Some(thread) }
    }

    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }
}

impl Drop for ShopServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn respond(root: &Path, url: &str, edge_origin: &str, theme: Theme, tag: Option<&str>) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    // `?fw=off` serves the page without the widget's tag, for with/without comparisons.
    let without_tag = url.contains("fw=off");
    let Some(file) = resolve(root, path) else {
        return tiny_http::Response::from_string("not found").with_status_code(404);
    };
    let Ok(mut body) = std::fs::read(&file) else {
        return tiny_http::Response::from_string("not found").with_status_code(404);
    };
    let content_type = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => {
            let html = String::from_utf8_lossy(&body).into_owned();
            let demo_tag = r#"<script async src="/fw.js" data-site="demo"></script>"#;
            let html = if without_tag {
                html.replace(demo_tag, "")
            } else if let Some(tag) = tag {
                html.replace(demo_tag, tag)
            } else {
                html.replace("src=\"/fw.js\"", &format!("src=\"{edge_origin}/fw.js\""))
            };
            let html = html
                .replacen("</head>", &format!("{}</head>", theme.head), 1)
                .replacen("</body>", &format!("{}</body>", theme.body_end), 1);
            body = html.into_bytes();
            "text/html; charset=utf-8"
        }
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("js") => "text/javascript",
        _ => "application/octet-stream",
    };
    let header = tiny_http::Header::from_bytes("content-type", content_type).expect("a valid header");
    tiny_http::Response::from_data(body).with_header(header)
}

/// Maps a URL path to a file under `root`, refusing `..` and serving `index.html` for directories.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = Path::new(path.trim_start_matches('/'));
    if relative.components().any(|c| !matches!(c, Component::Normal(_))) {
        return None;
    }
    let candidate = root.join(relative);
    let file = if candidate.is_dir() { candidate.join("index.html") } else { candidate };
    file.is_file().then_some(file)
}
