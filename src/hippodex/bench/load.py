"""A bounded load test of ``hippodex serve`` on loopback.

Starts the real server in a subprocess (its own interpreter, so the load
generator does not share its GIL) on a free 127.0.0.1 port with a fresh
SQLite file and the default encoder, preloads memories, then runs ``clients``
concurrent asyncio clients for ``seconds``: each picks search (80%) or add
(20%). Every request loop stops at the deadline; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hippodex._exceptions import ConfigError

WORDS = (  # noqa: SIM905
    "garden lisbon sister nurse dog ferry book pottery camping allergy peanuts job offer rotterdam flat balcony "
    "recipe marathon guitar museum birthday flight osaka tea coffee painting cousin wedding budget meeting"
).split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))


async def _client(
    http: Any, deadline: float, rng: random.Random, out: dict[str, list[float]], errors: list[str]
) -> None:
    while time.monotonic() < deadline:
        op = "search" if rng.random() < 0.8 else "add"
        user = f"user{rng.randint(0, 9)}"
        if op == "search":
            body: dict[str, Any] = {"user_id": user, "query": _sentence(rng), "k": 10}
            path = "/v1/search"
        else:
            body = {"user_id": user, "messages": [{"role": "user", "content": _sentence(rng)}]}
            path = "/v1/memories"
        start = time.perf_counter()
        try:
            resp = await http.post(path, json=body)
            if resp.status_code >= 300:
                errors.append(f"{op}: HTTP {resp.status_code}")
        except Exception as exc:  # a load test counts failures instead of stopping
            errors.append(f"{op}: {type(exc).__name__}")
            continue
        out[op].append((time.perf_counter() - start) * 1000)


async def _drive(url: str, clients: int, seconds: float, seed: int) -> dict[str, Any]:
    import httpx

    out: dict[str, list[float]] = {"search": [], "add": []}
    errors: list[str] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        start = time.monotonic()
        deadline = start + seconds
        await asyncio.gather(*(_client(http, deadline, random.Random(seed + i), out, errors) for i in range(clients)))
        elapsed = time.monotonic() - start
    result: dict[str, Any] = {
        "clients": clients,
        "seconds": round(elapsed, 1),
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:10],
    }
    for op, values in out.items():
        result[op] = {
            "requests": len(values),
            "per_s": round(len(values) / elapsed, 1),
            "p50_ms": round(_percentile(values, 0.50), 1),
            "p95_ms": round(_percentile(values, 0.95), 1),
            "p99_ms": round(_percentile(values, 0.99), 1),
        }
    return result


def run_load(
    *, clients: int = 50, seconds: float = 30.0, preload: int = 2000, encoder: str = "minilm", seed: int = 0
) -> dict[str, Any]:
    """Serve a fresh memory and measure it under ``clients`` concurrent clients."""
    if not 1 <= clients <= 500 or not 1 <= seconds <= 600:
        raise ConfigError("clients must be 1-500 and seconds 1-600 (the test is bounded)")
    try:
        import httpx
    except ImportError as exc:
        raise ConfigError("the load test needs the server extra: pip install 'hippodex[server]'") from exc
    with tempfile.TemporaryDirectory(prefix="hippodex-load-") as folder:
        db = Path(folder) / "load.db"
        port = free_port()
        cmd = [
            sys.executable,
            "-m",
            "hippodex",
            "serve",
            "--db",
            str(db),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-auth",
            "--encoder",
            encoder,
        ]
        server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise ConfigError(
                        f"hippodex serve exited: {server.stderr.read().decode()[-500:] if server.stderr else ''}"
                    )
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise ConfigError("hippodex serve did not answer /health within 60 s")
                time.sleep(0.2)
            rng = random.Random(seed)
            with httpx.Client(base_url=url, timeout=120) as http:
                for start in range(0, preload, 200):
                    messages = [{"role": "user", "content": _sentence(rng)} for _ in range(min(200, preload - start))]
                    http.post("/v1/memories", json={"user_id": f"user{start // 200 % 10}", "messages": messages})
            result = asyncio.run(_drive(url, clients, seconds, seed))
        finally:
            server.terminate()
            server.wait(timeout=30)
    result.update({"benchmark": "load", "preload": preload, "encoder": encoder, "backend": "sqlite"})
    return result
