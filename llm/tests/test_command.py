"""manage.py run_llmstub serves the stub and can point the configuration at it."""

import json
import os
import subprocess
import sys
from pathlib import Path

from openai import OpenAI

ROOT = Path(__file__).resolve().parents[2]


def test_run_llmstub_serves_and_configures(tmp_path):
    settings_file = tmp_path / "system_settings.json"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "helpdesk.settings_test",
        "HELPDESK_SETTINGS_FILE": str(settings_file),
    }
    for name in ("LLM_BASE_URL", "LLM_MODEL", "LLM_API_KEY"):
        env.pop(name, None)
    command = ["run_llmstub", "--port", "0", "--tokens", "4", "--model", "demo-model"]
    process = subprocess.Popen(
        [sys.executable, "manage.py", *command, "--configure"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().split()[-1]
        assert process.stdout.readline().startswith("llm.base_url and llm.model now point")
        with OpenAI(base_url=base_url, api_key="any", max_retries=0, timeout=5) as sdk:
            completion = sdk.chat.completions.create(
                model="demo-model", messages=[{"role": "user", "content": "你好"}]
            )
        assert completion.usage is not None and completion.usage.completion_tokens == 4
        saved = json.loads(settings_file.read_text())
        assert saved["llm.base_url"] == base_url
        assert saved["llm.model"] == "demo-model"
    finally:
        process.terminate()
        process.wait(timeout=10)
