//! A small JSON codec for what the widget's UI modules exchange with the worker in JSON: the chat's
//! frames, its stored state, the bodies of the visitor's requests and the few replies they read.
//! serde stays the form everywhere else (the worker, the console); in the widget a serde decoder
//! over `serde_wasm_bindgen` took ~70 KB of the chat module's wasm (issue 16). This one is a plain
//! parser into a [`Value`] tree and a writer, with [`ToJson`]/[`FromJson`] per type, written beside
//! the type's serde form and tested against it (`chat::json`, `visitor::json`, `leads::json`).
//!
//! What it reads: any JSON text (depth at most [`MAX_DEPTH`]). A struct reads its fields by name
//! and ignores the others; an absent field is an error but for an `Option` (`None`) and a field
//! read with [`field_or_default`] (serde's `#[serde(default)]`), as serde reads them.
//! Integers are read exactly (no floats: nothing the widget reads has one). What it writes is what
//! serde_json writes for the same value: fields in declaration order, `None` left out (every
//! optional field of these types is `skip_serializing_if = "Option::is_none"`).

/// The deepest nesting read; deeper text is refused rather than recursed into.
pub const MAX_DEPTH: usize = 32;

/// Parsed JSON. Numbers keep their text (see [`FromJson`] for `u64`); objects keep their order.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Num(&'a str),
    Str(String),
    Arr(Vec<Value<'a>>),
    Obj(Vec<(String, Value<'a>)>),
}

impl<'a> Value<'a> {
    /// The member `key` of an object.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Obj(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// `text` parsed; `None` for anything that is not one JSON value (whitespace around it allowed).
pub fn parse(text: &str) -> Option<Value<'_>> {
    let mut parser = Parser { text, pos: 0 };
    let value = parser.value(0)?;
    parser.skip_ws();
    (parser.pos == text.len()).then_some(value)
}

/// The `T` that `text` holds; `None` for malformed text or another shape.
pub fn from_json<T: FromJson>(text: &str) -> Option<T> {
    T::read(&parse(text)?)
}

/// `value` as JSON text, as serde_json writes it.
pub fn to_json<T: ToJson + ?Sized>(value: &T) -> String {
    let mut out = Writer(String::new());
    value.write(&mut out);
    out.0
}

/// The field `name` of the object `value` as a `T` ([`FromJson::absent`] when it is missing).
pub fn field<T: FromJson>(value: &Value<'_>, name: &str) -> Option<T> {
    match value.get(name) {
        Some(member) => T::read(member),
        None if matches!(value, Value::Obj(_)) => T::absent(),
        None => None,
    }
}

/// The field `name` of the object `value`, its default when it is missing (`#[serde(default)]`).
pub fn field_or_default<T: FromJson + Default>(value: &Value<'_>, name: &str) -> Option<T> {
    match value.get(name) {
        Some(member) => T::read(member),
        None if matches!(value, Value::Obj(_)) => Some(T::default()),
        None => None,
    }
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        let found = self.peek() == Some(byte);
        self.pos += usize::from(found);
        found
    }

    fn literal(&mut self, word: &str, value: Value<'a>) -> Option<Value<'a>> {
        self.text[self.pos..].starts_with(word).then(|| {
            self.pos += word.len();
            value
        })
    }

    fn value(&mut self, depth: usize) -> Option<Value<'a>> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match self.peek()? {
            b'n' => self.literal("null", Value::Null),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'"' => self.string().map(Value::Str),
            b'[' => {
                self.pos += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b']') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Value::Arr(items))
            }
            b'{' => {
                self.pos += 1;
                let mut members = Vec::new();
                if !self.eat(b'}') {
                    loop {
                        self.skip_ws();
                        if self.peek() != Some(b'"') {
                            return None;
                        }
                        let key = self.string()?;
                        if !self.eat(b':') {
                            return None;
                        }
                        members.push((key, self.value(depth + 1)?));
                        if self.eat(b'}') {
                            break;
                        }
                        if !self.eat(b',') {
                            return None;
                        }
                    }
                }
                Some(Value::Obj(members))
            }
            _ => self.number(),
        }
    }

    /// A number's text, checked against JSON's grammar.
    fn number(&mut self) -> Option<Value<'a>> {
        let start = self.pos;
        self.pos += usize::from(self.peek() == Some(b'-'));
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.peek() == Some(b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return None;
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return None;
            }
        }
        Some(Value::Num(&self.text[start..self.pos]))
    }

    /// A string at `"`, unescaped.
    fn string(&mut self) -> Option<String> {
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.peek().is_some_and(|b| b != b'"' && b != b'\\' && b >= 0x20) {
                self.pos += 1;
            }
            // Quotes and backslashes are ASCII, so `start..pos` falls on character boundaries.
            out.push_str(&self.text[start..self.pos]);
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(out);
                }
                b'\\' => {
                    let escape = *self.text.as_bytes().get(self.pos + 1)?;
                    self.pos += 2;
                    out.push(match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&high) {
                                if !self.text[self.pos..].starts_with("\\u") {
                                    return None;
                                }
                                self.pos += 2;
                                let low = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&low) {
                                    return None;
                                }
                                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                            } else {
                                high
                            };
                            char::from_u32(code)?
                        }
                        _ => return None,
                    });
                }
                // A raw control character: not JSON.
                _ => return None,
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        let mut code = 0;
        for c in digits.chars() {
            code = code * 16 + c.to_digit(16)?;
        }
        Some(code)
    }
}

