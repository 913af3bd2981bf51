"""CSV cells a spreadsheet opens safely."""

# A cell starting with one of these is a formula to a spreadsheet. Names and reasons come from people and
# locks, so an export opened in Excel must not run them: such cells get a leading apostrophe (OWASP "CSV
# injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
