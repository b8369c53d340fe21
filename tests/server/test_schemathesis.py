"""schemathesis against the served /openapi.json: no request makes the server fail."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import httpx
import pytest

from hippodex.bench.load import free_port

pytest.importorskip("schemathesis")


def test_no_server_error_for_any_schema_conforming_request(tmp_path) -> None:  # type: ignore[no-untyped-def]
    st = shutil.which("st") or shutil.which("schemathesis")
    if st is None:
        pytest.skip("the schemathesis command is not on PATH")
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hippodex",
            "serve",
            "--db",
            str(tmp_path / "st.db"),
            "--port",
            str(port),
            "--no-auth",
            "--encoder",
            "none",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
        run = subprocess.run(
            [st, "run", f"{url}/openapi.json", "--checks", "not_a_server_error", "--max-examples", "25", "--seed", "1"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert run.returncode == 0, run.stdout[-3000:]
    finally:
        server.terminate()
        server.wait(timeout=30)
