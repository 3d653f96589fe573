"""One time zone in all logs (issue #12 item 9): every line carries the platform's time
with its offset."""

import logging
import re
import time

from django.conf import settings


def test_log_lines_carry_the_platforms_time_with_its_offset():
    formatter = logging.Formatter(**{"fmt": "%(asctime)s %(message)s", **_datefmt()})
    record = logging.LogRecord("shegong", logging.INFO, __file__, 1, "hello", None, None)
    line = formatter.format(record)
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+0800 hello$", line), line
    assert time.strftime("%z") == "+0800"  # Django put the process in settings.TIME_ZONE
    assert settings.TIME_ZONE == "Asia/Shanghai"


def _datefmt() -> dict:
    return {"datefmt": settings.LOGGING["formatters"]["plain"]["datefmt"]}
