"""The suite's own rule: a test that drives chromium is marked `browser`, else the run stops at collection."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CONFTEST = '''
import pytest

from tests.browser import pytest_collection_modifyitems  # the rule under test


@pytest.fixture(scope="session")
def browser():
    return object()  # stands in for chromium: the rule looks at which fixtures a test uses


@pytest.fixture
def page(browser):
    return browser
'''


@pytest.fixture
def suite(pytester):
    pytester.makeini("[pytest]\nmarkers =\n    browser: drives chromium\naddopts = --strict-markers\n")
    pytester.makeconftest(CONFTEST)
    return pytester


def test_a_test_using_the_browser_without_the_marker_stops_the_run(suite):
    suite.makepyfile(test_marker_rule_pages='''
import pytest

@pytest.mark.browser
def test_marked(page):
    pass

def test_unmarked_through_page(page):
    pass

def test_unmarked_through_browser(browser):
    pass

def test_without_a_browser():
    pass
''')
    result = suite.runpytest("-m", "not browser")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    error = result.stderr.str()
    assert "not marked `browser`" in error
    assert "test_unmarked_through_page" in error and "test_unmarked_through_browser" in error
    assert "test_marked" not in error and "test_without_a_browser" not in error


def test_marked_browser_tests_run(suite):
    suite.makepyfile(test_marker_rule_pages='''
import pytest

pytestmark = pytest.mark.browser

def test_marked(page):
    pass
''')
    suite.makepyfile(test_marker_rule_plain="def test_without_a_browser():\n    pass\n")
    result = suite.runpytest()
    result.assert_outcomes(passed=2)
