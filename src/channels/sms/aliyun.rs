//! Alibaba Cloud SMS (阿里云短信服务) 上行消息, "HTTP批量推送模式" (SmsUp): the platform POSTs a
//! JSON array of the citizens' replies to the URL configured in the console:
//!
//! ```json
//! [{"phone_number": "13800138000", "content": "退订", "send_time": "2017-09-01 00:00:00",
//!   "dest_code": "1234", "sequence_id": 1234567890, "sign_name": "签名"}]
//! ```
//!
//! and expects `200 {"code": 0, "msg": "接收成功"}`; on anything else it pushes again (after 1, 5
//! and 10 minutes). The push carries no signature, so we verify a secret token of our own that
//! the configured URL holds (`…/hooks/sms/aliyun?token=…`), compared in constant time. Each
//! reply's `sequence_id` (a number in older documents, a string in newer ones) is its id: a
//! repeated push of it changes nothing.

use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::number::SmsNumber;
use super::provider::{Acknowledgement, InboundError, InboundProvider, SmsInbound, WebhookRequest};
use crate::config::Secret;

pub struct AliyunInbound {
    pub token: Secret,
    pub country_code: String,
}

#[derive(Deserialize)]
struct SmsUp {
    phone_number: String,
    content: String,
    sequence_id: serde_json::Value,
    // Documented and accepted, not needed: send_time, dest_code, sign_name.
}

fn token_of(query: Option<&str>) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query?).ok()?;
    pairs
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

impl InboundProvider for AliyunInbound {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    fn parse(&self, request: &WebhookRequest<'_>) -> Result<Vec<SmsInbound>, InboundError> {
        let given = token_of(request.query).ok_or(InboundError::BadSignature)?;
        if !bool::from(given.as_bytes().ct_eq(self.token.expose().as_bytes())) {
            return Err(InboundError::BadSignature);
        }
        let batch: Vec<SmsUp> = serde_json::from_slice(request.body).map_err(|e| {
            InboundError::Malformed(format!(
                "the body is not a JSON array of SmsUp messages (phone_number, content, \
                 sequence_id): error at line {} column {}",
                e.line(),
                e.column()
            ))
        })?;
        batch
            .into_iter()
            .enumerate()
            .map(|(i, up)| {
                let id = match &up.sequence_id {
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::String(s) if !s.is_empty() => s.clone(),
                    _ => {
                        return Err(InboundError::Malformed(format!(
                            "message {i}: sequence_id must be a number or a non-empty string"
                        )));
                    }
                };
                let from =
                    SmsNumber::parse(&up.phone_number, &self.country_code).ok_or_else(|| {
                        InboundError::Malformed(format!(
                            "message {i}: phone_number is not a number"
                        ))
                    })?;
                Ok(SmsInbound {
                    from,
                    message_id: format!("aliyun:{id}"),
                    text: up.content,
                })
            })
            .collect()
    }

    fn acknowledgement(&self) -> Acknowledgement {
        Acknowledgement {
            content_type: "application/json",
            body: r#"{"code":0,"msg":"接收成功"}"#,
        }
    }
}
