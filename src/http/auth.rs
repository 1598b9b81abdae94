//! The `Caller` extractor: a bearer token, looked up by its hash, with its role.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::AppState;
use super::error::ApiError;
use crate::auth::{Role, TokenRecord, token_hash};

/// An authenticated caller.
pub struct Caller(pub TokenRecord);

impl Caller {
    pub fn role(&self) -> &Role {
        &self.0.role
    }

    /// 403 unless the caller is an admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Admin => Ok(()),
            _ => Err(forbidden("this needs an admin token")),
        }
    }

    /// 403 unless the caller is an operator or admin.
    pub fn require_operator(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Admin | Role::Operator => Ok(()),
            Role::Unit(_) | Role::Integrator(_) => Err(forbidden("this needs an operator token")),
        }
    }
}

pub fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| unauthorized("send `Authorization: Bearer <token>`; tokens are created with `hotline tokens create`"))?;
        let token = header
            .strip_prefix("Bearer ")
            .ok_or_else(|| unauthorized("the Authorization header must be `Bearer <token>`"))?;
        let record = state
            .tokens
            .token(&token_hash(token))
            .map_err(ApiError::internal)?
            .filter(|r| !r.revoked)
            .ok_or_else(|| unauthorized("unknown or revoked token"))?;
        Ok(Caller(record))
    }
}
