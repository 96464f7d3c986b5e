"""The little mail-queue state console scripts can change: domains put in the delayed
queue by ``msys.core.mail_queue_delay_domain``. It belongs to the node, so it survives
configuration reloads as Momentum's queues do."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass
class DelayedDomain:
    name: str
    note: str
    times: int
    last: float


class MailQueue:
    """Delayed domains in the order they were first delayed."""

    def __init__(self) -> None:
        self.delayed: dict[str, DelayedDomain] = {}

    def delay(self, name: str, note: str) -> None:
        """Record a delay of ``name`` (lower-case domain); the latest note is kept."""
        entry = self.delayed.get(name)
        if entry is None:
            self.delayed[name] = DelayedDomain(name, note, 1, time.time())
        else:
            entry.note, entry.times, entry.last = note, entry.times + 1, time.time()
