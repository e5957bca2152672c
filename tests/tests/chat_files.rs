//! Files in the chat, both ways (issue 13): a visitor's photo reaches the operator and an
//! operator's PDF the visitor, each stored in the worker's real local R2; only the conversation's
//! parties fetch them; what a file is comes from its bytes; limits answer with clear 4xx.

use floorwalker_core::chat::attachment::{FileKind, MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_CONVERSATION};
use floorwalker_core::chat::protocol::{Author, ChatMessage, ServerFrame};
use floorwalker_e2e::chat::*;
use floorwalker_e2e::worker::Worker;
use serde_json::{json, Value};

/// A real (tiny) PNG and a PDF header: the kinds are told by these bytes.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0x60,
    0x60, 0xf8, 0x0f, 0x00, 0x01, 0x04, 0x01, 0x00, 0x5f, 0xe5, 0xc3, 0x4b, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
    0x82,
];
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

async fn upload_as_visitor(worker: &Worker, conversation: &str, token: &str, name: &str, client_msg_id: &str, bytes: Vec<u8>) -> (u16, Value) {
    let url = format!("/v1/chat/conversations/{conversation}/files?token={token}&name={name}&client_msg_id={client_msg_id}");
    upload(worker.http().post(worker.url(&url)).header("origin", SHOP).header("content-type", "image/png"), bytes).await
}

async fn upload_as_operator(worker: &Worker, conversation: &str, cookie: &str, name: &str, client_msg_id: &str, bytes: Vec<u8>) -> (u16, Value) {
    let url = format!("/v1/console/conversations/{conversation}/files?name={name}&client_msg_id={client_msg_id}");
    let request = worker.http().post(worker.url(&url)).header("origin", worker.origin()).header("cookie", cookie);
    upload(request.header("content-type", "application/octet-stream"), bytes).await
}

