//! Recognising the short replies people give: 确认, 取消, 人工, 查询, 保密 … in the forms they
//! really type them (Traditional, full-width, with punctuation or a polite word around them).
//!
//! The checks read a message's bare form ([`bare`]) or its normalised text, made once per
//! message by the caller (the engine's turn), not again by each check.

use crate::text::normalize;

/// Normalised text without punctuation, spaces or trailing particles.
pub fn bare(text: &str) -> String {
    bare_normalized(&normalize(text))
}

/// [`bare`] of text already normalised ([`crate::text::normalize`]).
pub fn bare_normalized(normalized: &str) -> String {
    normalized
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect::<String>()
        .trim_end_matches(['吧', '啊', '呀', '哦', '了', '的'])
        .to_string()
}

fn one_of(bare: &str, words: &[&str]) -> bool {
    words.contains(&bare)
}

/// `bare` is the message's [`bare`] form, as for every check below.
pub fn is_confirm(bare: &str) -> bool {
    one_of(
        bare,
        &[
            "确认",
            "确定",
            "提交",
            "对",
            "是",
            "是的",
            "没错",
            "没问题",
            "无误",
            "好",
            "好的",
            "可以",
            "行",
            "ok",
            "yes",
            "y",
            "确认提交",
        ],
    )
}

pub fn is_cancel(bare: &str) -> bool {
    one_of(
        bare,
        &[
            "取消",
            "算了",
            "不用了",
            "不办了",
            "放弃",
            "撤销",
            "取消登记",
            "cancel",
        ],
    )
}

pub fn is_human(b: &str) -> bool {
    [
        "人工",
        "转人工",
        "人工服务",
        "人工客服",
        "找人工",
        "真人",
        "话务员",
        "接线员",
    ]
    .iter()
    .any(|w| {
        b == *w
            || (b.len() <= 24
                && b.contains(w)
                && (b.contains('转') || b.contains('要') || b.contains('找')))
    })
}

pub fn is_resume(bare: &str) -> bool {
    one_of(bare, &["继续", "接着", "继续登记", "接着办", "resume"])
}

pub fn is_helpful(bare: &str) -> bool {
    one_of(
        bare,
        &[
            "有帮助",
            "有用",
            "解决了",
            "明白了",
            "懂了",
            "谢谢",
            "好的谢谢",
            "清楚了",
        ],
    )
}

pub fn is_not_helpful(bare: &str) -> bool {
    one_of(
        bare,
        &[
            "没帮助",
            "没有帮助",
            "没用",
            "没有用",
            "不对",
            "不是这个",
            "没解决",
        ],
    )
}

pub fn is_open_ticket(bare: &str) -> bool {
    one_of(
        bare,
        &[
            "登记诉求",
            "登记",
            "提交诉求",
            "我要反映",
            "都不是",
            "都不对",
            "立案",
        ],
    )
}

/// 保密 → Some(true), 不保密 → Some(false).
pub fn confidential_choice(b: &str) -> Option<bool> {
    if [
        "不保密",
        "不用保密",
        "不需要保密",
        "不需要",
        "不用",
        "否",
        "公开",
        "不",
    ]
    .contains(&b)
    {
        return Some(false);
    }
    if ["保密", "需要保密", "要保密", "需要", "要", "是", "匿名"].contains(&b) {
        return Some(true);
    }
    None
}

pub fn is_anonymous(bare: &str) -> bool {
    one_of(bare, &["不留电话", "不留", "匿名", "匿名登记", "不方便留"])
}

/// "查询", "查进度", "工单进度" …: the citizen wants a status.
pub fn is_status_request(b: &str) -> bool {
    let starts = [
        "查询",
        "查一下",
        "查下",
        "查工单",
        "进度",
        "工单进度",
        "办理进度",
        "查进度",
        "status",
    ];
    starts.iter().any(|w| b.starts_with(w)) || (b.contains("工单") && b.contains("进度"))
}

/// Only emoji, symbols or punctuation: nothing to read (`normalized`: the normalised message).
pub fn has_no_words(normalized: &str) -> bool {
    !normalized.chars().any(|c| c.is_alphanumeric())
}

pub fn is_greeting(bare: &str) -> bool {
    one_of(
        bare,
        &[
            "你好",
            "您好",
            "在吗",
            "hi",
            "hello",
            "嗨",
            "喂",
            "你好啊",
            "在不在",
            "有人吗",
            "start",
        ],
    )
}

/// A correction of one field: "地址改成和平路8号" → (Address, "和平路8号"), in the normalised
/// message.
pub fn correction(t: &str) -> Option<(Corrected, String)> {
    let verbs = [
        "改成",
        "改为",
        "换成",
        "更正为",
        "应该是",
        "修改为",
        "改一下",
    ];
    let fields: [(&str, Corrected); 9] = [
        ("地址", Corrected::Address),
        ("地点", Corrected::Address),
        ("电话", Corrected::Phone),
        ("手机", Corrected::Phone),
        ("号码", Corrected::Phone),
        ("区县", Corrected::District),
        ("区", Corrected::District),
        ("姓名", Corrected::Name),
        ("内容", Corrected::Content),
    ];
    for (word, field) in fields {
        if let Some(at) = t.find(word) {
            let rest = &t[at + word.len()..];
            for verb in verbs {
                if let Some(value) = rest.trim_start().strip_prefix(verb) {
                    let value =
                        value.trim_matches(|c: char| c.is_whitespace() || "：:，,。".contains(c));
                    if !value.is_empty() {
                        return Some((field, value.to_string()));
                    }
                }
            }
        }
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Corrected {
    Address,
    Phone,
    District,
    Name,
    Content,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_replies_are_understood_in_the_forms_people_type() {
        assert!(is_confirm(&bare("確認")));
        assert!(is_confirm(&bare("好的。")));
        assert!(is_cancel(&bare("取消！")));
        assert!(is_human(&bare("转人工")));
        assert!(is_human(&bare("我要找人工客服")));
        assert!(!is_human(&bare("人工智能是什么")));
        assert_eq!(confidential_choice(&bare("需要保密")), Some(true));
        assert_eq!(confidential_choice(&bare("不保密")), Some(false));
        assert!(is_status_request(&bare("查询 1000013")));
        assert!(has_no_words(&normalize("😀😀👍")));
        assert!(!has_no_words(&normalize("😀好")));
    }

    #[test]
    fn corrections_name_the_field_and_the_new_value() {
        assert_eq!(
            correction(&normalize("地址改成和平路8号")),
            Some((Corrected::Address, "和平路8号".into()))
        );
        assert_eq!(
            correction(&normalize("电话改为13900001111")),
            Some((Corrected::Phone, "13900001111".into()))
        );
        assert_eq!(correction(&normalize("地址没问题")), None);
    }
}
