//! The wire form: a compact, versioned, positional binary encoding for what the worker hands the
//! widget (the public site config). Both ends are Rust and share core's types, so a field needs no
//! name on the wire: each type writes its fields in declaration order. Decoding it takes a few
//! hundred bytes of code per type in the browser, where a serde decoder took kilobytes (the first
//! load's size budget, issue 16); JSON stays the form of every API a person reads or writes.
//!
//! Integers are LEB128 varints (signed ones zigzagged), strings and lists carry their length, an
//! `Option` a presence byte, an enum its variant's index. [`encode`] starts the bytes with
//! [`VERSION`] and [`decode`] refuses any other version and any byte left over, so a widget never
//! misreads a form it was not built for. Change a type's encoding only together with `VERSION`
//! (the golden test in `prompts::config::wire` fails otherwise).

/// The version of the wire form; the widget asks for it (`?wire=N`) and checks it.
pub const VERSION: u8 = 4;
/// The oldest version whose text form [`from_text`] still reads. The text form holds only the
/// visitor's stored session, whose layout versions 2 to 4 share (3 and 4 changed the site
/// config's):
/// a new version must not turn every visitor's history (accepted prompts, cooldowns) into a
/// blank session. Raise it to [`VERSION`] when the session's own layout changes (its layout is
/// pinned in `visitor::wire`'s tests).
pub const OLDEST_TEXT_VERSION: u8 = 2;

/// A value with a wire form.
pub trait Wire: Sized {
    fn put(&self, out: &mut Writer);
    /// `None` for bytes that are not a value of this type.
    fn take(input: &mut Reader<'_>) -> Option<Self>;
}

/// `value`'s wire form, versioned.
pub fn encode<T: Wire>(value: &T) -> Vec<u8> {
    let mut out = Writer(vec![VERSION]);
    value.put(&mut out);
    out.0
}

/// The value `bytes` encode; `None` for another version, malformed bytes or bytes left over.
pub fn decode<T: Wire>(bytes: &[u8]) -> Option<T> {
    decode_since(bytes, VERSION)
}

/// The value `bytes` encode under this version or one back to `oldest` (a type whose layout has
/// not changed since `oldest`, pinned by a test beside the constant that says so).
pub fn decode_since<T: Wire>(bytes: &[u8], oldest: u8) -> Option<T> {
    let (&version, rest) = bytes.split_first()?;
    if !(oldest..=VERSION).contains(&version) {
        return None;
    }
    let mut input = Reader(rest);
    let value = T::take(&mut input)?;
    input.0.is_empty().then_some(value)
}

/// What `take` reads from the start of `bytes` (this version's form), whatever follows it: for a
/// reader that needs only a value's leading fields and would carry the code that decodes the rest
/// for nothing (the chat panel reads the site config up to its prompts). `None` for another
/// version or bytes too short.
pub fn decode_leading<T>(bytes: &[u8], take: impl FnOnce(&mut Reader<'_>) -> Option<T>) -> Option<T> {
    let (&version, rest) = bytes.split_first()?;
    (version == VERSION).then_some(())?;
    take(&mut Reader(rest))
}

/// `value`'s wire form as text, one character per byte (U+0000 to U+00FF), for a store that
/// keeps only strings (the widget's session in `localStorage`).
pub fn to_text<T: Wire>(value: &T) -> String {
    encode(value).into_iter().map(char::from).collect()
}

/// The value [`to_text`] wrote, under this version or one back to [`OLDEST_TEXT_VERSION`];
/// `None` for any other text (a character over U+00FF among them).
pub fn from_text<T: Wire>(text: &str) -> Option<T> {
    decode_since(&text.chars().map(|c| u8::try_from(c).ok()).collect::<Option<Vec<u8>>>()?, OLDEST_TEXT_VERSION)
}

pub struct Writer(Vec<u8>);

impl Writer {
    pub fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.0.push(n as u8 | 0x80);
            n >>= 7;
        }
        self.0.push(n as u8);
    }

    pub fn bytes(&mut self, bytes: &[u8]) {
        self.varint(bytes.len() as u64);
        self.0.extend_from_slice(bytes);
    }

    /// An enum's variant index.
    pub fn tag(&mut self, index: u8) {
        self.0.push(index);
    }

    /// `value` as a length-prefixed section, which a reader may skip whole ([`Reader::section`]).
    pub fn section(&mut self, value: &impl Wire) {
        self.section_with(|inner| value.put(inner));
    }

    /// What `write` writes, as one section ([`Writer::section`]).
    pub fn section_with(&mut self, write: impl FnOnce(&mut Writer)) {
        let mut inner = Writer(Vec::new());
        write(&mut inner);
        self.bytes(&inner.0);
    }
}

