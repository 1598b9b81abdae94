//! How a reply looks on Telegram: split under the 4,096-character limit (counted as Telegram
//! counts, in UTF-16 code units), escaped for HTML parse mode, buttons as an inline keyboard.
//!
//! Inline buttons carry at most 64 bytes of `callback_data`, and a payload (Chinese text) can be
//! longer. A button therefore carries `digest:index`: the digest of its message's button
//! payloads and its place among them. The press is resolved against the conversation's
//! transcript, where every reply is kept with its buttons; a digest that is no longer there is a
//! stale button and is answered as such.

use sha2::{Digest, Sha256};
use teloxide::types::{
    ButtonRequest, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, KeyboardMarkup,
    ReplyMarkup,
};

use crate::domain::{Button, Conversation, OutboundReply, Speaker};

/// Telegram's limit for one message's text, in UTF-16 code units after entity parsing.
pub const MESSAGE_LIMIT: usize = 4096;

/// One `sendMessage` call: HTML-escaped text and maybe a keyboard.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub html: String,
    pub markup: Option<ReplyMarkup>,
}

/// A reply as the messages that carry it; its buttons go with the last part.
pub fn render(reply: &OutboundReply, extra: Option<ReplyMarkup>) -> Vec<Outgoing> {
    let parts = split(&reply.text, MESSAGE_LIMIT);
    let last = parts.len().saturating_sub(1);
    parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let markup = if i != last {
                None
            } else if reply.buttons.is_empty() {
                extra.clone()
            } else {
                Some(ReplyMarkup::InlineKeyboard(inline_keyboard(&reply.buttons)))
            };
            Outgoing {
                html: teloxide::utils::html::escape(&part),
                markup,
            }
        })
        .collect()
}

/// One button a row: Chinese labels are long and phones are narrow.
pub fn inline_keyboard(buttons: &[Button]) -> InlineKeyboardMarkup {
    let digest = buttons_digest(buttons);
    InlineKeyboardMarkup::new(buttons.iter().enumerate().map(|(i, b)| {
        [InlineKeyboardButton::callback(
            b.label.clone(),
            format!("{digest}:{i}"),
        )]
    }))
}

/// A one-time reply keyboard whose button shares the user's own phone number.
pub fn contact_keyboard(label: &str) -> ReplyMarkup {
    ReplyMarkup::Keyboard(
        KeyboardMarkup::new([[KeyboardButton::new(label).request(ButtonRequest::Contact)]])
            .resize_keyboard()
            .one_time_keyboard(),
    )
}

