//! Reading a citizen's answer to a survey question the way people answer: the button's payload,
//! a digit (full-width too), the words, Traditional characters, short phrases ("解决了，挺好").
//! Anything unclear is `None`: the caller asks once more rather than guessing.

use crate::config::SatisfactionScale;
use crate::domain::Satisfaction;
use crate::engine::words::bare;

/// The satisfaction levels offered on `scale`, in the order of their buttons and digits.
pub fn levels(scale: SatisfactionScale) -> &'static [Satisfaction] {
    match scale {
        SatisfactionScale::Three => &Satisfaction::THREE,
        SatisfactionScale::Five => &Satisfaction::FIVE,
    }
}

/// A reply that is only a choice number: "1", "２", "选1", "第2个".
fn digit(b: &str) -> Option<usize> {
    let core = b
        .trim_start_matches('选')
        .trim_start_matches('第')
        .trim_end_matches('个')
        .trim_end_matches('项');
    match core {
        "1" | "一" => Some(1),
        "2" | "二" => Some(2),
        "3" | "三" => Some(3),
        "4" | "四" => Some(4),
        "5" | "五" => Some(5),
        _ => None,
    }
}

const NOT_SOLVED: &[&str] = &[
    "未解决",
    "没解决",
    "没有解决",
    "不解决",
    "没能解决",
    "解决不了",
    "没得到解决",
    "未处理",
    "没处理",
    "没有处理",
    "没人处理",
    "没修",
    "没弄好",
    "没搞定",
    "没好",
    "还没",
    "没变化",
    "老样子",
    "依旧",
    "依然",
    "仍然",
    "还是不",
    "还是没",
];
const SOLVED: &[&str] = &[
    "已解决",
    "解决",
    "处理好",
    "修好",
    "弄好",
    "搞定",
    "好了",
    "办好",
    "已处理",
    "处理了",
];

/// 问题解决了吗: `Some(true)` 已解决, `Some(false)` 未解决, `None` unclear.
pub fn solved(text: &str) -> Option<bool> {
    solved_when(text, true)
}

/// Like [`solved`], but a bare yes or no ("好的", "对", "不") is not taken as the answer: for a
/// citizen in the middle of another dialogue, whose "好的" confirms that dialogue.
pub fn solved_explicitly(text: &str) -> Option<bool> {
    solved_when(text, false)
}

fn solved_when(text: &str, yes_or_no: bool) -> Option<bool> {
    let b = bare(text);
    if let Some(n) = digit(&b) {
        return match n {
            1 => Some(true),
            2 => Some(false),
            _ => None,
        };
    }
    let no = ["否", "不是", "没有", "没", "不", "no", "n"];
    let yes = ["是", "是的", "对", "嗯", "有", "yes", "y", "ok", "好"];
    if no.contains(&b.as_str()) || yes.contains(&b.as_str()) {
        return yes_or_no.then(|| yes.contains(&b.as_str()));
    }
    if NOT_SOLVED.iter().any(|w| b.contains(w)) {
        return Some(false);
    }
    if SOLVED.iter().any(|w| b.contains(w)) {
        return Some(true);
    }
    None
}

/// 满意度 on `scale`; `None` when unclear. Digits count from the most satisfied.
pub fn satisfaction(text: &str, scale: SatisfactionScale) -> Option<Satisfaction> {
    let b = bare(text);
    let offered = levels(scale);
    if let Some(n) = digit(&b) {
        return offered.get(n.checked_sub(1)?).copied();
    }
    let five = scale == SatisfactionScale::Five;
    let very_bad = [
        "非常不满意",
        "很不满意",
        "特别不满意",
        "极不满意",
        "太差",
        "非常差",
    ];
    let bad = [
        "不满意",
        "不太满意",
        "差评",
        "很差",
        "差劲",
        "糟糕",
        "不好",
        "不行",
        "失望",
    ];
    let basic = [
        "基本满意",
        "比较满意",
        "还行",
        "一般",
        "凑合",
        "还可以",
        "马马虎虎",
        "还算满意",
        "基本",
    ];
    let very_good = [
        "非常满意",
        "很满意",
        "特别满意",
        "十分满意",
        "超级满意",
        "太满意",
    ];
    let good = [
        "满意",
        "挺好",
        "很好",
        "非常好",
        "不错",
        "好评",
        "点赞",
        "感谢",
        "谢谢",
        "给力",
    ];
    let has = |words: &[&str]| words.iter().any(|w| b.contains(w));
    if has(&very_bad) {
        return Some(if five {
            Satisfaction::VeryDissatisfied
        } else {
            Satisfaction::Dissatisfied
        });
    }
    if has(&bad) || b == "差" {
        return Some(Satisfaction::Dissatisfied);
    }
    if has(&basic) {
        return Some(Satisfaction::BasicallySatisfied);
    }
    if has(&very_good) {
        return Some(if five {
            Satisfaction::VerySatisfied
        } else {
            Satisfaction::Satisfied
        });
    }
    if has(&good) {
        return Some(Satisfaction::Satisfied);
    }
    None
}