pub struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = self.0.split_first()?;
            self.0 = rest;
            n |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(n);
            }
        }
        None
    }

    pub fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        let bytes = self.0.get(..len)?;
        self.0 = &self.0[len..];
        Some(bytes)
    }

    /// A section written by [`Writer::section`]: its bytes, for a nested reader or to skip.
    pub fn section(&mut self) -> Option<Reader<'a>> {
        self.bytes().map(Reader)
    }

    /// Whether every byte was read: a section read field by field must end with its last field.
    pub fn is_done(&self) -> bool {
        self.0.is_empty()
    }

    /// An enum's variant index.
    pub fn tag(&mut self) -> Option<u8> {
        let (&tag, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(tag)
    }
}

impl Wire for u64 {
    fn put(&self, out: &mut Writer) {
        out.varint(*self);
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        input.varint()
    }
}

impl Wire for u32 {
    fn put(&self, out: &mut Writer) {
        out.varint(u64::from(*self));
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        u32::try_from(input.varint()?).ok()
    }
}

impl Wire for u8 {
    fn put(&self, out: &mut Writer) {
        out.varint(u64::from(*self));
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        u8::try_from(input.varint()?).ok()
    }
}

impl Wire for u16 {
    fn put(&self, out: &mut Writer) {
        out.varint(u64::from(*self));
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        u16::try_from(input.varint()?).ok()
    }
}

impl Wire for i64 {
    fn put(&self, out: &mut Writer) {
        out.varint(((*self << 1) ^ (*self >> 63)) as u64);
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        let n = input.varint()?;
        Some((n >> 1) as i64 ^ -((n & 1) as i64))
    }
}

