//! Replies as text messages: options become numbered choices ("回复1 有帮助"), long text is split
//! into single SMS segments at sentence boundaries, and a reply longer than the cap is cut and
//! ends with a link to the web chat.
//!
//! A Chinese SMS is UCS-2: one segment holds 70 UTF-16 units (`[sms] max_chars` in
//! bots/channels.toml). Each segment is sent as its own single message, so it is billed as one and
//! arrives whole; when a reply needs several, each starts with its part, "(1/3)".

use minijinja::context;

use crate::bots::Bots;
use crate::domain::OutboundReply;

/// Where a sentence may end: the piece keeps its punctuation (or newline).
const BOUNDARIES: &[char] = &['。', '！', '？', '；', '!', '?', ';', '\n'];

/// How replies are cut for one deployment.
pub struct SmsFormat<'a> {
    pub bots: &'a Bots,
    /// UTF-16 units in one segment (70 for Chinese text).
    pub max_chars: usize,
    /// Segments a reply may take; beyond, it is cut and ends with the link.
    pub max_segments: usize,
    /// The web chat's address, for cut replies.
    pub link: Option<&'a str>,
}

/// Length as an SMS counts it (UCS-2 code units).
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

impl SmsFormat<'_> {
    /// The segments to send for `reply`, in order; at most `max_segments`.
    pub fn segments(&self, reply: &OutboundReply) -> Vec<String> {
        let choices: Vec<String> = reply
            .buttons
            .iter()
            .enumerate()
            .map(|(i, b)| {
                let line = self
                    .bots
                    .say("sms_choice", context! { n => i + 1, label => &b.label });
                format!("\n{line}")
            })
            .collect();
        let body = reply.text.trim();
        let whole = format!("{body}{}", choices.concat());
        if units(&whole) <= self.max_chars {
            return vec![whole.trim().to_string()];
        }
        let cap = self.max_segments.max(1);
        let budget = self
            .max_chars
            .saturating_sub(units(&self.part(cap, cap)))
            .max(1);
        let body_pieces = pieces(body, budget);
        // The options stay together when they fit in one segment, and so does the ending below.
        let choice_pieces = whole_or_pieces(&choices.concat(), budget);
        let packed = pack(body_pieces.iter().chain(&choice_pieces), budget);
        if packed.len() <= cap {
            return self.numbered(packed);
        }
        // Too long: keep as much of the body as fits with the link and the choices after it.
        let ending = match self.link {
            Some(url) => format!("…\n{}", self.bots.say("sms_more", context! { url => url })),
            None => "…".to_string(),
        };
        let tail: Vec<String> = whole_or_pieces(&ending, budget)
            .into_iter()
            .chain(choice_pieces.iter().cloned())
            .collect();
        for keep in (0..body_pieces.len()).rev() {
            if pack(body_pieces[..keep].iter().chain(&tail), budget).len() > cap {
                continue;
            }
            // Fill the room left with the start of the next piece, cut mid-sentence.
            let next: Vec<char> = body_pieces[keep].chars().collect();
            for length in (0..next.len()).rev() {
                let partial = next[..length].iter().collect::<String>();
                let kept = body_pieces[..keep].iter().chain(std::iter::once(&partial));
                let packed = pack(kept.chain(&tail), budget);
                if packed.len() <= cap {
                    return self.numbered(packed);
                }
            }
        }
        let mut packed = pack(tail.iter(), budget);
        packed.truncate(cap);
        self.numbered(packed)
    }

    fn part(&self, n: usize, total: usize) -> String {
        self.bots
            .say("sms_part", context! { n => n, total => total })
    }

    fn numbered(&self, segments: Vec<String>) -> Vec<String> {
        if segments.len() <= 1 {
            return segments;
        }
        let total = segments.len();
        segments
            .into_iter()
            .enumerate()
            .map(|(i, s)| format!("{}{s}", self.part(i + 1, total)))
            .collect()
    }
}

