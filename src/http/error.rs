//! The one place where errors become HTTP responses: `{"code", "message"}` with a status.

use axum::Json;
use axum::extract::FromRequest;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::domain::lifecycle::TransitionError;
use crate::engine::EngineError;
use crate::tickets::ServiceError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "服务暂时出现问题，请稍后再试；如情况紧急请直接拨打12345。",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: &self.message,
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        match e {
            EngineError::UnknownConversation(id) => ApiError::not_found(
                "unknown_session",
                format!("no chat session {id}: start a new one with POST /api/chat/sessions"),
            ),
            EngineError::EmptyText => ApiError::new(
                StatusCode::BAD_REQUEST,
                "empty_text",
                "`text` is empty: send the citizen's message as non-blank text",
            ),
            EngineError::TooLong { max, actual } => ApiError::new(
                StatusCode::BAD_REQUEST,
                "text_too_long",
                format!(
                    "`text` is {actual} characters; the limit is {max}: split it into several messages"
                ),
            ),
            EngineError::Store(e) => ApiError::internal(e),
            EngineError::Kb(e) => ApiError::internal(e),
            EngineError::Service(e) => e.into(),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = rejection.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "malformed_json",
        };
        let message = match status {
            StatusCode::PAYLOAD_TOO_LARGE => {
                "the request body is too large; send at most 64 KiB of JSON".to_string()
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                "send the body as JSON with `Content-Type: application/json`".to_string()
            }
            _ => format!(
                "the body is not the JSON expected: {}",
                rejection.body_text()
            ),
        };
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        ApiError::new(status, code, message)
    }
}

/// `Json<T>` whose rejections are [`ApiError`]s, so every error has the same shape.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        let message = e.to_string();
        match e {
            ServiceError::NotFound(_) => ApiError::not_found("unknown_ticket", message),
            ServiceError::Forbidden(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            ServiceError::Invalid(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid", message),
            ServiceError::Transition(TransitionError::NotAllowed { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "transition_not_allowed", message)
            }
            ServiceError::Transition(TransitionError::Rule { .. }) => {
                ApiError::new(StatusCode::CONFLICT, "rule_broken", message)
            }
            ServiceError::Transition(TransitionError::Forbidden { .. }) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
            }
            ServiceError::Store(e) => ApiError::internal(e),
        }
    }
}
