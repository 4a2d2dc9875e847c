"""Recsys: the personalised ranking model, its training and serving, and user profiles."""

from recsys.profiles import ProfileService, UnknownUserError
from recsys.ranker import Ranker, RankerUnavailable, RemoteRanker
from recsys.recommender import Policy, Recommender, UnknownItemError
from recsys.schemas import (
    FeedbackEvent,
    PriceBand,
    ProfilePatch,
    Recommendation,
    RecommendRequest,
    ScoreRequest,
    ScoreResponse,
    UserProfile,
)

__all__ = [
    "FeedbackEvent",
    "Policy",
    "PriceBand",
    "ProfilePatch",
    "ProfileService",
    "Ranker",
    "RankerUnavailable",
    "Recommendation",
    "RecommendRequest",
    "Recommender",
    "RemoteRanker",
    "ScoreRequest",
    "ScoreResponse",
    "UnknownItemError",
    "UnknownUserError",
    "UserProfile",
]
