//! The webhook signature: `X-Hotline-Signature: sha256=<hex>` where the hex is
//! HMAC-SHA256(secret, "{timestamp}.{body}") and `timestamp` is `X-Hotline-Timestamp` (Unix
//! seconds). Signing the timestamp with the body lets a receiver refuse an old message replayed
//! with a valid signature: it accepts a timestamp within [`TOLERANCE_SECS`] of its own clock and
//! a `X-Hotline-Delivery` id it has not seen before.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "x-hotline-timestamp";
pub const SIGNATURE_HEADER: &str = "x-hotline-signature";
pub const DELIVERY_HEADER: &str = "x-hotline-delivery";
pub const EVENT_HEADER: &str = "x-hotline-event";
/// How far a receiver lets the timestamp stray from its clock (±5 minutes).
pub const TOLERANCE_SECS: i64 = 300;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is not `sha256=<64 hex digits>`")]
    Malformed,
    #[error("the timestamp is not Unix seconds")]
    BadTimestamp,
    #[error("the timestamp is {0} s away from now; at most {TOLERANCE_SECS} s is accepted")]
    Stale(i64),
    #[error("the signature does not match the body")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `X-Hotline-Signature` value for `body` sent at `timestamp`.
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

/// What a receiver checks: the timestamp is recent and the signature matches (compared in
/// constant time). Remembering delivery ids already seen is the receiver's part.
pub fn verify(
    secret: &[u8],
    timestamp: &str,
    signature: &str,
    body: &[u8],
    now_secs: i64,
) -> Result<(), SignatureError> {
    let timestamp: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    let skew = (now_secs - timestamp).abs();
    if skew > TOLERANCE_SECS {
        return Err(SignatureError::Stale(skew));
    }
    let given = signature
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|b| b.len() == 32)
        .ok_or(SignatureError::Malformed)?;
    mac(secret, timestamp, body)
        .verify_slice(&given)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_body_secret_and_time() {
        let body = br#"{"event":"ticket.sign"}"#;
        let signature = sign(b"secret", 1_700_000_000, body);
        assert!(signature.starts_with("sha256=") && signature.len() == 71);
        assert_eq!(
            verify(b"secret", "1700000000", &signature, body, 1_700_000_100),
            Ok(())
        );
        assert_eq!(
            verify(b"other", "1700000000", &signature, body, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", "1700000000", &signature, b"{}", 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", "1700000001", &signature, body, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", "1700000000", &signature, body, 1_700_000_301),
            Err(SignatureError::Stale(301))
        );
        assert_eq!(
            verify(b"secret", "1700000000", "sha1=ab", body, 1_700_000_000),
            Err(SignatureError::Malformed)
        );
    }
}
