//! Just enough of HTML to read a product page on the server, where there is no DOM: the bodies
//! of `<script type="application/ld+json">` and the page's schema.org microdata as [`Ld`] trees
//! (so microdata goes through the same product reading as JSON-LD). Everything is bounded: the
//! input is whatever a page contains.
//!
//! The scan follows the HTML rules that matter for these two: comments, raw-text elements
//! (`script`, `style`, `textarea`, `title`), void elements, quoted and unquoted attributes,
//! character references, and end tags that close any elements left open inside them.

use super::super::Ld;

/// Microdata items kept from one page.
const MAX_ITEMS: usize = 256;
/// Properties kept per item.
const MAX_PROPS: usize = 128;
/// Attributes read per tag.
const MAX_ATTRS: usize = 64;
/// Elements open at once that are tracked; deeper ones are read as text of their ancestors.
const MAX_OPEN: usize = 512;
/// Longest text or attribute value kept.
const MAX_VALUE: usize = 4096;
/// How deep a microdata item may nest in another when turned into [`Ld`].
const MAX_ITEM_DEPTH: usize = 8;

const RAW_TEXT: [&str; 4] = ["script", "style", "textarea", "title"];
const VOID: [&str; 14] = ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"];

/// What a page's markup says about products, before any product decision.
#[derive(Debug, Default)]
pub struct Markup {
    /// The text of every JSON-LD script, in document order.
    pub json_ld: Vec<String>,
    /// Top-level microdata items (those that are nobody's property), in document order.
    pub microdata: Vec<Ld>,
}

enum Value {
    Text(String),
    Item(usize),
}

struct Item {
    types: Vec<String>,
    props: Vec<(String, Value)>,
}

/// An element still open, with what it means for microdata.
struct Open {
    name: String,
    /// The item this element starts (`itemscope`).
    item: Option<usize>,
    /// A property whose value is this element's text: its names, its item, where the text starts.
    text_prop: Option<(Vec<String>, usize, usize)>,
}

