"""Send-time: the hour at which a debtor usually answers, learned from past replies."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SendHour:
    """The local hour to send at, and where it came from."""

    hour: int
    learned: bool
    replies: int


def usual_hour(reply_hours: Sequence[int], window: int) -> int:
    """The hour with most replies within ``window`` hours either side (latest on a tie).

    Neighbouring hours count because a debtor who answers at 19:05 one day and 20:10
    another is an evening person; recent replies win ties because habits change.
    """
    counts = Counter(reply_hours)
    last_seen = {hour: index for index, hour in enumerate(reply_hours)}

    def support(hour: int) -> tuple[int, int, int]:
        near = sum(counts[h] for h in range(hour - window, hour + window + 1))
        return near, counts[hour], last_seen.get(hour, -1)

    return max(counts, key=support)


def send_hour(reply_hours: Sequence[int], default: int, min_replies: int, window: int) -> SendHour:
    """The learned hour when there are enough replies, else the strategy's default."""
    if len(reply_hours) >= min_replies:
        return SendHour(usual_hour(reply_hours, window), True, len(reply_hours))
    return SendHour(default, False, len(reply_hours))
