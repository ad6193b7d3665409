"""The live pages' ES modules (static/dialogue/live, chat, desk): their unit tests run
with `node --test`, so the suite runs them too."""

from pathlib import Path

from dialogue.tests.browser import assert_node_tests_pass

JS_TESTS = Path(__file__).parent / "js"


def test_es_module_unit_tests_pass():
    assert_node_tests_pass(JS_TESTS)
    assert len(list(JS_TESTS.glob("*.test.mjs"))) >= 8