/// Sends `bytes` as the body of `request`: the status and the JSON answer.
async fn upload(request: reqwest::RequestBuilder, bytes: Vec<u8>) -> (u16, Value) {
    let response = request.body(bytes).send().await.expect("uploading");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn fetch(worker: &Worker, path: &str, cookie: Option<&str>) -> reqwest::Response {
    let mut request = worker.http().get(worker.url(path));
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    request.send().await.expect("fetching")
}

/// A file message from the other side (each socket also hears its own side's messages).
fn file_from(author: fn(&Author) -> bool) -> impl FnMut(&ServerFrame) -> Option<ChatMessage> {
    move |frame| match frame {
        ServerFrame::Message(m) if m.attachment.is_some() && author(&m.author) => Some(m.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn files_go_both_ways_and_only_the_conversations_parties_fetch_them() {
    let worker = chat_worker("chat-files").await;
    create_operator(&worker, "anna@demo.example", "Anna", PASSWORD).await;
    let cookie = login(&worker, "anna@demo.example", PASSWORD).await;
    let visitor = visitor_session(&worker, SHOP, "visitor-file-00001").await;
    let conversation = start_conversation(&worker, SHOP, &visitor.token).await;
    let mut v = ChatSocket::visitor(&worker, SHOP, &conversation, &visitor.token).await;
    v.hello(0).await;
    let mut op = ChatSocket::operator(&worker, &conversation, &cookie).await;
    op.hello(0).await;

    // The visitor's photo: stored, named, sized, and in front of the operator at once.
    let (status, sent) = upload_as_visitor(&worker, &conversation, &visitor.token, "%D0%A1%D0%BB%D0%BE%D0%BC%D0%B0%D0%BD%D0%BE.PNG", "v-file-000001", PNG.to_vec()).await;
    assert_eq!(status, 201, "{sent}");
    let photo: ChatMessage = serde_json::from_value(sent).expect("the message");
    let file = photo.attachment.clone().expect("an attachment");
    assert_eq!((file.name.as_str(), file.kind, file.size), ("Сломано.png", FileKind::Png, PNG.len() as u64));
    let (seen, _) = op.until("the visitor's file", file_from(|a| matches!(a, Author::Visitor))).await;
    assert_eq!(seen.attachment, Some(file.clone()));
    let by_operator = fetch(&worker, &format!("/v1/console/conversations/{conversation}/files/{}", file.id), Some(&cookie)).await;
    assert_eq!(by_operator.status().as_u16(), 200);
    assert_eq!(by_operator.headers()["content-type"], "image/png");
    assert_eq!(by_operator.headers()["x-content-type-options"], "nosniff");
    assert!(by_operator.headers()["content-disposition"].to_str().unwrap().starts_with("inline;"));
    assert_eq!(by_operator.bytes().await.unwrap().as_ref(), PNG, "the same bytes come back");
    // A retry of the same upload is the same message, not a second file.
    let (status, again) = upload_as_visitor(&worker, &conversation, &visitor.token, "x.png", "v-file-000001", PNG.to_vec()).await;
    assert_eq!((status, again["seq"].as_u64()), (201, Some(photo.seq)), "{again}");
    assert_eq!(again["attachment"]["id"], file.id.as_str());

    // The operator's PDF reaches the visitor, served as a download.
    let (status, sent) = upload_as_operator(&worker, &conversation, &cookie, "size-chart.pdf", "op-file-00001", PDF.to_vec()).await;
    assert_eq!(status, 201, "{sent}");
    let (seen, _) = v.until("the operator's file", file_from(|a| matches!(a, Author::Operator { .. }))).await;
    let pdf = seen.attachment.expect("an attachment");
    assert_eq!((pdf.name.as_str(), pdf.kind), ("size-chart.pdf", FileKind::Pdf));
    let own = format!("/v1/chat/conversations/{conversation}/files/{}?token={}", pdf.id, visitor.token);
    let by_visitor = fetch(&worker, &own, None).await;
    assert_eq!(by_visitor.status().as_u16(), 200, "an <img>/<a> sends no Origin: the token is enough");
    assert_eq!(by_visitor.headers()["content-type"], "application/pdf");
    assert!(by_visitor.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert!(by_visitor.headers()["content-security-policy"].to_str().unwrap().contains("sandbox"));
    assert_eq!(by_visitor.bytes().await.unwrap().as_ref(), PDF);

    // Strangers: another visitor, no token, a forged token, an operator of another site, a made-up
    // file, a file id aimed at a path.
    let other = visitor_session(&worker, SHOP, "visitor-file-00002").await;
    let theirs = format!("/v1/chat/conversations/{conversation}/files/{}?token={}", pdf.id, other.token);
    assert_eq!(fetch(&worker, &theirs, None).await.status().as_u16(), 403);
    assert_eq!(fetch(&worker, &format!("/v1/chat/conversations/{conversation}/files/{}", pdf.id), None).await.status().as_u16(), 401);
    let forged = format!("/v1/chat/conversations/{conversation}/files/{}?token={}x", pdf.id, &visitor.token[..visitor.token.len() - 1]);
    assert_eq!(fetch(&worker, &forged, None).await.status().as_u16(), 401);
    assert_eq!(fetch(&worker, &format!("/v1/console/conversations/{conversation}/files/{}", pdf.id), None).await.status().as_u16(), 401);
    let made_up = format!("/v1/chat/conversations/{conversation}/files/aaaaaaaaaaaaaaaaaaaaaa?token={}", visitor.token);
    assert_eq!(fetch(&worker, &made_up, None).await.status().as_u16(), 404);
    let traversal = format!("/v1/chat/conversations/{conversation}/files/..%2F..%2Fx?token={}", visitor.token);
    assert!(matches!(fetch(&worker, &traversal, None).await.status().as_u16(), 400 | 404));
    let mut other_site = worker.seed_demo_site(&[SHOP.to_owned()]).await;
    other_site.site = "other".into();
    other_site.origins = vec!["http://other.example".into()];
    worker.put_site(&other_site).await;
    let (status, answer) = worker
        .admin_send(reqwest::Method::POST, "/sites/other/operators", Some(json!({"email": "olga@other.example", "name": "Olga", "password": PASSWORD})))
        .await;
    assert!((200..300).contains(&status), "{answer}");
    let olga = login(&worker, "olga@other.example", PASSWORD).await;
    let foreign = fetch(&worker, &format!("/v1/console/conversations/{conversation}/files/{}", file.id), Some(&olga)).await;
    assert_eq!(foreign.status().as_u16(), 404, "another site's operator does not learn the conversation exists");
    let (status, _) = upload_as_operator(&worker, &conversation, &olga, "x.pdf", "op-file-99999", PDF.to_vec()).await;
    assert_eq!(status, 404);
    // Another visitor cannot drop a file into this conversation either.
    let (status, answer) = upload_as_visitor(&worker, &conversation, &other.token, "x.png", "v-file-999999", PNG.to_vec()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (403, Some("forbidden")), "{answer}");

    // What a file is comes from its bytes: a page named photo.png is refused; so are empty and
    // oversized files, each with its own code.
    let (status, answer) = upload_as_visitor(&worker, &conversation, &visitor.token, "photo.png", "v-file-000002", b"<html><script>alert(1)</script>".to_vec()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (415, Some("unsupported_file")), "{answer}");
    let (status, answer) = upload_as_visitor(&worker, &conversation, &visitor.token, "empty.png", "v-file-000003", Vec::new()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (415, Some("unsupported_file")), "{answer}");
    let mut big = PNG.to_vec();
    big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
    let (status, answer) = upload_as_operator(&worker, &conversation, &cookie, "big.png", "op-file-00002", big).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (413, Some("file_too_large")), "{answer}");

    // A conversation holds a bounded number of files (2 sent so far).
    for n in 3..=MAX_ATTACHMENTS_PER_CONVERSATION {
        let (status, answer) = upload_as_operator(&worker, &conversation, &cookie, "p.png", &format!("op-file-1{n:04}"), PNG.to_vec()).await;
        assert_eq!(status, 201, "{n}: {answer}");
    }
    let (status, answer) = upload_as_operator(&worker, &conversation, &cookie, "p.png", "op-file-20000", PNG.to_vec()).await;
    assert_eq!((status, answer["error"]["code"].as_str()), (409, Some("too_many_files")), "{answer}");

    // Erased with the visitor (their right to be forgotten): the files go too.
    let (status, answer) = worker.admin_send(reqwest::Method::POST, "/sites/demo/visitors/erase", Some(json!({"visitor": "visitor-file-00001"}))).await;
    assert!((200..300).contains(&status), "{status} {answer}");
    let gone = fetch(&worker, &format!("/v1/console/conversations/{conversation}/files/{}", file.id), Some(&cookie)).await;
    assert_eq!(gone.status().as_u16(), 404);
}