/// "跳过", "没有了", "无", or "1" (the one button, numbered on SMS): nothing to add.
pub fn is_no_comment(text: &str) -> bool {
    let b = bare(text);
    if digit(&b) == Some(1) {
        return true;
    }
    matches!(
        b.as_str(),
        "跳过" | "没有" | "没" | "无" | "不用" | "不需要" | "没什么" | "算" | "不说" | "skip"
    )
}

/// A reply long enough to be the reason itself ("没解决，路灯晚上还是不亮").
pub fn carries_a_reason(text: &str) -> bool {
    bare(text).chars().count() >= 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use SatisfactionScale::{Five, Three};

    #[test]
    fn solved_is_read_from_payloads_digits_words_and_phrases() {
        for yes in [
            "已解决",
            "1",
            "１",
            "解决了",
            "解決了",
            "已經解決",
            "解决了，挺好",
            "是的",
            "修好了",
        ] {
            assert_eq!(solved(yes), Some(true), "{yes}");
        }
        for no in [
            "未解决",
            "2",
            "２",
            "没解决",
            "沒有解決",
            "还是没人处理",
            "否",
            "没有",
            "路灯依旧不亮",
        ] {
            assert_eq!(solved(no), Some(false), "{no}");
        }
        for unclear in ["今天天气不错", "3", "嗯嗯你好", "什么"] {
            assert_eq!(solved(unclear), None, "{unclear}");
        }
    }

    #[test]
    fn mid_dialogue_only_explicit_answers_count() {
        assert_eq!(solved_explicitly("好的"), None);
        assert_eq!(solved_explicitly("不"), None);
        assert_eq!(solved_explicitly("1"), Some(true));
        assert_eq!(solved_explicitly("未解决"), Some(false));
        assert_eq!(solved_explicitly("已解決"), Some(true));
    }

    #[test]
    fn satisfaction_is_read_on_the_three_level_scale() {
        assert_eq!(satisfaction("满意", Three), Some(Satisfaction::Satisfied));
        assert_eq!(satisfaction("1", Three), Some(Satisfaction::Satisfied));
        assert_eq!(
            satisfaction("２", Three),
            Some(Satisfaction::BasicallySatisfied)
        );
        assert_eq!(satisfaction("3", Three), Some(Satisfaction::Dissatisfied));
        assert_eq!(satisfaction("4", Three), None);
        assert_eq!(
            satisfaction("基本滿意", Three),
            Some(Satisfaction::BasicallySatisfied)
        );
        assert_eq!(
            satisfaction("不滿意！", Three),
            Some(Satisfaction::Dissatisfied)
        );
        assert_eq!(
            satisfaction("很不满意", Three),
            Some(Satisfaction::Dissatisfied)
        );
        assert_eq!(
            satisfaction("解决了，挺好", Three),
            Some(Satisfaction::Satisfied)
        );
        assert_eq!(
            satisfaction("还行吧", Three),
            Some(Satisfaction::BasicallySatisfied)
        );
        assert_eq!(satisfaction("解决了", Three), None);
        assert_eq!(satisfaction("你好", Three), None);
    }

    #[test]
    fn the_five_level_scale_keeps_the_extremes() {
        assert_eq!(
            satisfaction("非常满意", Five),
            Some(Satisfaction::VerySatisfied)
        );
        assert_eq!(
            satisfaction("5", Five),
            Some(Satisfaction::VeryDissatisfied)
        );
        assert_eq!(
            satisfaction("3", Five),
            Some(Satisfaction::BasicallySatisfied)
        );
        assert_eq!(
            satisfaction("非常不满意", Five),
            Some(Satisfaction::VeryDissatisfied)
        );
        assert_eq!(
            satisfaction("非常满意", Three),
            Some(Satisfaction::Satisfied)
        );
    }

    #[test]
    fn no_comment_words_and_reasons() {
        assert!(is_no_comment("跳过"));
        assert!(is_no_comment("没有了"));
        assert!(is_no_comment("１"), "the numbered button on SMS");
        assert!(!is_no_comment("路灯还是不亮"));
        assert!(carries_a_reason("没解决，路灯晚上还是不亮"));
        assert!(!carries_a_reason("没解决"));
    }
}
