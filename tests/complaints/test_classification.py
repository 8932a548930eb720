"""The classifier works from its keyword priors alone, learns from corrections and from labelled messages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import TfidfTransformer

from complaints.classification import (
    INDUSTRIES,
    NATURES,
    ComplaintClassifier,
    EncodedBatch,
    LinearTextModel,
    features_of,
    text_features,
)


@pytest.fixture(scope="module")
def classifier() -> ComplaintClassifier:
    return ComplaintClassifier()


@pytest.mark.parametrize(
    ("text", "nature", "industry"),
    [
        ("家乐福超市鸡蛋标价8元一斤，结账时收了12元", "价格", "supermarket"),
        ("南岗区一家大药房的N95口罩一个卖到50元，明显哄抬价格", "价格", "pharmacy"),
        ("早市摊主用鬼秤，缺斤短两，一斤土豆少了二两", "计量", "farm_market"),
        ("饭店菜品里吃出异物，孩子吃了以后腹泻住院", "安全", "catering"),
        ("办了健身房的会员卡，充值五千元后老板跑路了", "合同", None),
        ("在淘宝网店买的名牌包是高仿假货，客服不承认", "假冒伪劣", "ecommerce"),
        ("苏宁买的空调安装后不制冷，多次报修售后一直推诿", "售后服务", "home_appliance"),
        ("联通营业厅给我办的套餐每月乱扣话费", None, "telecom"),
        ("跟团旅游被导游带到购物点强制购物", None, "tourism"),
    ],
)
def test_keyword_priors_classify_typical_complaints(
    classifier: ComplaintClassifier, text: str, nature: str | None, industry: str | None
) -> None:
    result = classifier.classify(text)
    if nature:
        assert result.nature.label == nature
    if industry:
        assert result.industry.label == industry
    assert 0 < result.nature.confidence <= 1
    assert 0 < result.industry.confidence <= 1


def test_text_without_known_words_falls_back_with_uniform_confidence(classifier: ComplaintClassifier) -> None:
    result = classifier.classify("你好！！！😀 ???")
    assert result.nature.label == "其他"
    assert result.industry.label == "other"
    assert result.nature.confidence == pytest.approx(1 / len(NATURES.codes), abs=1e-3)


def test_more_evidence_gives_more_confidence(classifier: ComplaintClassifier) -> None:
    weak = classifier.classify("鸡蛋涨价").nature
    strong = classifier.classify("鸡蛋涨价，哄抬价格，明码标价却多收钱，坐地起价").nature
    assert weak.label == strong.label == "价格"
    assert strong.confidence > weak.confidence


def test_learning_a_correction_changes_later_predictions() -> None:
    classifier = ComplaintClassifier()
    text = "小区门口的修鞋铺修一双鞋要价三百"
    assert classifier.classify(text).industry.label != "tourism"
    for _ in range(3):
        classifier.learn("小区门口的修鞋铺修一双鞋", industry="tourism")
    assert classifier.classify(text).industry.label == "tourism"


def test_linear_model_fits_a_small_corpus() -> None:
    model = LinearTextModel(["fruit", "tool", "toy"]).fit(
        [features_of(text) for text in ("苹果香蕉", "香蕉橙子", "锤子螺丝", "螺丝扳手")],
        ["fruit", "fruit", "tool", "tool"],
    )
    assert model.predict(features_of("香蕉"), fallback="toy").label == "fruit"
    assert model.predict(features_of("扳手和锤子"), fallback="toy").label == "tool"
    unknown = model.predict(features_of("😀"), fallback="toy")
    assert unknown.label == "toy"
    assert unknown.confidence == pytest.approx(1 / 3, abs=1e-3)


# Citizen messages in the style of the TipDM export (subject, body), written for these tests: the model is
# trained on the first ones of each department and must route messages it has not seen.
MESSAGES = {
    "交通运输": [
        (
            "A市公交车站台被撤销出行不便",
            "A市3路公交车在新华路的站台上个月被撤销，附近居民坐公交车要多走两公里，希望恢复站台。",
        ),
        (
            "A3区出租车拒载绕路",
            "晚上在火车站打出租车，司机拒载短途乘客，还故意绕路多收车费，请交通部门管管。",
        ),
        ("建议增开地铁早班车", "早上六点地铁还没有发车，上早班的乘客只能打车，建议地铁提前半小时发车。"),
        ("A市高速收费站长期拥堵", "每天下班高速收费站车辆排队一公里，收费通道太少，请增加通道缓解交通拥堵。"),
        ("网约车司机没有营运资质", "我坐的网约车司机没有营运证，车辆也没有营运资质，发生事故乘客怎么办。"),
        ("A7县公交线路停运", "我们村的公交车线路突然停运，老人孩子去县城只能坐黑车，希望公交公司恢复线路。"),
    ],
    "教育文体": [
        (
            "A市某小学违规补课收费",
            "孩子所在小学的老师周末在校外办补习班，要求学生参加并收取补课费，家长敢怒不敢言。",
        ),
        (
            "幼儿园学位紧张入学难",
            "我们小区没有配套幼儿园，孩子到了入学年龄找不到学位，公办幼儿园报名排不上。",
        ),
        (
            "体育馆长期不对市民开放",
            "区体育馆建成后一直不对外开放，市民想打篮球游泳都没有场地，希望开放体育场馆。",
        ),
        ("高考报名学籍问题", "孩子在A市读了三年高中，因为户籍原因不能在本地参加高考报名，学籍怎么处理。"),
        (
            "中学教师体罚学生",
            "初二班主任因为作业没写完罚学生在教室外站一上午，学生不敢告诉家长，请教育局调查。",
        ),
        ("学校食堂收费高", "学生在学校食堂吃饭每月收费八百元，饭菜质量差，学校强制学生在食堂就餐。"),
    ],
    "卫生计生": [
        ("A市人民医院挂号难", "在人民医院看专家门诊挂号要排一个星期，医院的号都被黄牛抢走了，看病太难。"),
        ("诊所医生无证行医", "小区门口的诊所医生没有执业证书，给病人打吊针出了问题，卫生部门应该查处。"),
        ("二孩生育登记手续繁琐", "办理二孩生育登记要跑好几个部门，准生证和计生证明材料太多，希望简化手续。"),
        ("社区卫生服务中心没有疫苗", "带孩子去社区卫生服务中心打疫苗，说疫苗缺货，预约了三次都没有打上。"),
        ("医院乱收检查费", "孩子发烧去医院，医生开了一大堆检查，化验费用一千多元，医保报销不了。"),
        (
            "乡镇卫生院医疗条件差",
            "镇卫生院只有两个医生，没有化验设备，村民看病要去县医院，希望改善医疗条件。",
        ),
    ],
}
TRAINED = 4


def test_held_out_messages_are_routed_to_their_department() -> None:
    model = LinearTextModel(sorted(MESSAGES))
    for label, messages in MESSAGES.items():
        model.fit(
            [features_of(f"{title}\n{body}", title) for title, body in messages[:TRAINED]], [label] * TRAINED
        )
    held_out = [(label, message) for label, messages in MESSAGES.items() for message in messages[TRAINED:]]
    predictions = model.predict_many(
        [features_of(f"{title}\n{body}", title) for _, (title, body) in held_out], fallback="交通运输"
    )
    assert [p.label for p in predictions] == [label for label, _ in held_out]
    assert all(p.confidence > 1 / len(MESSAGES) for p in predictions)


def test_text_features_keep_the_title_letters_apart() -> None:
    features = text_features(
        ["公交", "站台", "撤销"], "A市3路公交站台\n站台被撤销了", ["公交", "站台"], "A市3路公交站台"
    )
    assert features.title_characters == "a市路公交站台"  # lower case, no digits or punctuation
    assert features.characters == "a市路公交站台站台被撤销了"
    assert features.words.count("站台") == 2  # a title word counts twice
    assert features_of("站台被撤销了").title_characters == ""


def test_titled_complaints_are_classified_before_any_titled_example() -> None:
    """The keyword priors have no titles; a complaint with one is still classified by its words."""
    result = ComplaintClassifier().classify_features(
        [features_of("超市鸡蛋涨价\n鸡蛋涨价，哄抬价格", "超市鸡蛋涨价")]
    )
    assert result[0].nature.label == "价格"


def test_a_correction_with_a_title_changes_later_predictions() -> None:
    classifier = ComplaintClassifier()
    title, body = "修鞋铺修坏皮鞋", "小区门口的修鞋铺把皮鞋修坏了"
    assert (
        classifier.classify_features([features_of(f"{title}\n{body}", title)])[0].industry.label != "tourism"
    )
    for _ in range(3):
        classifier.learn(f"{title}\n{body}", industry="tourism", title=title)
    later = features_of(f"{title}\n皮鞋送去修了一周还没修好", title)
    assert classifier.classify_features([later])[0].industry.label == "tourism"


@pytest.mark.parametrize(
    ("value", "code"), [("价格/哄抬价格", "价格"), ("哄抬价格", "价格"), ("质量", "质量"), ("火星", None)]
)
def test_nature_aliases_normalize_to_codes(value: str, code: str | None) -> None:
    assert NATURES.normalize(value) == code


def test_industry_codes_and_names() -> None:
    assert INDUSTRIES.normalize("pharmacy") == "pharmacy"
    assert INDUSTRIES.normalize("药品零售") == "pharmacy"
    assert INDUSTRIES.fallback in INDUSTRIES.codes


def _plain_counts(known_keys: np.ndarray, keys: np.ndarray, rows: np.ndarray, size: int) -> sparse.csr_matrix:
    """Key counts by a binary search over all keys (no hash buckets)."""
    columns = np.searchsorted(known_keys, keys).clip(0, max(len(known_keys) - 1, 0))
    hit = known_keys[columns] == keys if len(known_keys) else np.zeros(len(keys), dtype=bool)
    return sparse.csr_matrix(
        (np.ones(hit.sum()), (rows[hit], columns[hit])), shape=(size, len(known_keys))
    ).tocsr()


@pytest.mark.parametrize("labels", [("价格", "质量"), NATURES.codes], ids=["two-classes", "all-natures"])
def test_batch_probabilities_are_scikit_learns_arithmetic(labels: tuple[str, ...]) -> None:
    """Predictions do TF-IDF and the SVMs' products on the batch matrices (skipping scikit-learn's
    per-call input checks) and look keys up by hash bucket first: the same probabilities as scikit-learn's
    TF-IDF and a plain lookup give, for known, unknown and partly known texts, titled or not."""
    examples = {
        "价格": [("猪肉涨价", "猪肉价格上涨哄抬物价"), ("", "口罩一天涨价三倍"), ("", "明码标价却多收钱")],
        "质量": [("牛奶变质", "买的牛奶变质发臭"), ("", "手机用了两天就坏"), ("", "鞋子开胶质量太差")],
        "假冒伪劣": [("", "卖假酒冒充茅台"), ("", "假冒名牌化妆品")],
        "虚假宣传": [("", "广告说包治百病"), ("", "宣传的赠品没有给")],
    }
    model = LinearTextModel(labels)
    training = []
    for label in labels:
        for title, text in examples.get(label, [("", f"{label}相关的投诉内容")]):
            training.append(features_of(f"{title}\n{text}" if title else text, title or None))
            model.learn(training[-1], label)
    documents = [
        features_of(f"{title}\n{text}" if title else text, title or None)
        for title, text in (
            ("", "超市猪肉涨价"),
            ("牛奶变质", "牛奶变质了还在卖"),
            ("", "完全无关的句子 xyz"),
            ("假酒", "假酒"),
            ("", "价格质量都有问题"),
            ("", ""),
        )
    ]
    fitted = model._model()
    probabilities, known = fitted.probabilities(EncodedBatch.of(documents))

    vocabulary = fitted.vocabulary

    def blocks(batch: EncodedBatch) -> list[sparse.csr_matrix]:
        return [
            vocabulary.word_counts(batch),
            _plain_counts(vocabulary.characters.keys, batch.character_keys, batch.character_rows, batch.size),
            _plain_counts(vocabulary.titles.keys, batch.title_keys, batch.title_rows, batch.size),
        ]

    trained, predicted = blocks(EncodedBatch.of(training)), blocks(EncodedBatch.of(documents))
    weights = (1.0, model.hyperparameters.character_weight, model.hyperparameters.character_weight)
    features = sparse.hstack(
        [
            weight * TfidfTransformer(sublinear_tf=True).fit(fit).transform(block)
            for fit, block, weight in zip(trained, predicted, weights, strict=True)
        ]
    ).tocsr()
    assert fitted.weights is not None and fitted.intercepts is not None
    margins = features @ fitted.weights.T + fitted.intercepts
    expected = np.exp(margins - margins.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-12)
    assert known.tolist() == [sum(block[row].nnz for block in predicted) > 0 for row in range(len(documents))]
    assert known[0] and not known[-1]
