"""`mulin run` starts without the libraries python-wechaty-puppet imports for what mulin does not use (file boxes
from URLs and QR codes: requests, qrcode, Pillow), and without APScheduler until its catch-up; each still works when
something uses it. Checked in a fresh interpreter, as `mulin run` imports them."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ["urllib3", "requests.sessions", "qrcode.main", "PIL", "PIL.Image", "apscheduler", "apscheduler.schedulers"]

AT_START = """
import json, sys
import bot.cli.main, core.config, bot.run, bot.wechat.transport, classifier
loaded = [name for name in %r if name in sys.modules]
import requests, qrcode
used = [requests.get.__module__, qrcode.make.__module__, type(sys.modules["requests"]).__name__]
from wechaty_puppet import FileBox
box = FileBox.from_base64(b"aGk=", name="a.png")
print(json.dumps({"loaded": loaded, "used": used, "box": box.name, "urllib3": "urllib3" in sys.modules}))
""" % (HEAVY,)


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_mulin_run_imports_none_of_them_to_start_and_each_works_when_used():
    result = _run(AT_START)
    assert result["loaded"] == []
    assert result["used"] == ["requests.api", "qrcode.main", "module"]  # the real modules, once used
    assert result["urllib3"] and result["box"] == "a.png"


def test_a_module_imported_before_the_transport_is_left_as_it_is():
    result = _run("import json, sys, requests, bot.wechat.transport\n"
                  "print(json.dumps({'type': type(sys.modules['requests']).__name__, 'urllib3': 'urllib3' in sys.modules}))")
    assert result == {"type": "module", "urllib3": True}
