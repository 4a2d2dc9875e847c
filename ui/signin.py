"""Who may sign a conversation in as a customer.

In production the shop's own site vouches for its logged-in customer with a short-lived token: a
JWT signed with HS256 under AISLE_SIGNIN_SECRET, whose `sub` is the customer's user id and whose
`exp` is honoured (PyJWT checks both). Signing in by email or user id alone proves nothing, so it is
allowed only while AISLE_DEMO_SIGN_IN is on (the demo store, `make run`).
"""

from __future__ import annotations

import jwt

ALGORITHM = "HS256"
LEEWAY_S = 30  # clock skew between the shop's servers and Aisle's


class SignInRefused(PermissionError):
    """A sign-in that must not happen. `status` is the HTTP answer: 401 for a bad token, 403 for a
    kind of sign-in this server does not allow."""

    def __init__(self, detail: str, status: int = 401) -> None:
        super().__init__(detail)
        self.status = status


DEMO_ONLY = (
    "signing in by email or user id is for the demo store only and is off here (AISLE_DEMO_SIGN_IN); "
    "sign in with a token from the shop's site: {\"token\": …}"
)


def user_id_from_token(token: str, secret: str | None) -> str:
    """The user id the token vouches for; SignInRefused when it is forged, expired or malformed."""
    if not secret:
        raise SignInRefused("token sign-in is not set up on this server (AISLE_SIGNIN_SECRET is unset)", status=403)
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_S,
                            options={"require": ["sub", "exp"]})  # fmt: skip
    except jwt.ExpiredSignatureError:
        raise SignInRefused("the sign-in token has expired; get a fresh one from the shop's site") from None
    except jwt.InvalidSignatureError:
        raise SignInRefused("the sign-in token's signature is not valid") from None
    except jwt.MissingRequiredClaimError as exc:
        raise SignInRefused(f"the sign-in token has no {exc.claim!r} claim") from None
    except jwt.InvalidTokenError as exc:
        raise SignInRefused(f"the sign-in token is not valid ({exc})") from None
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip():
        raise SignInRefused("the sign-in token's 'sub' must be a customer's user id")
    return subject