/// Sentences (ending at a boundary), each cut into chunks of at most `budget` units.
fn pieces(text: &str, budget: usize) -> Vec<String> {
    let mut sentences = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        current.push(c);
        if BOUNDARIES.contains(&c) {
            sentences.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        sentences.push(current);
    }
    let mut out = Vec::new();
    for sentence in sentences {
        let mut chunk = String::new();
        for c in sentence.chars() {
            if units(&chunk) + c.len_utf16() > budget {
                out.push(std::mem::take(&mut chunk));
            }
            chunk.push(c);
        }
        if !chunk.is_empty() {
            out.push(chunk);
        }
    }
    out
}

/// `text` as one piece when it fits in a segment, else its sentences.
fn whole_or_pieces(text: &str, budget: usize) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else if units(text.trim()) <= budget {
        vec![text.to_string()]
    } else {
        pieces(text, budget)
    }
}

/// Packs pieces greedily into segments of at most `budget` units, trimmed at both ends.
fn pack<'p>(pieces: impl Iterator<Item = &'p String>, budget: usize) -> Vec<String> {
    let mut segments = Vec::new();
    let mut current = String::new();
    for piece in pieces {
        let piece = if current.is_empty() {
            piece.trim_start()
        } else {
            piece.as_str()
        };
        if !current.is_empty() && units(current.trim_end()) + units(piece.trim_end()) > budget {
            segments.push(current.trim().to_string());
            current = piece.trim_start().to_string();
        } else {
            current.push_str(piece);
        }
    }
    if !current.trim().is_empty() {
        segments.push(current.trim().to_string());
    }
    segments.retain(|s| !s.is_empty());
    segments
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Button;

    fn bots() -> Bots {
        Bots::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("bots")).unwrap()
    }

    fn format(bots: &Bots) -> SmsFormat<'_> {
        SmsFormat {
            bots,
            max_chars: 70,
            max_segments: 3,
            link: Some("https://12345.example.gov.cn"),
        }
    }

    #[test]
    fn a_short_reply_with_options_is_one_segment_with_numbered_choices() {
        let bots = bots();
        let reply = OutboundReply::text("以上解答对您有帮助吗？").with_buttons(vec![
            Button::new("有帮助", "有帮助"),
            Button::new("没帮助", "没帮助"),
        ]);
        let segments = format(&bots).segments(&reply);
        assert_eq!(segments.len(), 1, "{segments:?}");
        assert!(segments[0].contains("回复1"), "{segments:?}");
        assert!(segments[0].contains("回复2"), "{segments:?}");
        assert!(segments[0].find("有帮助") < segments[0].find("没帮助"));
    }

    #[test]
    fn long_text_splits_at_sentences_into_numbered_segments_of_70() {
        let bots = bots();
        let sentence = "办理居住证需要携带身份证原件和租房合同。";
        let reply = OutboundReply::text(sentence.repeat(5));
        let segments = format(&bots).segments(&reply);
        assert_eq!(segments.len(), 2, "{segments:?}");
        for (i, s) in segments.iter().enumerate() {
            assert!(units(s) <= 70, "{s}");
            assert!(s.starts_with(&format!("({}/2)", i + 1)), "{s}");
            assert!(s.ends_with('。'), "cut mid-sentence: {s}");
        }
        let joined: String = segments.iter().map(|s| &s[5..]).collect();
        assert_eq!(joined, sentence.repeat(5));
    }

    #[test]
    fn text_over_the_cap_is_cut_and_ends_with_the_link_and_the_choices() {
        let bots = bots();
        let reply = OutboundReply::text(
            "这是一句很长的说明文字，用来测试短信的分段和截断是否正确。".repeat(20),
        )
        .with_buttons(vec![Button::new("有帮助", "有帮助")]);
        let segments = format(&bots).segments(&reply);
        assert_eq!(segments.len(), 3, "{segments:?}");
        assert!(segments.iter().all(|s| units(s) <= 70), "{segments:?}");
        let last = segments.last().unwrap();
        assert!(last.contains("https://12345.example.gov.cn"), "{last}");
        assert!(last.contains("回复1 有帮助"), "{last}");
    }

    #[test]
    fn a_sentence_longer_than_a_segment_is_cut_inside() {
        let bots = bots();
        let reply = OutboundReply::text("长".repeat(150));
        let segments = format(&bots).segments(&reply);
        assert_eq!(segments.len(), 3, "{segments:?}");
        assert!(segments.iter().all(|s| units(s) <= 70), "{segments:?}");
    }
}
