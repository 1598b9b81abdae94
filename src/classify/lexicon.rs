//! The words the emergency rules look for, as data: hazard triggers and the context around them.
//!
//! Every entry is in the form [`crate::text::normalize`] produces (Simplified, half-width, lower
//! case). A *strong* trigger names an emergency unambiguously (着火, 抢劫, 没有呼吸) and makes the
//! message an emergency unless its context calms it; a *weak* one (火灾, 摔倒, 走失) only hints,
//! feeds the statistical model and picks the number when the model decides it is an emergency. A
//! *neutral* entry exists to swallow a trigger inside a harmless word: 打不着火 is a stove that
//! will not light, not a fire. When entries overlap, the longest wins.

use super::emergency::Hazard::{self, *};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strength {
    Strong,
    Weak,
    Neutral,
}

use Strength::{Neutral, Strong, Weak};

/// Hazard triggers: (words, hazard, strength). A neutral entry's hazard is ignored.
pub const TRIGGERS: &[(&str, Hazard, Strength)] = &[
    (
        "\
        着火 著火 起火 失火 着大火 烧起来 烧着了 烧了起来 火烧 大火 火势 火苗 火光 火场 浓烟 冒烟 \
        冒黑烟 冒浓烟 救火 灭不掉 灭不了 火警 自燃 火越来越大 冒火 有烟 全是烟 很多烟 好多烟 \
        好大的烟 很大的烟 冒大烟 冒着大烟 冒着黑烟 冒着浓烟 发生火灾 火灾现场 起了火灾 放火 纵火",
        Fire,
        Strong,
    ),
    (
        "\
        火灾 烟味 焦糊味 烧焦 短路 火花 冒火花 燃烧 焦味 黑烟 黄烟 烟很大 烟雾报警器 烟感",
        Fire,
        Weak,
    ),
    (
        "\
        打不着火 点不着火 不着火 打着火 着火点 防火 消防 火灾隐患 烟囱冒黑烟 烟囱冒烟 \
        排气管冒黑烟 尾气冒黑烟 吸烟 抽烟 烟花 烟头 油烟 香烟 烟草 烟酒 烟囱 火车 火锅 火葬 火化 \
        燃烧烟花 宠物 流血事件 防溺水 火灾报警器 火灾自动报警 火灾险",
        Fire,
        Neutral,
    ),
    (
        "\
        爆炸 炸了 爆燃 闪爆 炸开 炸伤 炸弹 爆炸物",
        Explosion,
        Strong,
    ),
    (
        "\
        巨响 炸响 滴滴响 可疑包裹 奇怪的包",
        Explosion,
        Weak,
    ),
    (
        "\
        燃气泄漏 燃气泄露 煤气泄漏 煤气泄露 天然气泄漏 天然气泄露 液化气泄漏 液化气泄露 漏气 \
        漏煤气 漏燃气 煤气味 燃气味 天然气味 液化气味 化学品泄漏 毒气 氨气 有毒气体 燃气报警器响 \
        燃气报警器一直响 煤气罐着火 一氧化碳 燃气管道爆 燃气管爆 煤气管爆 嘶嘶 喷气 往外喷气 \
        罐漏气 罐漏了 罐好像漏 瓦斯外泄 瓦斯漏 瓦斯味 一股煤气 一股燃气 股煤气味 外泄 煤气中毒",
        GasLeak,
        Strong,
    ),
    (
        "\
        臭鸡蛋味 泄漏 泄露 气味很浓 味道很浓 管道破裂 冒气 味道很冲 汽油味 漏油 油泄漏 煤气罐 \
        液化气罐 燃气罐 刺鼻",
        GasLeak,
        Weak,
    ),
    (
        "\
        信息泄露 隐私泄露 个人信息泄 泄露隐私 泄露信息 漏不漏气 漏不漏 有没有漏 轮胎漏气 车胎漏气 \
        胎漏气 气门漏气 漏气的轮胎",
        GasLeak,
        Neutral,
    ),
    (
        "\
        抢钱 抢包 抢手机 抢走 飞车抢 持刀 拿刀 拿着刀 动刀 砍人 砍伤 被砍 捅了 被捅 捅伤 杀人 \
        要杀 杀了我 杀死 绑架 劫持 人质 拐走 抱走 拉上车 强行带走 入室 进贼 有贼 撬门 撬锁 撬窗 \
        正在偷 打人 殴打 被打 群殴 打架 斗殴 家暴 强奸 性侵 非礼 跟踪 尾随 持枪 开枪 枪声 有枪 \
        砸门 砸车 被人困 被人关 被锁在 不让下车 锁了车门 泼汽油 点火烧 行凶 凶手 歹徒 持械 械斗 \
        被偷走 被拖倒 抢东西 围着打 围殴 打我 打伤 被关在 抢了一 抢了我 抢了她 抢了他 抢了个 \
        抱着孩子跑 抱着一个孩子跑 抢孩子 进了陌生人 有陌生人进 闯进 砍我 砍他 砍她 砍死 拿菜刀 \
        举着刀 被人绑 绑在 被人打 被一群人打 被几个人打 打了我 被人跟着 跟着我 不让我下车 踹门 \
        弄死 拿出刀 刀乱挥 挥刀 打群架 群架 拿着棍子 棍棒 砸窗 砸我家 喊救命 呼救 救命啊 救救我 \
        铁棍 打劫 抢劫 锁在屋里 把我锁 不让我走 撬我家 撬防盗门 在撬 救命 快来人 来人啊 快救人 \
        快报警 在偷东西 在偷车 在偷电动车 在偷钱 要打死 打死我 打死他 打死她 打死人 翻窗户进 \
        翻窗进 翻墙进来 翻进来 不让我出门 拐卖 人贩子 打起来了 动手了 持棍 挟持 投毒 被抢了 \
        在打人 在打老人 在打孩子 在打一个 在打我 在打她 在打他 孩子找不到了 孩子走丢了 孩子丢了 \
        孩子不见了 小孩不见了 小孩丢了 小孩走丢了 女儿不见了 儿子不见了 求救",
        Crime,
        Strong,
    ),
    (
        "\
        砸东西 威胁 敲诈 勒索 不让走 报复 闹事 醉汉 偷拍 扒窃 被偷 小偷 走失 失踪 找不到孩子 \
        联系不上 猥亵 骚扰 打砸 报警 反锁 不见了 露下体 骗走 不理我 一直跟着 陌生人 灌酒 躲在 \
        传销 孩子走丢 走丢了",
        Crime,
        Weak,
    ),
    (
        "\
        打印 打卡 打扫 打电话 打不通 打折 打针 报警器 被关在外面 关在门外 抢修 抢救 抢购 抢票 \
        抢红包 抢车位 抢道 难抢 抢着 抢不到 抢到 锁在门外 被锁在门外 锁在外面 被锁在外面 救命钱 \
        救命恩人",
        Crime,
        Neutral,
    ),
    (
        "\
        车祸 撞车 撞了人 撞人 撞倒 撞伤 追尾 翻车 侧翻 相撞 连环撞 撞飞 碾压 压到人 车翻了 \
        翻到沟里 翻进 翻下 撞了个人 撞了一个人 撞到人 撞到了人 撞到一个 把人撞了 撞死 我被车撞 \
        人被车撞 孩子被车撞 老人被车撞 被车撞倒 被车撞伤",
        TrafficAccident,
        Strong,
    ),
    (
        "\
        剐蹭 刮蹭 蹭了 肇事 逃逸 被撞 被车撞 撞上 撞到 撞了 交通事故",
        TrafficAccident,
        Weak,
    ),
    (
        "\
        被困 困在 困住 关在电梯 电梯困人 困人 卡在电梯里 埋人 被埋 掉井里 掉进井 掉下去 摔下去 \
        山崖 困在车里 坠楼 卷进 绞进 被卡住 决堤 溃坝 管涌 溃堤 孩子锁在车里 孩子被锁在车里 \
        小孩被锁在车里 孩子被锁车里 小孩锁在车里 头卡在 悬崖 夹住 还有人没出来 有人没出来 \
        人没出来 还有人在里面 挂在窗户外 挂在阳台外 挂在窗外 爬不出来 车里被锁 窗台外 爬到窗外 \
        爬出窗 翻到窗外 电梯往下掉 电梯一直往下掉 电梯突然往下 电梯急坠 电梯下坠 被压在 人被埋 \
        压在下面 被机器压 腿被压 被压住 下面压着 压着人 压着两个 压着一个 压着几个 到腰了 到胸口 \
        到脖子 没过头顶 齐腰 电梯里有人 里面有人被困 困着人 卡在两层 破门 还在车里 还在里面",
        Trapped,
        Strong,
    ),
    (
        "\
        迷路 失联 塌了 洪水 被淹 掉进去 出不来 锁在车里 被锁住 锁住了 出不去了 坍塌 倒塌 塌方 \
        泥石流 山体滑坡 滑坡 淹到 被冲走 冲走了 坠落 压着 压住 被压 地震 山洪",
        Trapped,
        Weak,
    ),
    (
        "\
        落水 掉水里 掉进水里 掉河里 溺水 掉湖里 掉池塘 沉下去 淹死 快淹 漂在水 浮在水面 小孩掉 \
        孩子掉 人掉进 掉进水 掉进河 掉进池 掉进塘 掉进湖 被浪卷走 卷走 呛水 快沉了 船进水 沉船 \
        冰窟窿 往下沉",
        Drowning,
        Strong,
    ),
    (
        "\
        不想活 自杀 轻生 寻死 想死 跳楼 跳河 跳江 跳湖 跳桥 要跳 跳下去 割腕 上吊 结束生命 \
        结束自己 往下跳 想跳 跳下来",
        Suicide,
        Strong,
    ),
    (
        "\
        活不下去 烧炭 遗书",
        Suicide,
        Weak,
    ),
    (
        "\
        晕倒 昏倒 昏迷 晕过去 晕了过去 不省人事 没有呼吸 没呼吸 没了呼吸 呼吸困难 喘不上气 \
        喘不过气 心脏骤停 心肺复苏 抽搐 口吐白沫 大出血 流了很多血 流血不止 血流不止 一直流血 \
        都是血 骨折 心梗 心肌梗 心脏病发 心脏病犯 胸口剧痛 休克 中毒 喝农药 喝了农药 吃了很多药 \
        吃了好多药 安眠药 误吞 吞下去 吞了一 吞了个 吞了药 意识不清 嘴歪 中风了 误食 误服 窒息 \
        噎住 卡住喉咙 卡在喉咙 被蛇咬 毒蛇 摔伤 叫不醒 叫不答应 没有意识 失去意识 没意识 突然倒下 \
        要生了 羊水破 早产 难产 烧伤 触电 被电倒 电倒 电晕 快不行了 生命危险 晕厥 癫痫 吐血 \
        脸色发紫 嘴唇发紫 站不起来 起不来 头破 叫救护车 派救护车 派辆救护车 叫个救护车 说不出话 \
        半边身子 出了很多血 疼得打滚 翻白眼 眼睛往上翻 高烧抽筋 躺着不动 躺在地上不动 被烫伤 误喝 \
        一直在流血 摔下来 在地上打滚 从楼上掉下来 从楼上摔 服毒 喝了一瓶农药 喝了半瓶农药 \
        叫都不醒 醒不过来 砸到了人 砸到人 砸伤 被砸 口齿不清 抬不起来 手脚麻木 嘴巴歪 被开水烫 \
        被热水烫 吃了半瓶 吃了一瓶 吃了一整瓶 摔下 喝了消毒 消毒水喝了 消毒液喝了 喝了84 喘不上来 \
        脸都紫 天旋地转 认不出人 说胡话 没有心跳 心跳停 昏过去 憋红 噎着 不清醒 没有回应 没回应 \
        不太清醒 吞了电池 吞了硬币 吞了磁铁 吞了纽扣 吞了钉 吞了刀片 吞了玻璃 喘不过来 吃了好几片 \
        吃了一把 吃了一大把 正在咬 咬住了 趴在地上不动 趴着不动 地上不动 血一直 脑溢血 脑出血 \
        哮喘发作 大量出血 昏厥 抽风 人没气了 没有脉搏 没脉搏 流产 说不了话 吃错药 夹断 疼得受不了 \
        痛得受不了",
        Medical,
        Strong,
    ),
    (
        "\
        摔倒 中风 脑梗 过敏 高烧 发烧 烫伤 被狗咬 哮喘 剧痛 疼得厉害 胸痛 吞了 被电 冒冷汗 不行了 \
        突发 发病 急救 不舒服 头晕 想吐 受伤 伤了 流血 出血 动不了 救护车 血压 头疼得厉害 头痛 \
        恶心 水泡 炭炉 消毒水 消毒液 农药 老鼠药 卡住了 被蜇 掉下 一直吐 磕到 昏昏沉沉 没反应 \
        倒地 倒下了 倒在地 一动不动 降压药 大口子 低血糖 全身发抖 高烧不退 想不开 漏电 摔了 \
        疼得不行 痛得不行 直不起腰 被蛰",
        Medical,
        Weak,
    ),
    (
        "\
        中毒事件 食物中毒 伤残 工伤 伤害",
        Medical,
        Neutral,
    ),
    (
        "\
        被困在高速 困在高速 车被困 车辆被困 车困在 车子被困 车被困住 车困住",
        Trapped,
        Neutral,
    ),
];

