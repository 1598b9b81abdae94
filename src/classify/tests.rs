//! The classifier as the engine sees it: the bundled model on messages a citizen might send.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::*;

fn knowledge_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge")
}

fn featurizer() -> &'static Featurizer {
    static FEATURIZER: OnceLock<Featurizer> = OnceLock::new();
    FEATURIZER
        .get_or_init(|| Featurizer::load(&knowledge_dir()).expect("the bundled dictionary loads"))
}

/// The bundled model (or one trained from the bundled examples if model.json is missing).
fn classifier() -> &'static Classifier {
    static CLASSIFIER: OnceLock<Classifier> = OnceLock::new();
    CLASSIFIER.get_or_init(|| {
        Classifier::load_with(featurizer().clone(), &knowledge_dir())
            .expect("the bundled model loads")
    })
}

fn emergency_numbers(text: &str) -> Vec<&'static str> {
    let c = classifier().classify(text);
    assert_eq!(c.category, Category::Emergency, "{text}");
    c.emergency_numbers
}

#[test]
fn a_fire_calls_119_first() {
    assert_eq!(emergency_numbers("厨房着火了，火越来越大")[0], "119");
    assert_eq!(
        emergency_numbers("楼道里全是烟，好像哪家烧起来了")[0],
        "119"
    );
}

#[test]
fn a_robbery_in_progress_calls_110_first() {
    assert_eq!(emergency_numbers("有人在抢劫，就在超市门口")[0], "110");
    assert_eq!(emergency_numbers("有人拿刀在街上砍人")[0], "110");
}

#[test]
fn an_unconscious_person_calls_120() {
    assert_eq!(emergency_numbers("我爸突然晕倒了，叫不醒"), vec!["120"]);
}

#[test]
fn an_accident_with_injured_calls_122_then_120() {
    assert_eq!(emergency_numbers("车祸有人受伤"), vec!["122", "120"]);
}

#[test]
fn a_gas_leak_and_a_trapped_person_call_119() {
    assert_eq!(emergency_numbers("家里煤气泄漏了，味道很大")[0], "119");
    assert_eq!(emergency_numbers("电梯困人了，里面有个小孩在哭")[0], "119");
}

#[test]
fn hard_negatives_are_not_emergencies() {
    for text in [
        "请问家里发生火灾时应该怎么逃生，有没有安全须知",
        "昨天家里着火，消防员几分钟就到了，非常感谢他们",
        "这个月燃气费怎么收了这么多，比平时贵一倍，要求燃气公司解释",
        "建议老旧小区多配灭火器，预防火灾",
        "我家燃气灶打不着火了，能不能派人来看看",
        "楼下烧烤店油烟太大，每天晚上都熏到我家",
        "路口的交通指示牌被车撞倒了，请派人修一下",
        "电梯卡在两层中间不动了，里面没人，请物业派人来修",
    ] {
        let c = classifier().classify(text);
        assert_ne!(c.category, Category::Emergency, "{text}");
        assert!(c.emergency_numbers.is_empty(), "{text}");
    }
}

#[test]
fn traditional_characters_and_full_width_input_read_like_simplified() {
    assert_eq!(emergency_numbers("廚房著火了！！快來人")[0], "119");
    assert_eq!(
        emergency_numbers("車禍有人受傷，在１２號路口"),
        vec!["122", "120"]
    );
    let traditional = classifier().classify("請問身份證丟了怎麼補辦？");
    let simplified = classifier().classify("请问身份证丢了怎么补办?");
    assert_eq!(traditional, simplified);
    assert_eq!(simplified.category, Category::Consultation);
}

#[test]
fn every_category_is_recognised_in_a_plain_message() {
    for (text, category) in [
        ("请问公积金贷款需要什么材料", Category::Consultation),
        (
            "我家水管爆了，物业联系不上，能不能帮忙找人来修",
            Category::Help,
        ),
        (
            "在网上买的东西商家不给退款，还把我拉黑了",
            Category::Complaint,
        ),
        ("举报小区里有人私自搭建违章建筑", Category::Report),
        ("建议在公园里多设几个公共厕所", Category::Suggestion),
        ("感谢社区工作人员耐心帮我办好了手续", Category::Praise),
    ] {
        assert_eq!(classifier().classify(text).category, category, "{text}");
    }
}

#[test]
fn confidence_is_a_probability() {
    let c = classifier().classify("请问社保卡在哪里补办");
    assert!(c.confidence > 0.0 && c.confidence <= 1.0);
}

#[test]
fn the_model_round_trips_through_save_and_load() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(MODEL_FILE);
    classifier().save(&path).expect("saved");
    let loaded = Classifier::load_with(featurizer().clone(), dir.path()).expect("loaded");
    assert_eq!(loaded.model, classifier().model);
    for text in [
        "着火了快来人",
        "请问护照怎么办",
        "投诉楼下噪音",
        "感谢民警",
        "車禍有人受傷",
    ] {
        assert_eq!(loaded.classify(text), classifier().classify(text));
    }
    let again = dir.path().join("again.json");
    loaded.save(&again).expect("saved again");
    assert_eq!(std::fs::read(&path).ok(), std::fs::read(&again).ok());
}

#[test]
fn training_is_deterministic() {
    let examples = data::read_examples(&knowledge_dir().join(TRAIN_FILE)).expect("examples");
    let some: Vec<_> = examples.into_iter().step_by(4).collect();
    let options = TrainOptions {
        epochs: 5,
        ..TrainOptions::default()
    };
    let first = Classifier::train(&some, featurizer().clone(), &options);
    let second = Classifier::train(&some, featurizer().clone(), &options);
    assert_eq!(first.model.to_json(), second.model.to_json());
}

#[test]
fn a_missing_model_is_trained_from_the_examples() {
    let dir = tempfile::tempdir().expect("temp dir");
    let train = dir.path().join(TRAIN_FILE);
    std::fs::create_dir_all(train.parent().expect("has a parent")).expect("dir");
    let lines = [
        r#"{"text":"请问身份证怎么补办","category":"咨询"}"#,
        r#"{"text":"请问护照怎么办理","category":"咨询"}"#,
        r#"{"text":"建议多建公厕","category":"建议"}"#,
        r#"{"text":"建议多种树","category":"建议"}"#,
    ];
    std::fs::write(&train, lines.join("\n")).expect("written");
    let classifier = Classifier::load_with(featurizer().clone(), dir.path()).expect("trained");
    assert_eq!(
        classifier.classify("建议多建停车场").category,
        Category::Suggestion
    );
}

#[test]
fn a_broken_model_file_is_named_in_the_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(MODEL_FILE);
    std::fs::create_dir_all(path.parent().expect("has a parent")).expect("dir");
    std::fs::write(&path, "{}").expect("written");
    let error = Classifier::load_with(featurizer().clone(), dir.path()).err();
    assert!(error.is_some_and(|e| e.to_string().contains("model.json")));
}

#[test]
fn the_classifier_can_be_shared_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Classifier>();
}
