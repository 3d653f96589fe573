"""Number and date formats of the English interface: the same as the Chinese ones (digits
grouped by three with ",", ISO dates), so a figure reads the same in both languages."""

from shegong.formats.zh_Hans.formats import *  # noqa: F403