/// Someone is hurt: the number list gains 120 after the hazard's own number.
pub const INJURY: &str = "\
    受伤 受了伤 伤了 伤者 伤员 流血 出血 血流 都是血 骨折 昏迷 晕 起不来 站不起来 动不了 不能动 \
    没呼吸 没有呼吸 没意识 头破 重伤 死人 遇难 伤亡 抽搐 中毒 烧伤 撞伤 砍伤 捅伤 摔伤 被捅 被砍 \
    被埋 喘不上气 不行了 腿断了 手断了 骨头断了 腿摔断 胳膊断了";

/// Said of the injury words: nobody is hurt.
pub const NO_INJURY: &str = "\
    没人受伤 没有人受伤 无人受伤 没有受伤 没受伤 人没事 人都没事 都没事 无伤亡 没有伤亡 人员无伤 \
    没有人员伤亡 无人员伤亡";

/// Nobody is inside: a stuck lift or a collapsed shed is a repair, not a rescue.
pub const NOBODY: &str = "\
    里面没人 里面没有人 没有人被困 没人被困 无人被困 没有被困";

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
    转危为安 救出来了 已经送医";

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
    不管用 不管怎么 不管怎样 不管是 不管多 不管有没有 不管什么";

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
    吗 怎么 如何 什么 哪 ? 是否 还是 多少 能否 可以 谁";

