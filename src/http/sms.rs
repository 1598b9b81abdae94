//! `POST /hooks/sms/{provider}`: the SMS providers' inbound webhooks.
//!
//! Answers: 200 in the provider's own acknowledgement once every message of the call is on disk
//! (a rate-limited or repeated message too: the provider must not retry it); 400 `{code,message}`
//! for a payload that is not the provider's; 403 for a bad signature or token, logged without
//! the number or the text; 413 over the body limit; 404 for a provider not configured; 500 when
//! the store fails (the provider retries, and the retry changes nothing that was done). Nothing
//! is stored for a 4xx.
//!
//! Also the web chat's phone verification (a one-time code by SMS): see
//! [`crate::channels::sms::verify`].

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::{ApiError, ApiJson};
use crate::channels::sms::provider::{InboundError, WebhookRequest};
use crate::channels::sms::verify::VerifyError;
use crate::domain::ConversationId;

pub async fn webhook(
    State(state): State<AppState>,
    Path(name): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let Some(provider) = state.sms.provider(&name) else {
        let configured = state.sms.provider_names();
        return Err(ApiError::not_found(
            "sms_provider_not_configured",
            format!(
                "no SMS provider `{name}` is configured here (configured: {}); see README.md, \
                 \"Connect a real SMS account\"",
                if configured.is_empty() {
                    "none".to_string()
                } else {
                    configured.join(", ")
                }
            ),
        ));
    };
    let body = body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "the request body is over the server's limit (server.body_limit_bytes)",
        ),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_payload",
            format!(
                "the request body could not be read: {}",
                rejection.body_text()
            ),
        ),
    })?;
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or_else(|| uri.path());
    let request = WebhookRequest {
        path_and_query,
        query: uri.query(),
        headers: &headers,
        body: &body,
    };
    let messages = provider.parse(&request).map_err(|e| match e {
        InboundError::BadSignature => {
            tracing::warn!(
                provider = provider.name(),
                "sms webhook refused: bad or missing signature"
            );
            ApiError::new(
                StatusCode::FORBIDDEN,
                "bad_signature",
                "the request's signature (or callback token) does not match this gateway's \
                 configuration",
            )
        }
        InboundError::Malformed(reason) => {
            ApiError::new(StatusCode::BAD_REQUEST, "malformed_payload", reason)
        }
    })?;
    for message in messages {
        state.sms.receive(message).await?;
    }
    let ack = provider.acknowledgement();
    Ok(([(header::CONTENT_TYPE, ack.content_type)], ack.body).into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhoneRequest {
    phone: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    code: String,
}

fn session(raw: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(raw).ok_or_else(|| {
        ApiError::not_found(
            "unknown_session",
            format!("no chat session {raw}: start a new one with POST /api/chat/sessions"),
        )
    })
}

impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> Self {
        let (status, code, message) = match e {
            VerifyError::Engine(e) => return e.into(),
            VerifyError::NotConfigured => (
                StatusCode::SERVICE_UNAVAILABLE,
                "sms_not_configured",
                "验证码短信暂不可用：本服务未配置短信发送。",
            ),
            VerifyError::InvalidPhone => (
                StatusCode::BAD_REQUEST,
                "invalid_phone",
                "号码格式不对，请输入11位手机号，如13812345678。",
            ),
            VerifyError::TooSoon => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_codes",
                "验证码刚刚已发送，请稍等20秒再试。",
            ),
            VerifyError::OptedOut => (
                StatusCode::CONFLICT,
                "sms_opted_out",
                "该号码已退订12345热线短信。如需接收验证码，请先用该手机发送“订阅”。",
            ),
            VerifyError::SendFailed(_) => (
                StatusCode::BAD_GATEWAY,
                "sms_send_failed",
                "验证码短信发送失败，请稍后再试。",
            ),
            VerifyError::NoCode => (
                StatusCode::BAD_REQUEST,
                "no_code",
                "没有待验证的验证码，请先获取验证码（POST …/verify-phone）。",
            ),
            VerifyError::Expired => (
                StatusCode::BAD_REQUEST,
                "code_expired",
                "验证码已过期，请重新获取。",
            ),
            VerifyError::WrongCode { left } => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "wrong_code",
                    format!("验证码不正确，还可以再试{left}次。"),
                );
            }
            VerifyError::TooManyAttempts => (
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                "验证码错误次数过多，已失效，请重新获取。",
            ),
        };
        ApiError::new(status, code, message)
    }
}

/// `POST /api/chat/sessions/{id}/verify-phone {phone}`: sends a one-time code by SMS.
pub async fn verify_phone(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PhoneRequest>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let conversation = session(&id)?;
    let sent_to = state
        .sms
        .send_phone_code(conversation, &request.phone)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "sent_to": sent_to })),
    ))
}

/// `POST /api/chat/sessions/{id}/verify-phone/confirm {code}`: proves the phone.
pub async fn confirm_phone(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<CodeRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let conversation = session(&id)?;
    let phone = state
        .sms
        .confirm_phone_code(conversation, &request.code)
        .await?;
    Ok(Json(serde_json::json!({ "proven_phone": phone })))
}
