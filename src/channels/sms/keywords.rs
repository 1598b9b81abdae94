//! The words an SMS sender uses to stop and restart messages: 退订/TD/STOP, 订阅/START. Matched on
//! the whole message after normalisation (Traditional, full-width, case), so 退訂, ＴＤ and Stop
//! count, and a sentence that merely contains 退订 does not.

use crate::engine::words::bare;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    /// 退订: send nothing more to this number.
    OptOut,
    /// 订阅: messages may be sent again.
    OptIn,
}

const OPT_OUT: &[&str] = &[
    "退订",
    "td",
    "t",
    "stop",
    "stopall",
    "unsubscribe",
    "退订短信",
    "取消订阅",
];
const OPT_IN: &[&str] = &["订阅", "重新订阅", "恢复订阅", "start", "unstop"];

pub fn keyword(text: &str) -> Option<Keyword> {
    let word = bare(text);
    if OPT_OUT.contains(&word.as_str()) {
        Some(Keyword::OptOut)
    } else if OPT_IN.contains(&word.as_str()) {
        Some(Keyword::OptIn)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opt_out_words_in_any_form() {
        for text in [
            "退订",
            "退訂",
            "TD",
            "ｔｄ",
            "Stop",
            "STOP!",
            " t ",
            "取消订阅",
        ] {
            assert_eq!(keyword(text), Some(Keyword::OptOut), "{text}");
        }
    }

    #[test]
    fn opt_in_words_and_ordinary_messages() {
        assert_eq!(keyword("订阅"), Some(Keyword::OptIn));
        assert_eq!(keyword("START"), Some(Keyword::OptIn));
        for text in ["怎么退订有线电视", "取消", "1", "stop the noise please"] {
            assert_eq!(keyword(text), None, "{text}");
        }
    }
}