/// Words that anchor a message in a present, particular situation; a question without any
/// of them is about emergencies in general (高层着火了应该往楼上跑还是往楼下跑).
pub const LIVE: &str = "\
    我 咱 家里 这里 这边 现在 刚才 刚刚 正在 快 有人 有个 对面 隔壁 门口 路上 邻居 怎么办 咋办 \
    还在 派 来人 过来 赶紧 马上 帮帮 120 110 119 122 救命";

/// Real words that sound like a strong trigger but for one character (大人 for 打人, 自然 for
/// 自燃, 家住 for 夹住): found in jieba's dictionary, they are never read as typos.
pub const HOMOPHONE_DENY: &str = "\
    烛火 起惑 起获 起货 似火 大伙 大祸 打火 火事 火石 货场 浓艳 救活 这伙 火井 火镜 自然 有研 \
    油烟 赌气 喷漆 喷起 拿到 动到 通了 人治 包走 暴走 入世 入仕 入市 入时 敲门 窍门 大人 达人 \
    欧打 打价 打假 搭架 家宝 强健 强碱 强舰 强间 菲礼 委随 开腔 油枪 大伤 打上 闯劲 看死 互救 \
    大劫 打结 装车 碾轧 犯下 捆住 轧着 压铸 吊下去 调下去 山鸦 延到 演到 眼到 卷紧 交进 绞尽 管用 \
    溃敌 夹注 家住 洛水 泥水 逆水 镪水 庆生 轻声 寻思 挑下去 割完 上调 抽出 休课 中度 中渎 误事 \
    误时 五服 支息 止息 倒底 稻地 难缠 出电 触点 电刀 电导 颠倒 混过去 撞到 撞上 管漏";
