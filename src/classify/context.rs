//! The words around a hazard that say whether it is live: the emergency rules' context, as data.
//!
//! Lists of words in normalised form (Simplified, half-width, lower case), one string each,
//! separated by spaces. Some calm a single trigger in its own clause ([`LOCAL_CALM`]: 没着火);
//! the others are flags on the whole message: thanks ([`PRAISE`]), a past or settled event,
//! a hypothetical or a question in general, a recurring nuisance, a complaint about the
//! aftermath, an animal; and, against them, urgency ([`URGENT`], [`PLEA`]) and a present,
//! particular situation ([`LIVE`]). How they combine is [`super::assessment::Assessment`]'s job.

/// A trigger preceded (within a few characters) by one of these is negated or hypothetical:
/// 没着火, 怕引起火灾, 防止燃气泄漏.
pub const LOCAL_CALM: &str = "\
    没 不是 并未 尚未 还未 并无 无人 怕会 生怕 就怕 担心会 容易 可能会 会不会 防止 避免 引起 导致 \
    引发 以免 预防 万一 如果 假如 要是 防范 谨防 曾经 差点 差一点 险些 怕 防";

/// The whole message praises or thanks someone: an emergency that is over.
pub const PRAISE: &str = "\
    感谢 表扬 点赞 致谢 锦旗 好样的 辛苦了 谢谢你们 谢谢他们 谢谢消防 谢谢民警 谢谢医生 来得很快 \
    来得特别快 来得非常快 很快就到 非常及时 很及时 赞一个 为他们 感激";

/// The message speaks of the past.
pub const PAST: &str = "\
    昨天 前天 昨晚 上周 上星期 上个月 上月 去年 前年 前几天 前些天 前段时间 之前 那天 那次 当时 \
    曾经 以前 上次 几天前 天前 周前 个月前 年前 事后 后来 半个月 住院";

/// The danger is over: only a plea outweighs these.
pub const RESOLVED: &str = "\
    已经扑灭 已经灭了 扑灭了 被扑灭 脱离危险 出院 康复 抢救过来 已经处理 已经解决 已经修好 没事了 \
    转危为安 救出来了 已经送医 他没事 她没事 孩子没事 老人没事";

/// The message asks about rules, prevention, money or procedure, not about a live danger.
pub const HYPOTHETICAL: &str = "\
    如果 万一 假如 假设 一旦 平时 怎样预防 如何预防 预防 防范 防止 逃生知识 逃生演练 逃生技巧 \
    逃生通道 演练 演习 培训 讲座 宣传 知识 须知 常识 规定 标准 政策 需要什么 需要哪些 怎么申请 \
    申请 报销 赔偿 赔钱 不赔 理赔 保险 认定 鉴定 处理结果 费用 收费 多少钱 隐患 安全检查 安检 \
    灭火器 灭火毯 消防通道 消防栓 科普 误报 医药费 复查 后遗症 罚款 扣分 补贴 定损 营业执照 许可 \
    安全教育 怎么投诉 误工费 怎么算 私了 协议书 责任划分 堵车 医疗费 垫付 由谁 谁负责 谁出 谁承担 \
    处理吗 遇到 应该先 还是先 急救方法 怎么急救 的话";

/// Things that happen again and again are nuisances for a ticket, not emergencies.
pub const HABITUAL: &str = "\
    经常 总是 老是 每次 每天 天天 时常 有时候 有时 长期 常年 一到晚上 每晚 每周 多次 好几次 屡次 \
    频繁";

/// The citizen asks for something to be mended: a broken thing, not a person in danger. Only a
/// plea outweighs these.
pub const REPAIR: &str = "\
    派人修 派人来修 修一下 修理 维修 来修 修好 抢修 更换 换一个 扶起来 扶正 加固 清理一下";

/// Someone is blamed for harm already done and asked to pay or answer for it: a complaint about
/// the aftermath. Only a plea outweighs these.
pub const AFTERMATH: &str = "\
    不赔 不承认 不负责 推卸 不认账 要求赔 讨说法 给个说法 承担责任 不给赔 只给了 不给认 要个说法 \
    讨个说法";

/// Someone does not do their job (不管, 不理, 不处理): a complaint, unless the danger is live.
pub const COMPLAINT: &str = "\
    不理 不关他们 不关我们 几次都 不来修 态度 不处理 没人管 要求公司 不管不问 都不管 也不管 \
    就不管 不管了 不管事 说不管 物业不管 不管";

/// Phrases that hold a complaint word without complaining (喷药也不管用, 不管怎样).
pub const NOT_COMPLAINT: &str = "\
    不管用 不管怎么 不管怎样 不管是 不管多 不管有没有 不管什么 叫他不理 叫她不理 叫他不应 \
    叫她不应";

/// The one in trouble is an animal: a task for a rescue service, not an emergency number.
pub const ANIMAL: &str = "\
    有只 一只 流浪猫 流浪狗 小猫 小狗 小鸟 猫咪 狗狗 宠物 鸽子 电鱼 小鱼 鱼塘";

/// Live words: the danger is happening now and someone must come.
pub const URGENT: &str = "\
    快来 快点 快派 快叫 赶快 赶紧 马上 立即 立刻 请快 速来 正在 现在 刚才 刚刚 还在 越来越 来人 \
    快救 急死 危险 吓死 害怕 帮帮 着急 急疯 很急 急需 救命 快报警 速派 请速";

/// Urgency strong enough to outweigh words of thanks (a plea, not a report).
pub const PLEA: &str = "\
    快来 赶快派 赶紧派 马上派 请马上 请立即 速来 快救 救命 来人啊 快报警 速派 请速 请赶快";

/// Openings that announce another kind of message (a proposal, a report, a question).
pub const GENRE_OPENINGS: &str = "\
    建议 我建议 举报 我要举报 实名举报 投诉 我要投诉 表扬 我要表扬 感谢 希望 呼吁";

/// The message asks something.
pub const QUESTION: &str = "\
    吗 怎么 如何 什么 ? 是否 还是 能否";

/// Words that anchor a message in a present, particular situation; a question without any
/// of them is about emergencies in general (高层着火了应该往楼上跑还是往楼下跑).
pub const LIVE: &str = "\
    我 咱 家里 这里 这边 现在 刚才 刚刚 正在 快 有人 有个 对面 隔壁 门口 路上 邻居 怎么办 咋办 \
    还在 派 来人 过来 赶紧 马上 帮帮 120 110 119 122 救命 楼道 屋里 房间 车里 小区 店里 院里 这家 \
    那家";
