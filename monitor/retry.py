"""Retry policy as pure functions: how long to wait before the next attempt."""

from __future__ import annotations

import random

from pydantic import BaseModel, ConfigDict, Field


class BackoffPolicy(BaseModel):
    """Exponential backoff with full jitter, capped; never gives up by itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_s: float = Field(default=1.0, gt=0)
    cap_s: float = Field(default=300.0, gt=0)
    multiplier: float = Field(default=2.0, ge=1.0)


def backoff_delay(
    policy: BackoffPolicy,
    attempt: int,
    rng: random.Random,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before attempt number ``attempt + 1`` (``attempt`` ≥ 1).

    Full jitter (a uniform draw between 0 and the exponential ceiling) keeps
    many clients that failed together from retrying together. A peer's
    ``Retry-After`` is a floor: we never come back sooner than asked, but
    still never wait longer than the cap unless the peer asked for it.
    """
    ceiling = min(policy.cap_s, policy.base_s * policy.multiplier ** max(0, attempt - 1))
    delay = rng.uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay
