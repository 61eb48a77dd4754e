"""Notebooks run where readers run them: a real Jupyter server from the project's
environment, its REST API and a kernel driven over the server's websocket, as
JupyterLab does. (papermill and nbval start kernels directly, not via a server.)"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/01_dropout_in_one_cell.ipynb"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, port: int, token: str):
        self.base = f"http://127.0.0.1:{port}"
        self.ws_base = f"ws://127.0.0.1:{port}"
        self.token = token

    def request(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            text = r.read().decode()
            return json.loads(text) if text else None


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port, token = _free_port(), uuid.uuid4().hex
    log_path = tmp_path_factory.mktemp("jupyter") / "server.log"
    log = open(log_path, "w")  # noqa: SIM115  (closed below)
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={ROOT}"] + (["--allow-root"] if os.geteuid() == 0 else []),
        stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    srv = Server(port, token)
    deadline = time.monotonic() + 90
    while True:
        try:
            srv.request("GET", "/api/status")
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.close()
                pytest.fail(f"Jupyter server did not start:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
    yield srv
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def _message(code: str, session: str) -> dict:
    return {
        "header": {"msg_id": uuid.uuid4().hex, "username": "test", "session": session,
                   "msg_type": "execute_request", "version": "5.3",
                   "date": dt.datetime.now(dt.UTC).isoformat()},
        "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True},
    }


def test_server_lists_the_chapters(server):
    listing = server.request("GET", "/api/contents/notebooks")
    names = {item["name"] for item in listing["content"]}
    assert {p.name for p in (ROOT / "notebooks").glob("*.ipynb")} <= names


def test_notebook_executes_through_the_server(server):
    import websocket  # websocket-client, a jupyter_server dependency

    model = server.request("GET", f"/api/contents/{NOTEBOOK}")
    cells = [c for c in model["content"]["cells"] if c["cell_type"] == "code"]
    kernel = server.request("POST", "/api/kernels", {"name": "python3", "path": "notebooks"})
    session = uuid.uuid4().hex
    ws = websocket.create_connection(
        f"{server.ws_base}/api/kernels/{kernel['id']}/channels?session_id={session}",
        header=[f"Authorization: token {server.token}"], timeout=300)
    try:
        outputs = []
        for cell in cells:
            msg = _message("".join(cell["source"]), session)
            ws.send(json.dumps(msg))
            while True:
                reply = json.loads(ws.recv())
                if reply.get("parent_header", {}).get("msg_id") != msg["header"]["msg_id"]:
                    continue
                kind = reply["header"]["msg_type"]
                if kind in ("stream", "execute_result", "display_data", "error"):
                    outputs.append(reply)
                if kind == "error":
                    pytest.fail(f"cell failed in the server's kernel: {reply['content']['ename']}: "
                                f"{reply['content']['evalue']}")
                if kind == "execute_reply":
                    assert reply["content"]["status"] == "ok"
                    break
        # the notebook's self-checks ran in the server's kernel and passed
        text = "".join(o["content"].get("text", "") for o in outputs if o["header"]["msg_type"] == "stream")
        assert text.count(" True ") >= 4 and " False " not in text, text
        assert re.search(r"inference output == input\s*: True", text), text
    finally:
        ws.close()
        server.request("DELETE", f"/api/kernels/{kernel['id']}")
