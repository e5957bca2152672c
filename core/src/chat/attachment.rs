//! Files in the chat, both ways: a photo of a broken part from the visitor, a size chart from the
//! operator. The bytes live in object storage (R2) under [`object_key`]; the conversation keeps
//! an [`Attachment`] on the message, and only the conversation's parties may fetch the bytes.
//!
//! What a file is comes from its content, never from its name or the uploader's `Content-Type`
//! ([`FileKind::sniff`]): a page that calls itself `photo.png` is refused, so nothing uploaded can
//! be served as HTML or script. Only a few kinds are taken, each served with its own type and
//! `nosniff`.

use serde::{Deserialize, Serialize};

use crate::base::error::{ApiError, ErrorCode};
use crate::base::ids::validate_client_id;

/// The largest file taken (5 MiB): photos from a phone fit, videos do not.
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;
/// Files per conversation, so a conversation's storage is bounded whoever writes in it.
pub const MAX_ATTACHMENTS_PER_CONVERSATION: u32 = 20;
/// Characters of a file's name kept for display.
pub const MAX_NAME_CHARS: usize = 80;

/// What a file picker offers (`<input type=file accept=…>`): the kinds below. The picker is a
/// courtesy; the server judges by the bytes.
pub const ACCEPT: &str = "image/png,image/jpeg,image/gif,image/webp,application/pdf";

/// The kinds of file the chat takes, told apart by their first bytes.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Png,
    Jpeg,
    Gif,
    Webp,
    Pdf,
}

impl FileKind {
    /// The kind `bytes` are by their signature, if the chat takes it.
    pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
        match bytes {
            [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, ..] => Some(FileKind::Png),
            [0xff, 0xd8, 0xff, ..] => Some(FileKind::Jpeg),
            [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(FileKind::Gif),
            [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some(FileKind::Webp),
            [b'%', b'P', b'D', b'F', b'-', ..] => Some(FileKind::Pdf),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileKind::Png => "image/png",
            FileKind::Jpeg => "image/jpeg",
            FileKind::Gif => "image/gif",
            FileKind::Webp => "image/webp",
            FileKind::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            FileKind::Png => "png",
            FileKind::Jpeg => "jpg",
            FileKind::Gif => "gif",
            FileKind::Webp => "webp",
            FileKind::Pdf => "pdf",
        }
    }

    /// Shown inline as a picture; anything else is a download.
    pub fn is_image(self) -> bool {
        self != FileKind::Pdf
    }
}

/// A file on a message: what the parties are shown and what the download is served as.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Random, unguessable (a client id's alphabet); names the stored object.
    pub id: String,
    /// The name to show, cleaned ([`display_name`]); its extension is the kind's.
    pub name: String,
    pub kind: FileKind,
    /// Bytes.
    pub size: u64,
}

impl Attachment {
    /// The attachment for `bytes` uploaded as `raw_name`, under the new `id`: refused when empty,
    /// over [`MAX_ATTACHMENT_BYTES`], or of a kind the chat does not take.
    pub fn from_upload(id: String, raw_name: &str, bytes: &[u8]) -> Result<Attachment, ApiError> {
        if bytes.is_empty() {
            return Err(ApiError::new(ErrorCode::UnsupportedFile, "the file is empty"));
        }
        if bytes.len() > MAX_ATTACHMENT_BYTES {
            return Err(too_large(bytes.len()));
        }
        let kind = FileKind::sniff(bytes).ok_or_else(|| {
            ApiError::new(ErrorCode::UnsupportedFile, "only PNG, JPEG, GIF and WebP pictures and PDF documents can be sent")
        })?;
        Ok(Attachment { name: display_name(raw_name, kind), id, kind, size: bytes.len() as u64 })
    }

    /// Checks an attachment that came over the wire from inside the worker (its id names a key).
    pub fn validate(&self) -> Result<(), ApiError> {
        validate_client_id("attachment", &self.id)?;
        if self.name.chars().count() > MAX_NAME_CHARS + 1 + self.kind.extension().len() || self.size as usize > MAX_ATTACHMENT_BYTES {
            return Err(ApiError::new(ErrorCode::BadFrame, "attachment: name or size out of bounds"));
        }
        Ok(())
    }

    /// The size as people read it: `830 KB`, `2.4 MB`.
    pub fn size_words(&self) -> String {
        const KB: u64 = 1024;
        match self.size {
            s if s < KB => format!("{s} B"),
            s if s < KB * KB => format!("{} KB", s.div_ceil(KB)),
            s => format!("{}.{} MB", s / (KB * KB), s % (KB * KB) * 10 / (KB * KB)),
        }
    }
}

/// The refusal of a file of `len` bytes.
pub fn too_large(len: usize) -> ApiError {
    ApiError::new(ErrorCode::FileTooLarge, format!("a file is at most {} MB, this one is {len} bytes", MAX_ATTACHMENT_BYTES / (1024 * 1024)))
}

/// A name safe to show anywhere: no directories, no control or direction-changing characters, at
/// most [`MAX_NAME_CHARS`] before the extension, and the extension of what the file really is
/// (`invoice.pdf.exe` that is a PNG becomes `invoice.pdf.png`). An empty name becomes `file`.
pub fn display_name(raw: &str, kind: FileKind) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.');
    let stem = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if ext.eq_ignore_ascii_case(kind.extension()) || (kind == FileKind::Jpeg && ext.eq_ignore_ascii_case("jpeg")) => stem,
        _ => cleaned,
    };
    let stem: String = stem.trim().chars().take(MAX_NAME_CHARS).collect();
    let stem = if stem.trim().is_empty() { "file".to_owned() } else { stem.trim().to_owned() };
    format!("{stem}.{}", kind.extension())
}

