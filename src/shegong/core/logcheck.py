"""Find national ID numbers in log text (security.md 14: no personal data in logs).

``shegong logcheck FILE`` (and ``make test``, on the test run's own log) fails when a log
holds anything that is a valid 18-digit national ID: the right shape, a real birth date and
a correct check digit — so hashes and other long numbers do not raise false alarms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError

from shegong.core.validators import parse_national_id

_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")


def national_ids_in(lines: Iterable[str]) -> list[tuple[int, str]]:
    """(line number, masked ID) for every valid national ID found in ``lines``."""
    found = []
    for number, line in enumerate(lines, start=1):
        for match in _CANDIDATE.finditer(line):
            try:
                checked = parse_national_id(match.group(0))
            except ValidationError:
                continue
            found.append((number, checked.masked))
    return found