/// JSON text being written. Objects and lists are written member by member; a separator goes
/// before every member but the first.
pub struct Writer(String);

impl Writer {
    pub fn raw(&mut self, text: &str) {
        self.0.push_str(text);
    }

    /// The separator before a member of the object or list just opened.
    fn separate(&mut self) {
        if !self.0.ends_with(['{', '[']) {
            self.0.push(',');
        }
    }

    /// The member `name` of the object being written, unless the value asks to be left out.
    pub fn field<T: ToJson + ?Sized>(&mut self, name: &str, value: &T) {
        if value.skip() {
            return;
        }
        self.separate();
        self.string(name);
        self.0.push(':');
        value.write(self);
    }

    /// A string, escaped as serde_json escapes it.
    pub fn string(&mut self, text: &str) {
        self.0.push('"');
        for c in text.chars() {
            match c {
                '"' => self.0.push_str("\\\""),
                '\\' => self.0.push_str("\\\\"),
                '\n' => self.0.push_str("\\n"),
                '\r' => self.0.push_str("\\r"),
                '\t' => self.0.push_str("\\t"),
                '\u{8}' => self.0.push_str("\\b"),
                '\u{c}' => self.0.push_str("\\f"),
                c if c < ' ' => {
                    self.0.push_str("\\u00");
                    for nibble in [c as u32 >> 4, c as u32 & 15] {
                        self.0.push(char::from_digit(nibble, 16).unwrap_or('0'));
                    }
                }
                c => self.0.push(c),
            }
        }
        self.0.push('"');
    }

    pub fn uint(&mut self, mut n: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        for &d in &digits[at..] {
            self.0.push(char::from(d));
        }
    }
}

/// A value with a JSON form to write.
pub trait ToJson {
    fn write(&self, out: &mut Writer);
    /// Left out as a field (`None`).
    fn skip(&self) -> bool {
        false
    }
}

/// A value read from its JSON form.
pub trait FromJson: Sized {
    /// `None` for a value of another shape.
    fn read(value: &Value<'_>) -> Option<Self>;
    /// The value of a missing field: `None` (an error) but for an `Option`, as serde reads them
    /// (a field marked `#[serde(default)]` is read with [`field_or_default`]).
    fn absent() -> Option<Self> {
        None
    }
}

impl ToJson for str {
    fn write(&self, out: &mut Writer) {
        out.string(self);
    }
}

impl ToJson for String {
    fn write(&self, out: &mut Writer) {
        out.string(self);
    }
}

impl FromJson for String {
    fn read(value: &Value<'_>) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
}

impl ToJson for bool {
    fn write(&self, out: &mut Writer) {
        out.raw(if *self { "true" } else { "false" });
    }
}

impl FromJson for bool {
    fn read(value: &Value<'_>) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl ToJson for u64 {
    fn write(&self, out: &mut Writer) {
        out.uint(*self);
    }
}

impl FromJson for u64 {
    /// Digits only, as serde reads a `u64`: no sign, fraction or exponent.
    fn read(value: &Value<'_>) -> Option<Self> {
        let Value::Num(text) = value else { return None };
        let mut n: u64 = 0;
        for b in text.bytes() {
            if !b.is_ascii_digit() {
                return None;
            }
            n = n.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        Some(n)
    }
}

/// Narrower unsigned integers, through `u64`.
macro_rules! json_uint {
    ($($type:ty),+) => {$(
        impl ToJson for $type {
            fn write(&self, out: &mut Writer) {
                out.uint(u64::from(*self));
            }
        }
        impl FromJson for $type {
            fn read(value: &Value<'_>) -> Option<Self> {
                <$type>::try_from(u64::read(value)?).ok()
            }
        }
    )+};
}
json_uint!(u8, u16, u32);

impl ToJson for i64 {
    fn write(&self, out: &mut Writer) {
        if *self < 0 {
            out.raw("-");
        }
        out.uint(self.unsigned_abs());
    }
}

impl FromJson for i64 {
    fn read(value: &Value<'_>) -> Option<Self> {
        match value {
            Value::Num(text) => match text.strip_prefix('-') {
                Some(digits) => 0i64.checked_sub_unsigned(u64::read(&Value::Num(digits))?),
                None => i64::try_from(u64::read(value)?).ok(),
            },
            _ => None,
        }
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write(&self, out: &mut Writer) {
        match self {
            Some(value) => value.write(out),
            None => out.raw("null"),
        }
    }
    fn skip(&self) -> bool {
        self.is_none()
    }
}

impl<T: FromJson> FromJson for Option<T> {
    fn read(value: &Value<'_>) -> Option<Self> {
        match value {
            Value::Null => Some(None),
            value => T::read(value).map(Some),
        }
    }
    fn absent() -> Option<Self> {
        Some(None)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write(&self, out: &mut Writer) {
        out.raw("[");
        for value in self {
            out.separate();
            value.write(out);
        }
        out.raw("]");
    }
}

impl<T: FromJson> FromJson for Vec<T> {
    fn read(value: &Value<'_>) -> Option<Self> {
        let Value::Arr(items) = value else { return None };
        // A plain loop, as in `base::wire`: `collect` into an `Option` monomorphises more.
        let mut values = Vec::new();
        for item in items {
            values.push(T::read(item)?);
        }
        Some(values)
    }
}

impl<T: ToJson> ToJson for Box<T> {
    fn write(&self, out: &mut Writer) {
        (**self).write(out);
    }
}

impl<T: FromJson> FromJson for Box<T> {
    fn read(value: &Value<'_>) -> Option<Self> {
        T::read(value).map(Box::new)
    }
}

/// The snake_case form of a variant's name (`InvalidJson` → `invalid_json`), as serde's
/// `rename_all = "snake_case"` (and `"lowercase"` for one-word names) writes it.
pub fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for c in camel.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// A fieldless enum written as its variant's name in snake_case.
pub trait JsonEnum: Sized + Copy + 'static {
    /// Every variant.
    const ALL: &'static [Self];
    /// The variant's name as Rust spells it.
    fn name(self) -> &'static str;
}

/// `ToJson`/`FromJson` (and [`JsonEnum`]) for a fieldless enum whose serde form is
/// `rename_all = "snake_case"`. The list must name every variant (the `match` fails to compile
/// otherwise).
#[macro_export]
macro_rules! json_enum {
    ($type:ty { $($variant:ident),+ $(,)? }) => {
        impl $crate::base::json::JsonEnum for $type {
            const ALL: &'static [Self] = &[$(<$type>::$variant),+];
            fn name(self) -> &'static str {
                match self {
                    $(<$type>::$variant => stringify!($variant)),+
                }
            }
        }
        impl $crate::base::json::ToJson for $type {
            fn write(&self, out: &mut $crate::base::json::Writer) {
                out.string(&$crate::base::json::snake_case($crate::base::json::JsonEnum::name(*self)));
            }
        }
        impl $crate::base::json::FromJson for $type {
            fn read(value: &$crate::base::json::Value<'_>) -> Option<Self> {
                let text = value.as_str()?;
                <Self as $crate::base::json::JsonEnum>::ALL
                    .iter()
                    .copied()
                    .find(|v| $crate::base::json::snake_case($crate::base::json::JsonEnum::name(*v)) == text)
            }
        }
    };
}

/// `ToJson` (`write`), `FromJson` (`read`) or both for a struct, field by field under the fields'
/// own names, in the order listed (write it in declaration order: serde's). `read` may end with
/// `default { ... }`: the fields serde reads with `#[serde(default)]`.
#[macro_export]
macro_rules! json_struct {
    (write $type:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::base::json::ToJson for $type {
            fn write(&self, out: &mut $crate::base::json::Writer) {
                out.raw("{");
                $(out.field(stringify!($field), &self.$field);)+
                out.raw("}");
            }
        }
    };
    (read $type:ident { $($field:ident),+ $(,)? } $(default { $($defaulted:ident),+ $(,)? })?) => {
        impl $crate::base::json::FromJson for $type {
            fn read(value: &$crate::base::json::Value<'_>) -> Option<Self> {
                Some($type {
                    $($field: $crate::base::json::field(value, stringify!($field))?,)+
                    $($($defaulted: $crate::base::json::field_or_default(value, stringify!($defaulted))?,)+)?
                })
            }
        }
    };
    ($type:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::base::json::ToJson for $type {
            fn write(&self, out: &mut $crate::base::json::Writer) {
                out.raw("{");
                $(out.field(stringify!($field), &self.$field);)+
                out.raw("}");
            }
        }
        impl $crate::base::json::FromJson for $type {
            fn read(value: &$crate::base::json::Value<'_>) -> Option<Self> {
                Some($type { $($field: $crate::base::json::field(value, stringify!($field))?),+ })
            }
        }
    };
}

json_enum!(crate::base::locale::Locale { Ru, En });
json_enum!(crate::base::error::ErrorCode {
    InvalidJson,
    InvalidSite,
    InvalidEvent,
    InvalidConfig,
    UnsupportedVersion,
    PayloadTooLarge,
    UnknownSite,
    OriginNotAllowed,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    RateLimited,
    BadFrame,
    MessageTooLong,
    EmptyMessage,
    Forbidden,
    ConversationClosed,
    InvalidEmail,
    InvalidPhone,
    FieldTooLong,
    MissingField,
    InvalidText,
    InvalidLead,
    InvalidConsent,
    SpamSuspected,
    SubmittedTooFast,
    InvalidToken,
    TokenExpired,
    EndpointNotAllowed,
    InvalidSignature,
    TranscriptAlreadySent,
    TranscriptAddressLocked,
    OriginTaken,
    InvalidContext,
    AccountExists,
    PreconditionFailed,
    InvalidQuery,
    InvalidDeal,
    InvalidRating,
    UnsupportedFile,
    FileTooLarge,
    TooManyFiles,
    Internal,
});

impl ToJson for crate::base::money::Currency {
    fn write(&self, out: &mut Writer) {
        out.string(self.as_str());
    }
}

impl FromJson for crate::base::money::Currency {
    fn read(value: &Value<'_>) -> Option<Self> {
        Self::try_from(String::read(value)?).ok()
    }
}

impl ToJson for crate::base::money::Money {
    fn write(&self, out: &mut Writer) {
        out.raw("{");
        out.field("minor", &self.minor);
        out.field("currency", &self.currency);
        out.raw("}");
    }
}

impl FromJson for crate::base::money::Money {
    fn read(value: &Value<'_>) -> Option<Self> {
        Some(crate::base::money::Money { minor: field(value, "minor")?, currency: field(value, "currency")? })
    }
}

impl ToJson for crate::base::error::ApiError {
    fn write(&self, out: &mut Writer) {
        out.raw("{");
        self.write_fields(out);
        out.raw("}");
    }
}

impl crate::base::error::ApiError {
    /// The error's members without the braces, for a frame that flattens it (`#[serde(flatten)]`).
    pub fn write_fields(&self, out: &mut Writer) {
        out.field("code", &self.code);
        out.field("message", &self.message);
        out.field("field", &self.field);
    }
}

impl FromJson for crate::base::error::ApiError {
    fn read(value: &Value<'_>) -> Option<Self> {
        Some(crate::base::error::ApiError {
            code: field(value, "code")?,
            message: field(value, "message")?,
            field: field(value, "field")?,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