/// 12 hex digits of the SHA-256 of the payloads: `digest:index` stays far under 64 bytes.
fn buttons_digest(buttons: &[Button]) -> String {
    let mut hash = Sha256::new();
    for b in buttons {
        hash.update(b.payload.as_bytes());
        hash.update([0u8]);
    }
    hash.finalize()[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The payload of a pressed button, found in the transcript; `None` for a stale or forged one.
pub fn resolve_callback(conversation: &Conversation, data: &str) -> Option<String> {
    let (digest, index) = data.split_once(':')?;
    let index: usize = index.parse().ok()?;
    conversation
        .transcript
        .iter()
        .rev()
        .filter(|e| e.from == Speaker::Hotline && !e.buttons.is_empty())
        .find(|e| buttons_digest(&e.buttons) == digest)
        .and_then(|e| e.buttons.get(index))
        .map(|b| b.payload.clone())
}

fn utf16_len(text: &str) -> usize {
    text.chars().map(char::len_utf16).sum()
}

/// Splits `text` into parts of at most `limit` UTF-16 code units, cutting after a line break if
/// there is one in the second half of the part, else after a sentence's end, else after a space,
/// else anywhere between characters.
pub fn split(text: &str, limit: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    while utf16_len(rest) > limit {
        let cut = cut_point(rest, limit);
        let (part, tail) = rest.split_at(cut);
        parts.push(part.trim_end().to_string());
        rest = tail.trim_start();
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_string());
    }
    parts
}

/// The byte offset to cut at: at most `limit` UTF-16 units in, at the best boundary.
fn cut_point(text: &str, limit: usize) -> usize {
    let mut units = 0;
    let mut hard = 0;
    let (mut line, mut sentence, mut space) = (None, None, None);
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > limit {
            break;
        }
        let after = at + c.len_utf8();
        hard = after;
        // Only boundaries past the middle: a part should not be needlessly short.
        if units * 2 < limit {
            continue;
        }
        match c {
            '\n' => line = Some(after),
            '。' | '！' | '？' | '；' | '!' | '?' | ';' | '.' => sentence = Some(after),
            c if c.is_whitespace() || c == '，' || c == ',' => space = Some(after),
            _ => {}
        }
    }
    line.or(sentence).or(space).unwrap_or(hard).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_text_is_one_part() {
        assert_eq!(split("你好", MESSAGE_LIMIT), vec!["你好"]);
    }

    #[test]
    fn parts_stay_under_the_limit_in_utf16_units_and_lose_nothing() {
        // Emoji are two UTF-16 units each: counting chars would overshoot.
        let sentence = "这是一句很长的解答内容，包含😀表情。";
        let text = sentence.repeat(400) + "\n" + &"第二段。".repeat(300);
        let parts = split(&text, MESSAGE_LIMIT);
        assert!(parts.len() >= 3, "{}", parts.len());
        for p in &parts {
            assert!(utf16_len(p) <= MESSAGE_LIMIT);
        }
        let joined: String = parts.concat();
        let strip = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
        assert_eq!(strip(&joined), strip(&text));
        // Every cut falls after a sentence's end.
        for p in &parts[..parts.len() - 1] {
            assert!(
                p.ends_with('。'),
                "{:?}",
                p.chars().rev().take(5).collect::<String>()
            );
        }
    }

    #[test]
    fn a_line_break_is_the_preferred_cut() {
        let text = format!("{}\n{}", "甲。".repeat(30), "乙。".repeat(30));
        let parts = split(&text, 100);
        assert_eq!(parts[0], "甲。".repeat(30));
    }

    #[test]
    fn text_without_boundaries_is_cut_between_characters() {
        let text = "字".repeat(250);
        let parts = split(&text, 100);
        assert_eq!(
            parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
            [100, 100, 50]
        );
    }

    #[test]
    fn html_is_escaped_and_buttons_ride_on_the_last_part() {
        let reply = OutboundReply::text(format!("<b>{}", "长".repeat(5000)))
            .with_buttons(vec![Button::new("确认", "确认")]);
        let out = render(&reply, None);
        assert_eq!(out.len(), 2);
        assert!(out[0].html.starts_with("&lt;b&gt;"));
        assert!(out[0].markup.is_none());
        assert!(matches!(
            out[1].markup,
            Some(ReplyMarkup::InlineKeyboard(_))
        ));
    }

    #[test]
    fn a_button_is_found_by_its_digest_and_a_stale_one_is_not() {
        let long = "这是一个非常长的知识库文章标题，用来说明按钮的载荷可能超过六十四个字节的限制";
        let buttons = vec![Button::new("短", "短"), Button::new(long, long)];
        let keyboard = inline_keyboard(&buttons);
        let teloxide::types::InlineKeyboardButtonKind::CallbackData(data) =
            &keyboard.inline_keyboard[1][0].kind
        else {
            panic!("a callback button");
        };
        assert!(data.len() <= 64);
        let mut conversation =
            Conversation::start(crate::domain::Channel::Telegram, jiff::Timestamp::now());
        conversation.record(crate::domain::TranscriptEntry {
            at: jiff::Timestamp::now(),
            from: Speaker::Hotline,
            text: "选一个".into(),
            buttons,
            outbox_id: None,
            ticket: None,
        });
        assert_eq!(resolve_callback(&conversation, data).as_deref(), Some(long));
        assert_eq!(resolve_callback(&conversation, "000000000000:0"), None);
        assert_eq!(resolve_callback(&conversation, "garbage"), None);
    }
}
