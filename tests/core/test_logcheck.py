"""The log check behind `make test` (security.md 14): it finds national IDs, and only them."""

import pytest
from django.core.management import CommandError, call_command

from shegong.core.logcheck import national_ids_in


def test_a_national_id_in_a_log_line_is_found_and_reported_masked():
    # given log lines, one of which holds the standard's test ID
    lines = ["GET /casework/residents/ 200", "resident 11010519491231002X saved", "done"]
    # when they are checked
    found = national_ids_in(lines)
    # then the line is named and the ID is not repeated in clear
    assert found == [(2, "110***********002X")]


def test_hashes_and_other_long_numbers_are_not_ids():
    # given an HMAC in hex, an 18-digit number with a wrong check digit and a timestamp
    lines = [
        "hash 5f0e33a1b2c3d4e5f60718293a4b5c6d7e8f",
        "order 110105194912310021 paid",  # check digit wrong
        "epoch 1732752000123456789",
    ]
    # then nothing is reported
    assert national_ids_in(lines) == []


def test_the_command_fails_on_a_log_with_an_id(tmp_path):
    # given a clean log and a leaky one
    clean = tmp_path / "clean.log"
    clean.write_text("all fine\n", encoding="utf-8")
    leaky = tmp_path / "leaky.log"
    leaky.write_text("x\nid=11010519491231002X\n", encoding="utf-8")
    # then the clean one passes and the leaky one fails naming file and line
    call_command("logcheck", str(clean))
    with pytest.raises(CommandError, match=r"leaky.log:2: 110\*+002X"):
        call_command("logcheck", str(clean), str(leaky))
