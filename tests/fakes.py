"""Deterministic stand-ins for tests of *other* parts (routing, policy): never used to answer shoppers."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class Prediction:
    intent: str
    route: str
    confidence: float = 0.99
    in_scope: bool = True
    lang: str = "en"
    near_route: str | None = None  # the best intent's route when only the out-of-scope margin ruled it out


class KeywordClassifier:
    """Routes by keywords, so agent tests do not depend on a statistical model's choices."""

    RULES = [
        (r"exchange|换货|换成", "exchange"),
        (r"return|退货", "return"),
        (r"cancel|取消", "cancel_order"),
        (r"address|地址", "update_address"),
        (r"modify|change .*(size|colou?r|item)", "modify_order"),
        (r"where is|status|track|订单|物流", "order_status"),
        (r"human|agent|人工", "human"),
        (r"policy|refund|how long|shipping", "faq"),
        (r"compare|对比", "compare"),
        (r"recommend|suggest|推荐", "recommend"),
        (r"does|is it|come in|what colou?r|哪些颜色|什么颜色", "product_question"),
        (r"weather|joke|president", "out_of_scope"),
        (r"^(hi|hello|thanks|你好)", "chit_chat"),
        (r"looking for|find|show me|want|need|找|买", "search"),
    ]

    def predict(self, text: str) -> Prediction:
        lowered = text.lower()
        for pattern, route in self.RULES:
            if re.search(pattern, lowered):
                return Prediction(intent=route, route=route)
        return Prediction(intent="oos", route="chit_chat", confidence=0.3)
