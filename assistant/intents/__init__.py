"""Intent classification: what a shopper's message asks for, in English or Chinese, and its Aisle route.

    from assistant.intents import IntentClassifier
    clf = IntentClassifier.load()          # trains (seconds) if no model is cached for the current data
    clf.predict("where is my order #W2611340?").route   # -> "order_status"
"""

from assistant.intents.lang import Lang, detect_lang
from assistant.intents.model import IntentClassifier, IntentPrediction

__all__ = ["IntentClassifier", "IntentPrediction", "Lang", "detect_lang"]
