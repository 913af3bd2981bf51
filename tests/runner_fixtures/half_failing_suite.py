# Not a real suite: tests/test_microtest_runner.py runs it to prove that a failure on MicroPython is reported.
def test_passes():
    assert 1 + 1 == 2


def test_fails():
    assert 1 + 1 == 3, "deliberate"


def helper_not_collected():
    raise AssertionError("only test_* functions run")
