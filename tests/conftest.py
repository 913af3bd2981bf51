"""Fixtures shared by the whole suite, and the MicroPython summary at the end of a run."""


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    from tests.test_micropython_suites import SUITE_RESULTS

    if SUITE_RESULTS:
        terminalreporter.section("suites run on the real MicroPython interpreter")
        for line in SUITE_RESULTS:
            terminalreporter.write_line(line)