/// Where the bytes of `attachment_id` in `conversation_id` of `site` are stored: one prefix per
/// conversation ([`conversation_prefix`]), so erasing a conversation erases its files.
pub fn object_key(site: &str, conversation_id: &str, attachment_id: &str) -> String {
    format!("{}{attachment_id}", conversation_prefix(site, conversation_id))
}

pub fn conversation_prefix(site: &str, conversation_id: &str) -> String {
    format!("chat/{site}/{conversation_id}/")
}

/// The `Content-Disposition` of a download: pictures inline, documents as a download, the name
/// percent-encoded (RFC 5987) so no character of it can break the header.
pub fn content_disposition(attachment: &Attachment) -> String {
    let how = if attachment.kind.is_image() { "inline" } else { "attachment" };
    let mut encoded = String::new();
    for byte in attachment.name.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{how}; filename=\"file.{}\"; filename*=UTF-8''{encoded}", attachment.kind.extension())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = &[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13];

    #[test]
    fn a_file_is_what_its_bytes_say_whatever_its_name() {
        assert_eq!(FileKind::sniff(PNG), Some(FileKind::Png));
        assert_eq!(FileKind::sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some(FileKind::Jpeg));
        assert_eq!(FileKind::sniff(b"GIF89a...."), Some(FileKind::Gif));
        assert_eq!(FileKind::sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some(FileKind::Webp));
        assert_eq!(FileKind::sniff(b"%PDF-1.7\n"), Some(FileKind::Pdf));
        for refused in [&b"<html><script>alert(1)</script>"[..], b"<svg xmlns=", b"MZ\x90\0", b"PK\x03\x04", b"RIFF\0\0\0\0AVI ", b"\x89PN"] {
            assert_eq!(FileKind::sniff(refused), None, "{refused:?}");
        }
        let page = Attachment::from_upload("a".repeat(22), "photo.png", b"<html>hi</html>").unwrap_err();
        assert_eq!(page.code, ErrorCode::UnsupportedFile);
        let png = Attachment::from_upload("a".repeat(22), "scan.pdf.exe", PNG).unwrap();
        assert_eq!((png.kind, png.name.as_str(), png.size), (FileKind::Png, "scan.pdf.exe.png", PNG.len() as u64));
    }

    #[test]
    fn empty_and_oversized_files_are_refused_with_their_reason() {
        assert_eq!(Attachment::from_upload("a".repeat(22), "x.png", b"").unwrap_err().code, ErrorCode::UnsupportedFile);
        let mut big = PNG.to_vec();
        big.resize(MAX_ATTACHMENT_BYTES + 1, 0);
        assert_eq!(Attachment::from_upload("a".repeat(22), "x.png", &big).unwrap_err().code, ErrorCode::FileTooLarge);
        big.truncate(MAX_ATTACHMENT_BYTES);
        assert!(Attachment::from_upload("a".repeat(22), "x.png", &big).is_ok(), "exactly the limit is taken");
    }

    #[test]
    fn names_are_safe_to_show_and_carry_the_real_extension() {
        assert_eq!(display_name("C:\\Users\\anna\\Фото 1.JPG", FileKind::Jpeg), "Фото 1.jpg");
        assert_eq!(display_name("../../etc/passwd", FileKind::Png), "passwd.png");
        assert_eq!(display_name("gpj.\u{202e}exe.png", FileKind::Png), "gpj.exe.png", "no right-to-left override");
        assert_eq!(display_name("a\nb\r\tc.pdf", FileKind::Pdf), "abc.pdf");
        assert_eq!(display_name("", FileKind::Gif), "file.gif");
        assert_eq!(display_name(".hidden", FileKind::Png), "hidden.png");
        assert_eq!(display_name("photo.jpeg", FileKind::Jpeg), "photo.jpg");
        let long = display_name(&"я".repeat(500), FileKind::Pdf);
        assert_eq!(long.chars().count(), MAX_NAME_CHARS + 4);
    }

    #[test]
    fn downloads_name_themselves_without_breaking_the_header() {
        let attachment = Attachment { id: "a".repeat(22), name: "чек \"1\";.pdf".into(), kind: FileKind::Pdf, size: 2_500_000 };
        let header = content_disposition(&attachment);
        assert!(header.starts_with("attachment; filename=\"file.pdf\"; filename*=UTF-8''"), "{header}");
        assert!(!header[header.find("''").unwrap()..].contains(['"', ';', ' ']), "{header}");
        assert_eq!(attachment.size_words(), "2.3 MB");
        assert_eq!(Attachment { size: 830 * 1024 - 5, ..attachment.clone() }.size_words(), "830 KB");
        let picture = Attachment { kind: FileKind::Png, name: "a.png".into(), ..attachment };
        assert!(content_disposition(&picture).starts_with("inline;"));
        assert_eq!(object_key("demo", "conv-1", "abc"), "chat/demo/conv-1/abc");
        assert!(object_key("demo", "conv-1", "abc").starts_with(&conversation_prefix("demo", "conv-1")));
    }
}
