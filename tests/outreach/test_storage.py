"""The outreach tables on SQLite and PostgreSQL, and one sender at a time on both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest

from agent.config import Settings
from agent.outreach.lock import SenderBusy
from tests.agent.test_persistence import postgres_database  # noqa: F401  (fixture)
from tests.outreach.conftest import Rig, open_rig


@pytest.fixture(params=["sqlite", "postgres"])
def backend_rig(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Rig]:
    url = None if request.param == "sqlite" else request.getfixturevalue("postgres_database")
    configured = settings.model_copy(update={"database_url": url})
    with open_rig(configured, "2026-11-23T10:00:00+07:00") as built:
        yield built


def test_send_once_and_recover_a_crash_on_each_database(backend_rig: Rig) -> None:
    rig = backend_rig
    rig.channels["sms"].crash_after_accept = True
    with pytest.raises(KeyboardInterrupt):
        rig.service.run()
    report = rig.service.run().report
    assert report.duplicates == 1 and len(rig.channels["sms"].shown) == 1
    assert rig.service.outreach.status_counts().get("sent") == 1
    assert rig.service.run().report.sent == 0
    events = [e for e in rig.service.outreach.events(["outbound"]) if e.source == "sender"]
    assert [e.account_id for e in events] == ["CC-1003"]


def test_a_second_sender_waits_its_turn(backend_rig: Rig) -> None:
    rig = backend_rig  # PostgreSQL's database is shared by this module's tests: a new hour
    rig.clock.at = datetime.fromisoformat("2026-11-23T16:30:00+07:00")  # CC-1010 is due
    with rig.service.lock():
        with pytest.raises(SenderBusy):
            rig.service.run()
        assert rig.shown() == []
    rig.service.run()  # the lock went with the first pass
    assert "CC-1010" in {m.account_id for m in rig.shown()}
