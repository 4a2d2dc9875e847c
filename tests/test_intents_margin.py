"""The out-of-scope margin: a message is out of scope unless its best intent beats ``oos`` by the margin."""

from __future__ import annotations

import numpy as np

from assistant.intents.data import OOS, Example
from assistant.intents.model import OOS_MARGIN, IntentClassifier

PHRASES = {
    "track_order": ("where is my order", "track my package", "has my order shipped", "order status please"),
    "return_item": ("return these shoes", "i want to send it back", "return my order", "how do i return an item"),
    OOS: ("what is the weather", "play some music", "tell me the news", "set an alarm for six"),
}
TRAIN = [Example(text, intent, "en", "train", "test") for intent, texts in PHRASES.items() for text in texts]


def _model() -> IntentClassifier:
    return IntentClassifier.train(examples=TRAIN, embedding=False)


def _lead(clf: IntentClassifier, text: str) -> tuple[str, float]:
    """The best in-scope intent and how far its score is above oos's."""
    scores = clf.scores([text])[0]
    oos = int(np.flatnonzero(clf.labels == OOS)[0])
    best = max((j for j in range(len(scores)) if j != oos), key=lambda j: scores[j])
    return str(clf.labels[best]), float(scores[best] - scores[oos])


def test_a_message_is_out_of_scope_exactly_when_its_lead_over_oos_is_below_the_margin():
    clf = _model()
    assert clf.oos_margin == OOS_MARGIN
    text = "where is my order"
    intent, lead = _lead(clf, text)
    assert intent == "track_order" and lead > 0
    clf.oos_margin = {"en": lead - 0.01}
    assert clf.predict(text).intent == "track_order" and clf.predict(text).in_scope
    clf.oos_margin = {"en": lead + 0.01}
    p = clf.predict(text)
    assert p.intent == OOS and not p.in_scope and p.route == "out_of_scope"
    assert p.near_route == clf.routes.get("track_order", "out_of_scope")  # what the margin overruled
    clf.oos_margin = {"zh": lead + 0.01}  # the margin of the message's own language applies
    assert clf.predict(text).in_scope and clf.predict(text).near_route is None


def test_oos_on_top_is_out_of_scope_whatever_the_margin():
    clf = _model()
    clf.oos_margin = {"en": 0.0}
    p = clf.predict("what is the weather")
    assert p.top[0][0] == OOS and p.intent == OOS and not p.in_scope and p.near_route is None


def test_the_margin_does_not_move_the_reported_probabilities():
    clf = _model()
    text = "return my order"
    before = clf.predict(text)
    clf.oos_margin = {"en": 10.0}
    after = clf.predict(text)
    assert after.intent == OOS
    assert after.top == before.top and after.confidence == before.confidence
