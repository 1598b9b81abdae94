//! Who is calling: operators, admins and handling units authenticate with bearer tokens.
//!
//! A token is 32 random bytes shown once when created; the store keeps only its SHA-256. A
//! lookup hashes the presented token and fetches by hash, so nothing secret is ever compared
//! byte by byte and a leaked store does not leak usable tokens. (A token has 256 bits of entropy,
//! so a fast hash is enough; a password hash such as argon2 would only add ~40 ms a request.)

use jiff::Timestamp;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What a token lets its holder do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", content = "unit", rename_all = "snake_case")]
pub enum Role {
    /// Everything, including knowledge-base reloads and reports.
    Admin,
    /// Hotline operators: the dispatch queue, approvals, merges, escalations.
    Operator,
    /// A handling unit: only its own tickets.
    Unit(String),
    /// An integrator's app (a city app, a mini-program, an Open311 client), by its id in
    /// `config/integrators.toml`: the generic channel API and Open311 requests.
    Integrator(String),
}

impl Role {
    pub fn label(&self) -> String {
        match self {
            Role::Admin => "admin".into(),
            Role::Operator => "operator".into(),
            Role::Unit(id) => format!("unit:{id}"),
            Role::Integrator(id) => format!("integrator:{id}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// The first 12 hex digits of the hash: safe to show and to name the token by.
    pub id: String,
    pub role: Role,
    pub label: String,
    pub created_at: Timestamp,
    #[serde(default)]
    pub revoked: bool,
}

/// A new random token: `hl_` and 64 hex digits.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("hl_{}", hex(&bytes))
}

/// The SHA-256 of a token, hex: the key it is stored under.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.trim().as_bytes()))
}

pub fn token_id(hash: &str) -> String {
    hash.chars().take(12).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, b) = (generate_token(), generate_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 67);
        assert_eq!(token_hash(&a), token_hash(&format!(" {a}\n")));
        assert_ne!(token_hash(&a), token_hash(&b));
        assert!(!token_hash(&a).contains(&a[3..]));
    }
}
