"""The classifier works from its keyword priors alone and learns from corrections."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from complaints.classification import (
    INDUSTRIES,
    NATURES,
    ComplaintClassifier,
    EncodedBatch,
    LinearTextModel,
    features_of,
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


@pytest.mark.parametrize(
    ("value", "code"), [("价格/哄抬价格", "价格"), ("哄抬价格", "价格"), ("质量", "质量"), ("火星", None)]
)
def test_nature_aliases_normalize_to_codes(value: str, code: str | None) -> None:
    assert NATURES.normalize(value) == code


def test_industry_codes_and_names() -> None:
    assert INDUSTRIES.normalize("pharmacy") == "pharmacy"
    assert INDUSTRIES.normalize("药品零售") == "pharmacy"
    assert INDUSTRIES.fallback in INDUSTRIES.codes


@pytest.mark.parametrize("labels", [("价格", "质量"), NATURES.codes], ids=["two-classes", "all-natures"])
def test_batch_probabilities_are_the_fitted_models_own(labels: tuple[str, ...]) -> None:
    """Predictions do the models' arithmetic on the batch matrices (skipping scikit-learn's per-call
    input checks) and the vocabulary lookup skips keys by hash bucket: the same probabilities as the
    fitted TF-IDF, SVM and Naive Bayes objects give, for known, unknown and partly known texts."""
    examples = {
        "价格": ["猪肉价格上涨哄抬物价", "口罩一天涨价三倍", "明码标价却多收钱"],
        "质量": ["买的牛奶变质发臭", "手机用了两天就坏", "鞋子开胶质量太差"],
        "假冒伪劣": ["卖假酒冒充茅台", "假冒名牌化妆品"],
        "虚假宣传": ["广告说包治百病", "宣传的赠品没有给"],
    }
    model = LinearTextModel(labels)
    for label in labels:
        for text in examples.get(label, [f"{label}相关的投诉内容"]):
            model.learn(features_of(text), label)
    documents = [
        features_of(text)
        for text in ("超市猪肉涨价", "牛奶变质了还在卖", "完全无关的句子 xyz", "假酒", "价格质量都有问题", "")
    ]
    fitted = model._model()
    batch = EncodedBatch.of(documents)
    probabilities, known = fitted.probabilities(batch)

    keys = batch.character_keys
    columns = np.searchsorted(fitted.vocabulary.character_keys, keys).clip(
        0, len(fitted.vocabulary.character_keys) - 1
    )
    hit = fitted.vocabulary.character_keys[columns] == keys
    characters = sparse.csr_matrix(
        (np.ones(hit.sum()), (batch.character_rows[hit], columns[hit])),
        shape=(batch.size, len(fitted.vocabulary.character_keys)),
    )
    words = fitted.vocabulary.word_counts(batch)
    assert fitted.svm is not None and fitted.naive_bayes is not None
    margins = fitted.svm.decision_function(
        sparse.hstack(
            [
                fitted.svm_words.transform(words),
                fitted.character_weight * fitted.svm_characters.transform(characters),
            ]
        ).tocsr()
    )
    if margins.ndim == 1:
        margins = np.column_stack([-margins, margins])
    svm = np.exp(margins - margins.max(axis=1, keepdims=True))
    svm /= svm.sum(axis=1, keepdims=True)
    expected = (svm + fitted.naive_bayes.predict_proba(fitted.nb_words.transform(words))) / 2
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-12)
    assert known.tolist() == [words[row].nnz + characters[row].nnz > 0 for row in range(batch.size)]
    assert known[0] and not known[-1]
