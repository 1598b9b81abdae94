//! What the seed writes: matters with their seasons, categories and the words citizens use, and
//! the places they live. Synthetic, written for the project.

use crate::domain::Category;

/// A matter as the seed writes it: weights by season, categories, and what citizens say.
pub(super) struct Kind {
    pub weight: f64,
    /// Multiplier by month (1–12).
    pub season: fn(i8) -> f64,
    pub categories: &'static [(Category, f64)],
    pub texts: &'static [&'static str],
}

fn flat(_: i8) -> f64 {
    1.0
}
fn summer(m: i8) -> f64 {
    if (6..=9).contains(&m) { 1.8 } else { 0.7 }
}
fn winter(m: i8) -> f64 {
    if m >= 11 || m <= 3 { 3.0 } else { 0.05 }
}

const HELP: &[(Category, f64)] = &[(Category::Help, 0.7), (Category::Complaint, 0.3)];
const COMPLAINT: &[(Category, f64)] = &[(Category::Complaint, 0.8), (Category::Suggestion, 0.2)];
const REPORT: &[(Category, f64)] = &[(Category::Report, 0.8), (Category::Complaint, 0.2)];
const ASK: &[(Category, f64)] = &[(Category::Consultation, 0.85), (Category::Complaint, 0.15)];
const PRAISE: &[(Category, f64)] = &[(Category::Praise, 1.0)];
const SUGGEST: &[(Category, f64)] = &[(Category::Suggestion, 0.7), (Category::Consultation, 0.3)];

pub(super) const KINDS: &[Kind] = &[
    Kind {
        weight: 8.0,
        season: summer,
        categories: HELP,
        texts: &[
            "{c}小区从早上开始停水，到现在还没来水，也没有提前通知",
            "{r}{n}号附近水压很低，楼上几乎没水，请尽快处理",
            "{c}小区门口自来水管爆了，水流到路上",
        ],
    },
    Kind {
        weight: 6.0,
        season: summer,
        categories: HELP,
        texts: &[
            "{c}小区整栋楼停电两个小时了，天气太热老人受不了",
            "{r}一带晚上经常跳闸断电，电压不稳",
        ],
    },
    Kind {
        weight: 7.0,
        season: winter,
        categories: HELP,
        texts: &[
            "{c}小区暖气不热，室温只有十几度",
            "家里供暖一直不正常，{c}小区很多户都这样",
        ],
    },
    Kind {
        weight: 2.0,
        season: flat,
        categories: HELP,
        texts: &[
            "{c}小区燃气表没气了，充值后还是打不着火",
            "{r}{n}号的天然气开户一直没人上门",
        ],
    },
    Kind {
        weight: 9.0,
        season: summer,
        categories: COMPLAINT,
        texts: &[
            "{r}{n}号的烧烤店夜里噪音扰民，凌晨两点还很吵",
            "{c}小区旁边工地夜间施工声太大，影响休息",
        ],
    },
    Kind {
        weight: 6.0,
        season: summer,
        categories: COMPLAINT,
        texts: &[
            "{c}小区垃圾好几天没人清运，味道很大",
            "{r}上的垃圾桶满了没人收",
        ],
    },
    Kind {
        weight: 4.0,
        season: winter,
        categories: HELP,
        texts: &[
            "{r}{n}号门口的路灯坏了一个星期，晚上很黑",
            "{c}小区周边路灯不亮，走夜路不安全",
        ],
    },
    Kind {
        weight: 4.0,
        season: summer,
        categories: COMPLAINT,
        texts: &["{r}人行道上有人占道摆摊，行人只能走机动车道"],
    },
    Kind {
        weight: 3.0,
        season: flat,
        categories: REPORT,
        texts: &[
            "{c}小区顶楼有人私搭乱建，违章搭建了一间房",
            "{r}{n}号有违建正在施工",
        ],
    },
    Kind {
        weight: 6.0,
        season: flat,
        categories: COMPLAINT,
        texts: &[
            "{r}上车辆乱停，占用消防通道",
            "{c}小区门口乱停车，救护车进不来",
        ],
    },
    Kind {
        weight: 6.0,
        season: flat,
        categories: COMPLAINT,
        texts: &[
            "{c}小区物业不作为，电梯坏了一周没人修",
            "{c}小区物业乱收费，停车费涨了一倍",
        ],
    },
    Kind {
        weight: 3.0,
        season: winter,
        categories: COMPLAINT,
        texts: &["我在{r}的一家公司上班，已经三个月工资没发，老板拖欠工资"],
    },
    Kind {
        weight: 5.0,
        season: flat,
        categories: ASK,
        texts: &["公积金提取需要什么材料，网上办不了", "离职后公积金怎么转移"],
    },
    Kind {
        weight: 5.0,
        season: flat,
        categories: ASK,
        texts: &["社保断缴了怎么补缴", "异地就医医保怎么备案"],
    },
    Kind {
        weight: 4.0,
        season: flat,
        categories: ASK,
        texts: &["居住证到期了怎么续签", "身份证丢了在外地能补办吗"],
    },
    Kind {
        weight: 3.0,
        season: summer,
        categories: ASK,
        texts: &["孩子入学需要准备哪些材料", "幼儿园报名什么时候开始"],
    },
    Kind {
        weight: 1.5,
        season: flat,
        categories: PRAISE,
        texts: &[
            "感谢{r}派出所民警帮我找回了钱包",
            "表扬{c}小区的社区工作人员，帮老人办了很多事",
        ],
    },
    // Matters the topics do not name (其他), and consultations the knowledge base cannot answer.
    Kind {
        weight: 4.0,
        season: flat,
        categories: SUGGEST,
        texts: &[
            "建议在{r}增设一个公交站",
            "护照加急办理需要多久",
            "新能源车充电桩安装需要物业同意吗",
            "二手房交易个税怎么计算",
            "老年人助餐补贴怎么申请",
        ],
    },
];

pub(super) const COMMUNITIES: &[&str] = &[
    "阳光", "花园", "锦绣", "翠湖", "金色", "名都", "华府", "书香", "春晖", "碧水",
];
pub(super) const ROADS: &[&str] = &[
    "和平路",
    "建设路",
    "人民路",
    "解放路",
    "中山路",
    "文化路",
    "新华路",
    "幸福路",
];
pub(super) const STREETS: &[&str] = &[
    "和平",
    "朝阳",
    "东华",
    "安定",
    "月坛",
    "金融",
    "桃源",
    "粤海",
    "湖滨",
    "北苑",
    "清河",
    "科技园",
];
pub(super) const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴"];
