"""The live pages' ES modules (static/dialogue/live, chat, desk): their unit tests run
with `node --test`, so the suite runs them too."""

import shutil
import subprocess
from pathlib import Path

JS_TESTS = Path(__file__).parent / "js"


def test_es_module_unit_tests_pass():
    node = shutil.which("node")
    assert node, "Node.js is needed for the front-end unit tests"
    result = subprocess.run(
        [node, "--test", str(JS_TESTS)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "# fail 0" in result.stdout
    assert len(list(JS_TESTS.glob("*.test.mjs"))) >= 8
