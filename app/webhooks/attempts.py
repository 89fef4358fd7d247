"""One attempt at a signed delivery to an outside receiver: a partner's SR webhook or a claims
platform's callback. What counts as a failure, and what the attempt leaves on its delivery row,
are the same for both."""
from __future__ import annotations

from datetime import timedelta
from typing import Callable

import requests
from cryptography.fernet import InvalidToken

from app.clock import now
from app.errors import DomainError

# While one attempt runs, nobody else takes its delivery.
ATTEMPT_LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=30)
LAST_RETRY = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """Back-off after the n-th failed attempt: 30 s, 1 min, 2 min, ... at most an hour."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LAST_RETRY)


def call(send: Callable[[], requests.Response], key_setting: str) -> tuple[int | None, str | None]:
    """Make the call; the receiver's status code, and why the attempt failed (None: delivered)."""
    try:
        answer = send()
    except DomainError as exc:
        return None, f"refused ({exc.code}): {exc.message}"[:2000]
    except InvalidToken:
        return None, f"no key of {key_setting} decrypts this receiver's secret"
    except requests.RequestException as exc:
        return None, f"{type(exc).__name__}: {exc}"[:2000]
    if 200 <= answer.status_code < 300:
        return answer.status_code, None
    return answer.status_code, f"HTTP {answer.status_code}"


def settle(delivery, status_code: int | None, error: str | None, *, number: int, max_attempts: int,
           delivered, failed) -> None:
    """Leave the attempt's outcome on the delivery: delivered, failed for good, or due again after a back-off."""
    delivery.last_status_code, delivery.last_error = status_code, error
    if error is None:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = delivered, now(), None
    elif number >= max_attempts:
        delivery.status, delivery.next_attempt_at = failed, None
    else:
        delivery.next_attempt_at = now() + retry_delay(number)