impl Wire for bool {
    fn put(&self, out: &mut Writer) {
        out.tag(u8::from(*self));
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        match input.tag()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Wire for String {
    fn put(&self, out: &mut Writer) {
        out.bytes(self.as_bytes());
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        String::from_utf8(input.bytes()?.to_vec()).ok()
    }
}

impl<T: Wire> Wire for Option<T> {
    fn put(&self, out: &mut Writer) {
        self.is_some().put(out);
        if let Some(value) = self {
            value.put(out);
        }
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        if bool::take(input)? { T::take(input).map(Some) } else { Some(None) }
    }
}

impl<T: Wire> Wire for Vec<T> {
    fn put(&self, out: &mut Writer) {
        out.varint(self.len() as u64);
        for value in self {
            value.put(out);
        }
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        let len = input.varint()?;
        // Every value takes at least a byte: a length past the input is malformed, not a reason
        // to reserve memory.
        if len > input.0.len() as u64 {
            return None;
        }
        // A plain loop: `collect` into an `Option` monomorphises a shunting iterator per element
        // type, ~200 B of wasm each in the widget's first load.
        let mut values = Vec::new();
        for _ in 0..len {
            values.push(T::take(input)?);
        }
        Some(values)
    }
}

impl<K: Wire + Ord, V: Wire> Wire for std::collections::BTreeMap<K, V> {
    fn put(&self, out: &mut Writer) {
        out.varint(self.len() as u64);
        for (key, value) in self {
            key.put(out);
            value.put(out);
        }
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        let len = input.varint()?;
        if len > input.0.len() as u64 {
            return None;
        }
        let mut map = Self::new();
        for _ in 0..len {
            map.insert(K::take(input)?, V::take(input)?);
        }
        Some(map)
    }
}

impl<T: Wire> Wire for Box<T> {
    fn put(&self, out: &mut Writer) {
        (**self).put(out);
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        T::take(input).map(Box::new)
    }
}

/// `Wire` for a fieldless enum, by variant index in the order listed (append new variants only
/// with a new [`VERSION`]).
#[macro_export]
macro_rules! wire_enum {
    ($type:ty { $($variant:ident),+ $(,)? }) => {
        impl $crate::base::wire::Wire for $type {
            fn put(&self, out: &mut $crate::base::wire::Writer) {
                // Exhaustive: a variant added to the type and not to this list fails to compile.
                match self {
                    $(<$type>::$variant)|+ => {}
                }
                let variants = [$(<$type>::$variant),+];
                out.tag(variants.iter().position(|v| v == self).unwrap_or(0) as u8);
            }
            fn take(input: &mut $crate::base::wire::Reader<'_>) -> Option<Self> {
                let variants = [$(<$type>::$variant),+];
                variants.get(usize::from(input.tag()?)).copied()
            }
        }
    };
}

/// `Wire` for a struct, field by field in the order listed (which is the wire's order). With
/// `..Default` after the list, the fields not listed stay off the wire and read as their default.
#[macro_export]
macro_rules! wire_struct {
    ($type:ident { $($field:ident),+ $(,)? } ..Default) => {
        impl $crate::base::wire::Wire for $type {
            fn put(&self, out: &mut $crate::base::wire::Writer) {
                $($crate::base::wire::Wire::put(&self.$field, out);)+
            }
            fn take(input: &mut $crate::base::wire::Reader<'_>) -> Option<Self> {
                Some($type { $($field: $crate::base::wire::Wire::take(input)?,)+ ..Default::default() })
            }
        }
    };
    ($type:ident { $($field:ident),+ $(,)? }) => {
        impl $crate::base::wire::Wire for $type {
            fn put(&self, out: &mut $crate::base::wire::Writer) {
                $($crate::base::wire::Wire::put(&self.$field, out);)+
            }
            fn take(input: &mut $crate::base::wire::Reader<'_>) -> Option<Self> {
                Some($type { $($field: $crate::base::wire::Wire::take(input)?),+ })
            }
        }
    };
}

wire_enum!(crate::base::locale::Locale { Ru, En });
wire_enum!(crate::base::locale::Weekday { Mon, Tue, Wed, Thu, Fri, Sat, Sun });
wire_enum!(crate::base::phone::PhoneRegion { Ru, Kz, By, Ua, Us, Ca, De, Gb });

impl Wire for crate::base::money::Money {
    fn put(&self, out: &mut Writer) {
        self.minor.put(out);
        self.currency.put(out);
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        Some(crate::base::money::Money { minor: Wire::take(input)?, currency: Wire::take(input)? })
    }
}

impl Wire for crate::base::money::Currency {
    fn put(&self, out: &mut Writer) {
        out.bytes(self.as_str().as_bytes());
    }
    fn take(input: &mut Reader<'_>) -> Option<Self> {
        Self::parse(&String::take(input)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Wire + PartialEq + std::fmt::Debug>(value: T) {
        let bytes = encode(&value);
        assert_eq!(bytes[0], VERSION);
        assert_eq!(decode::<T>(&bytes), Some(value));
        // Any cut is refused, never misread.
        for len in 0..bytes.len() {
            assert_eq!(decode::<T>(&bytes[..len]), None, "cut at {len}");
        }
    }

    #[test]
    fn values_survive_the_round_trip_and_a_cut_is_refused() {
        round_trip(0u64);
        round_trip(u64::MAX);
        round_trip(300u32);
        round_trip(u16::MAX);
        for n in [0i64, 1, -1, 63, -64, i64::MAX, i64::MIN] {
            round_trip(n);
        }
        round_trip(true);
        round_trip("Коляска «Orsa»".to_owned());
        round_trip(Some(vec![Some(7u32), None]));
        round_trip(Box::new(String::new()));
    }

    #[test]
    fn the_text_form_is_one_character_per_byte_and_refuses_wider_ones() {
        let value = Some(vec!["Коляска".to_owned()]);
        let text = to_text(&value);
        assert_eq!(text.chars().count(), encode(&value).len());
        assert_eq!(from_text::<Option<Vec<String>>>(&text), Some(value));
        assert_eq!(from_text::<u32>(&format!("{}\u{100}", char::from(VERSION))), None);
        assert_eq!(from_text::<u32>("{\"v\":1}"), None, "JSON of an older build");
    }

    #[test]
    fn text_stored_under_an_older_version_with_the_same_layout_still_reads() {
        let written = |version: u8| format!("{}\u{7}", char::from(version));
        assert_eq!(from_text::<u32>(&written(OLDEST_TEXT_VERSION)), Some(7));
        assert_eq!(from_text::<u32>(&written(VERSION)), Some(7));
        assert_eq!(from_text::<u32>(&written(OLDEST_TEXT_VERSION - 1)), None);
        assert_eq!(decode::<u32>(&[OLDEST_TEXT_VERSION, 7]), None, "only stored text, never a served form");
    }

    #[test]
    fn another_version_trailing_bytes_and_out_of_range_values_are_refused() {
        let mut bytes = encode(&5u32);
        bytes[0] = VERSION + 1;
        assert_eq!(decode::<u32>(&bytes), None);
        let mut bytes = encode(&5u32);
        bytes.push(0);
        assert_eq!(decode::<u32>(&bytes), None);
        assert_eq!(decode::<u16>(&encode(&70_000u32)), None);
        assert_eq!(decode::<bool>(&[VERSION, 2]), None);
        assert_eq!(decode::<String>(&[VERSION, 2, 0xff, 0xfe]), None, "not UTF-8");
        assert_eq!(decode::<Vec<u32>>(&[VERSION, 0xff, 0xff, 0xff, 0xff, 0x0f]), None, "a length past the input");
        assert_eq!(decode::<u64>(&[VERSION, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), None, "a varint over 64 bits");
    }
}
