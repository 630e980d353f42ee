"""Retry policy as pure functions: how long to wait before the next attempt."""

from __future__ import annotations

import math
import random

from pydantic import BaseModel, ConfigDict, Field


class BackoffPolicy(BaseModel):
    """Exponential backoff with full jitter, capped; never gives up by itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_s: float = Field(default=1.0, gt=0)
    cap_s: float = Field(default=300.0, gt=0)
    multiplier: float = Field(default=2.0, ge=1.0)
    #: The longest ``Retry-After`` honoured; None: whatever the peer asks.
    #: Set it where a peer's answer must not silence a caller for good.
    max_retry_after_s: float | None = Field(default=None, gt=0)


def backoff_delay(
    policy: BackoffPolicy,
    attempt: int,
    rng: random.Random,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before attempt number ``attempt + 1`` (``attempt`` ≥ 1).

    Full jitter (a uniform draw between 0 and the exponential ceiling) keeps
    many clients that failed together from retrying together. A peer's
    ``Retry-After`` is a floor: we never come back sooner than asked (up to
    ``max_retry_after_s``, when set), but still never wait longer than the cap
    unless the peer asked for it. Finite for any ``attempt``.
    """
    delay = rng.uniform(0, backoff_ceiling(policy, attempt))
    if retry_after is not None:
        if policy.max_retry_after_s is not None:
            retry_after = min(retry_after, policy.max_retry_after_s)
        delay = max(delay, retry_after)
    return delay


def backoff_ceiling(policy: BackoffPolicy, attempt: int) -> float:
    """``min(cap, base * multiplier ** (attempt - 1))`` without float overflow.

    The comparison with the cap happens in log space: after a thousand or so
    failures the power itself no longer fits in a float.
    """
    exponent = max(0, attempt - 1)
    if exponent * math.log(policy.multiplier) >= math.log(policy.cap_s / policy.base_s):
        return policy.cap_s
    return min(policy.cap_s, policy.base_s * policy.multiplier ** exponent)
