"""Holds: the nth matching call is served, then its answer waits until released (or the hold's timeout), while
every other call goes through; reset releases everything."""

from __future__ import annotations

import threading
import time

from conftest import TRUST


def wait_until(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def in_thread(fn):
    """Runs fn in a thread; returns (thread, result dict with 'value' or 'error')."""
    result: dict = {}

    def run():
        try:
            result["value"] = fn()
        except Exception as e:  # the test inspects it
            result["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def test_held_call_has_taken_effect_and_answers_after_release(emulator, iam):
    hold = emulator.admin("POST", "/holds", {"service": "iam", "operation": "CreateRole"}, expect=201)
    assert hold["id"] == "h1" and hold["waiting"] is False
    t, result = in_thread(lambda: iam.create_role(RoleName="held", AssumeRolePolicyDocument=TRUST))
    wait_until(lambda: emulator.admin("GET", "/holds/h1")["waiting"])
    # AWS already acted: the role exists and other calls are served while the answer is held.
    other = emulator.client("iam")
    assert other.get_role(RoleName="held")["Role"]["RoleName"] == "held"
    assert t.is_alive() and not result
    log = emulator.admin("GET", "/requests?operation=CreateRole")
    assert [r["status"] for r in log["requests"]] == [200], "logged when served, before the answer is released"
    assert emulator.admin("DELETE", "/holds/h1") == {"released": 1}
    t.join(10)
    assert result["value"]["Role"]["RoleName"] == "held"
    assert emulator.admin("GET", "/holds")["holds"] == []


def test_nth_counts_matching_calls_from_when_the_hold_was_added(emulator, iam):
    iam.create_role(RoleName="before", AssumeRolePolicyDocument=TRUST)
    emulator.admin("POST", "/holds", {"operation": "CreateRole", "nth": 2}, expect=201)
    iam.create_role(RoleName="first", AssumeRolePolicyDocument=TRUST)  # seen 1: not held
    iam.list_roles()  # another operation: not counted
    h = emulator.admin("GET", "/holds/h1")
    assert (h["seen"], h["held"], h["waiting"]) == (1, False, False)
    t, result = in_thread(lambda: iam.create_role(RoleName="second", AssumeRolePolicyDocument=TRUST))
    wait_until(lambda: emulator.admin("GET", "/holds/h1")["waiting"])
    iam.create_role(RoleName="third", AssumeRolePolicyDocument=TRUST)  # seen 3: served at once
    assert t.is_alive()
    emulator.admin("DELETE", "/holds")
    t.join(10)
    assert result["value"]["Role"]["RoleName"] == "second"


def test_a_hold_gives_up_after_its_timeout(emulator, iam):
    emulator.admin("POST", "/holds", {"operation": "CreateRole", "timeout": 0.5}, expect=201)
    t0 = time.monotonic()
    iam.create_role(RoleName="slow", AssumeRolePolicyDocument=TRUST)
    assert time.monotonic() - t0 >= 0.45
    h = emulator.admin("GET", "/holds/h1")
    assert h["timed_out"] and not h["waiting"]


def test_reset_releases_held_answers(emulator, iam):
    emulator.admin("POST", "/holds", {"operation": "CreateRole"}, expect=201)
    t, result = in_thread(lambda: iam.create_role(RoleName="held", AssumeRolePolicyDocument=TRUST))
    wait_until(lambda: emulator.admin("GET", "/holds/h1")["waiting"])
    emulator.admin("POST", "/reset")
    t.join(10)
    assert not t.is_alive() and "value" in result
    assert emulator.admin("GET", "/holds")["holds"] == []


def test_malformed_holds_are_rejected(emulator):
    assert "operation" in emulator.admin("POST", "/holds", {"service": "iam"}, expect=400)["error"]
    assert "nth" in emulator.admin("POST", "/holds", {"operation": "CreateRole", "nth": 0}, expect=400)["error"]
    assert "service" in emulator.admin("POST", "/holds", {"operation": "X", "service": "s3"}, expect=400)["error"]
    assert "timeout" in emulator.admin("POST", "/holds", {"operation": "X", "timeout": 0}, expect=400)["error"]
    assert emulator.admin("DELETE", "/holds/h9", expect=404)["error"] == "no hold h9"
