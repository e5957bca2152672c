//! Identifiers that arrive from the outside world and end up in storage keys and URLs.

use crate::base::error::{ApiError, ErrorCode, Mistake};

/// Longest identifier accepted anywhere (site, visitor, session or event id).
pub const MAX_ID_LEN: usize = 64;

/// A site id: lowercase ASCII letters, digits and `-`, 1–64 chars, not starting or ending with `-`.
/// It appears in URLs (`/v1/sites/:site/config`) and in the loader tag (`data-site`).
pub fn validate_site_id(site: &str) -> Result<(), ApiError> {
    site_id_within(site)
}

/// [`validate_site_id`] for any [`Mistake`].
pub fn site_id_within<E: Mistake>(site: &str) -> Result<(), E> {
    let well_formed = !site.is_empty()
        && site.len() <= MAX_ID_LEN
        && !site.starts_with('-')
        && !site.ends_with('-')
        && site.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if well_formed {
        Ok(())
    } else {
        Err(E::new(ErrorCode::InvalidSite, || {
            format!("site id must be 1-{MAX_ID_LEN} lowercase letters, digits or '-', got {site:?}")
        }))
    }
}

/// A client-generated random id (visitor, session, event): 8–64 chars of `[A-Za-z0-9_-]`.
pub fn validate_client_id(field: &str, id: &str) -> Result<(), ApiError> {
    client_id_within(field, id)
}

/// [`validate_client_id`] for any [`Mistake`].
pub fn client_id_within<E: Mistake>(field: &str, id: &str) -> Result<(), E> {
    let well_formed = (8..=MAX_ID_LEN).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if well_formed {
        Ok(())
    } else {
        Err(E::new(ErrorCode::InvalidEvent, || format!("{field} must be 8-{MAX_ID_LEN} characters of [A-Za-z0-9_-]")))
    }
}

/// Longest prompt id: prompt ids are chosen by the site owner and appear in events and storage.
pub const MAX_PROMPT_ID_LEN: usize = 64;

/// A prompt id from the site config (`compare_by_email`, `child_age`): 1–64 chars of `[a-z0-9_-]`,
/// so that it is safe as a storage key and readable in a CRM.
pub fn is_valid_prompt_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_PROMPT_ID_LEN
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Formats random bytes as a client id (lowercase hex), the form `validate_client_id` accepts.
pub fn client_id_from_bytes(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_ids() {
        for ok in ["demo", "shop-1", "a", &"x".repeat(64)] {
            assert!(validate_site_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Demo", "-demo", "demo-", "de mo", "de/mo", "демо", &"x".repeat(65)] {
            let err = validate_site_id(bad).expect_err(bad);
            assert_eq!(err.code, ErrorCode::InvalidSite);
        }
    }

    #[test]
    fn client_ids() {
        assert!(validate_client_id("visitor", "0123abcd").is_ok());
        assert!(validate_client_id("visitor", "short").is_err());
        assert!(validate_client_id("visitor", "has space 1234").is_err());
        assert!(validate_client_id("visitor", &"a".repeat(65)).is_err());
    }

    #[test]
    fn prompt_ids() {
        assert!(is_valid_prompt_id("child_age"));
        assert!(is_valid_prompt_id("callback-2"));
        assert!(!is_valid_prompt_id(""));
        assert!(!is_valid_prompt_id("Child"));
        assert!(!is_valid_prompt_id(&"a".repeat(MAX_PROMPT_ID_LEN + 1)));
    }

    #[test]
    fn random_bytes_make_a_valid_client_id() {
        let id = client_id_from_bytes(&[0x00, 0x1f, 0xab, 0xff, 0x10, 0x20, 0x30, 0x40]);
        assert_eq!(id, "001fabff10203040");
        assert!(validate_client_id("event", &id).is_ok());
    }
}
