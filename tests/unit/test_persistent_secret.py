"""The URL-signing secret kept under LADING_HOME when LADING_SECRET is unset: one per home, even
when several processes start on a new home at once."""

from __future__ import annotations

import stat

from lading.entrypoints import settings
from lading.entrypoints.settings import persistent_secret


def test_a_new_home_gets_a_secret_once_readable_only_by_its_owner(tmp_path):
    made = persistent_secret(tmp_path)
    assert len(made) >= 32 and persistent_secret(tmp_path) == made
    assert stat.S_IMODE((tmp_path / "secret").stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret"], "no candidate is left behind"


def test_a_process_that_loses_the_race_takes_the_winners_secret(tmp_path, monkeypatch):
    made = settings.secrets.token_urlsafe

    def another_process_wins_meanwhile(n: int) -> str:
        (tmp_path / "secret").write_text("the-winners-secret")
        return made(n)

    monkeypatch.setattr(settings.secrets, "token_urlsafe", another_process_wins_meanwhile)
    assert persistent_secret(tmp_path) == "the-winners-secret"
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]
