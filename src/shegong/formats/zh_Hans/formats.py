"""Number and date formats of the Chinese interface (``FORMAT_MODULE_PATH``): Django's
zh_Hans formats set no thousands separator, so figures like 588971720 were unreadable; the
platform groups digits by three with "," (as the bureau's own tables do) and writes dates one
way, ISO (2020-03-01)."""

DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "m-d"
YEAR_MONTH_FORMAT = "Y-m"
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
FIRST_DAY_OF_WEEK = 1
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d"]