/// Reads the JSON-LD scripts and microdata items of `html`.
pub fn scan(html: &str) -> Markup {
    let lower = html.to_ascii_lowercase();
    let mut markup = Markup::default();
    let mut items: Vec<Item> = Vec::new();
    let mut top: Vec<usize> = Vec::new();
    let mut open: Vec<Open> = Vec::new();
    let mut at = 0;
    while let Some(found) = html[at..].find('<') {
        let start = at + found;
        let rest = &lower[start..];
        if rest.starts_with("<!--") {
            at = start + rest.find("-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        if rest.starts_with("<!") || rest.starts_with("<?") {
            at = start + rest.find('>').map_or(rest.len(), |end| end + 1);
            continue;
        }
        let closing = rest.starts_with("</");
        let name_at = start + if closing { 2 } else { 1 };
        let name_len = lower[name_at..].bytes().take_while(|b| b.is_ascii_alphanumeric() || *b == b'-').count();
        if name_len == 0 || !lower.as_bytes()[name_at].is_ascii_alphabetic() {
            at = start + 1;
            continue;
        }
        let name = &lower[name_at..name_at + name_len];
        let (attrs, after, self_closing) = attributes(html, name_at + name_len);
        at = after;
        if closing {
            close(html, name, start, &mut open, &mut items);
            continue;
        }
        if RAW_TEXT.contains(&name) {
            let end = lower[after..].find(&format!("</{name}")).map_or(html.len(), |i| after + i);
            let is_ld = attr(&attrs, "type").is_some_and(|t| t.trim().eq_ignore_ascii_case("application/ld+json"));
            if name == "script" && is_ld {
                markup.json_ld.push(html[after..end].to_owned());
            }
            // A raw-text element's body is its text, never markup; its end tag is handled next.
            if name == "title" || name == "textarea" {
                start_element(name, &attrs, after, false, &mut open, &mut items, &mut top);
            }
            at = end;
            continue;
        }
        let void = VOID.contains(&name) || self_closing;
        start_element(name, &attrs, after, void, &mut open, &mut items, &mut top);
    }
    close(html, "", html.len(), &mut open, &mut items);
    markup.microdata = top.iter().map(|&index| item_ld(&items, index, 0)).collect();
    markup
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

/// The attributes of a tag whose name ends at `from`: `(name, decoded value)` pairs, where the tag
/// ends, and whether it was written self-closing (`/>`).
fn attributes(html: &str, from: usize) -> (Vec<(String, String)>, usize, bool) {
    let bytes = html.as_bytes();
    let mut attrs = Vec::new();
    let mut i = from;
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    loop {
        i = skip_space(i);
        match bytes.get(i) {
            None => return (attrs, bytes.len(), false),
            Some(b'>') => return (attrs, i + 1, false),
            Some(b'/') if bytes.get(i + 1) == Some(&b'>') => return (attrs, i + 2, true),
            Some(b'/') => {
                i += 1;
                continue;
            }
            Some(_) => {}
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = html[name_start..i].to_ascii_lowercase();
        i = skip_space(i);
        let mut value = String::new();
        if bytes.get(i) == Some(&b'=') {
            i = skip_space(i + 1);
            let value_start;
            match bytes.get(i) {
                Some(&quote @ (b'"' | b'\'')) => {
                    value_start = i + 1;
                    i = html[value_start..].find(quote as char).map_or(bytes.len(), |end| value_start + end);
                    value = decode(&html[value_start..i]);
                    i = (i + 1).min(bytes.len());
                }
                _ => {
                    value_start = i;
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                    value = decode(&html[value_start..i]);
                }
            }
        }
        if attrs.len() < MAX_ATTRS && !name.is_empty() {
            attrs.push((name, value));
        }
    }
}

fn start_element(
    name: &str,
    attrs: &[(String, String)],
    content_at: usize,
    void: bool,
    open: &mut Vec<Open>,
    items: &mut Vec<Item>,
    top: &mut Vec<usize>,
) {
    let owner = open.iter().rev().find_map(|o| o.item);
    let props: Vec<String> = attr(attrs, "itemprop").map(|p| p.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
    let mut element = Open { name: name.to_owned(), item: None, text_prop: None };
    if attrs.iter().any(|(n, _)| n == "itemscope") && items.len() < MAX_ITEMS {
        let types = attr(attrs, "itemtype").map(|t| t.split_whitespace().map(str::to_owned).collect()).unwrap_or_default();
        items.push(Item { types, props: Vec::new() });
        let index = items.len() - 1;
        element.item = Some(index);
        match owner {
            Some(owner) if !props.is_empty() => add_props(items, owner, &props, || Value::Item(index)),
            _ => top.push(index),
        }
    } else if let (Some(owner), false) = (owner, props.is_empty()) {
        match attribute_value(name, attrs) {
            Some(Some(value)) => add_props(items, owner, &props, || Value::Text(value.clone())),
            Some(None) => {}
            None if void => {}
            None => element.text_prop = Some((props, owner, content_at)),
        }
    }
    if !void && open.len() < MAX_OPEN {
        open.push(element);
    }
}

/// A property's value as HTML microdata takes it from the element's attributes: `Some(value)`,
/// `Some(None)` for an element that has none (a `meta` without `content`), `None` when the value
/// is the element's text.
fn attribute_value(name: &str, attrs: &[(String, String)]) -> Option<Option<String>> {
    let bounded = |v: &str| (v.len() <= MAX_VALUE).then(|| v.to_owned());
    if let Some(content) = attr(attrs, "content") {
        return Some(bounded(content));
    }
    let source = match name {
        "img" | "audio" | "video" | "source" | "iframe" | "embed" => "src",
        "a" | "link" | "area" => "href",
        "data" | "meter" => "value",
        "time" => "datetime",
        "meta" => return Some(None),
        _ => return None,
    };
    Some(attr(attrs, source).and_then(bounded))
}

fn add_props(items: &mut [Item], owner: usize, names: &[String], value: impl Fn() -> Value) {
    if let Some(item) = items.get_mut(owner) {
        for name in names {
            if item.props.len() < MAX_PROPS {
                item.props.push((name.clone(), value()));
            }
        }
    }
}

/// Closes the innermost open `name` and everything opened inside it (all of them for `""`), giving
/// text properties the text up to `end`. An end tag with nothing open to close is ignored.
fn close(html: &str, name: &str, end: usize, open: &mut Vec<Open>, items: &mut [Item]) {
    let Some(depth) = (if name.is_empty() { Some(0) } else { open.iter().rposition(|o| o.name == name) }) else {
        return;
    };
    for element in open.drain(depth..).rev() {
        if let Some((props, owner, text_at)) = element.text_prop {
            let text = text_of(&html[text_at.min(end)..end]);
            add_props(items, owner, &props, || Value::Text(text.clone()));
        }
    }
}

/// The text of a piece of markup: tags dropped, character references decoded, bounded.
fn text_of(markup: &str) -> String {
    let mut text = String::new();
    let mut rest = markup;
    while let Some(lt) = rest.find('<') {
        text.push_str(&rest[..lt]);
        rest = rest[lt..].find('>').map_or("", |gt| &rest[lt + gt + 1..]);
        if text.len() > MAX_VALUE {
            break;
        }
    }
    if text.len() <= MAX_VALUE {
        text.push_str(rest);
    }
    decode(crate::base::text::truncate_chars(&text, MAX_VALUE).as_str())
}

/// Character references: the five of XML, `&nbsp;`, and numeric ones; anything else as written.
pub fn decode(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let Some(semi) = rest.get(..12).unwrap_or(rest).find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A microdata item as the JSON-LD it is equivalent to: `@type` and its properties, a property
/// given several times as a list.
fn item_ld(items: &[Item], index: usize, depth: usize) -> Ld {
    let Some(item) = items.get(index).filter(|_| depth <= MAX_ITEM_DEPTH) else {
        return Ld::Null;
    };
    let mut fields: Vec<(String, Ld)> = Vec::new();
    if !item.types.is_empty() {
        fields.push(("@type".to_owned(), Ld::Array(item.types.iter().cloned().map(Ld::String).collect())));
    }
    for (name, value) in &item.props {
        let value = match value {
            Value::Text(text) => Ld::String(text.clone()),
            // Items only ever contain items created after them, so this recursion ends.
            Value::Item(inner) if *inner > index => item_ld(items, *inner, depth + 1),
            Value::Item(_) => Ld::Null,
        };
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, Ld::Array(list))) if name != "@type" => list.push(value),
            Some((_, existing)) => {
                let first = std::mem::replace(existing, Ld::Null);
                *existing = Ld::Array(vec![first, value]);
            }
            None => fields.push((name.clone(), value)),
        }
    }
    Ld::Object(fields)
}
