# ruff: noqa: T201, S603, S607  (a smoke script: reports to its terminal, runs `docker` from PATH)
"""`make docker-smoke`: the image as a user runs it, end to end, on a real docker engine.

Builds nothing itself (`make docker` does, first); then:
1. runs the image on a fresh named volume with the port moved by flag (`start -env -port 9000`),
2. checks /openapi.yaml, logs in, registers a site, sends a page view and reads it in the summary,
3. waits for the container's health check to say healthy (it must follow the moved port),
4. stops it (SIGTERM) and checks the stop was clean and quick,
5. runs a new container on the same volume with the port moved by variable (`-e PORT=9001`),
   finds the page view still there, waits for healthy again, stops it cleanly.
Everything it created (containers, volume) is removed at the end, pass or fail.

Where no docker engine answers (`docker info` fails), it says so and exits 0 without testing
anything: a skip, never a pass.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar

HOST = "docker-smoke.example.com"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
DEFAULT_LOGIN = {"username": "admin", "password": "CHANGE_ME_ON_FIRST_LOGIN"}
HEALTHY_WITHIN_S = 90  # start period 20 s, first probe after the 30 s interval, a few seconds' slack
CLEAN_STOP_WITHIN_S = 10.0


class SmokeFailure(Exception):
    """A step of the journey went wrong: the message says which and what was seen."""


def docker(*args: str, check: bool = True) -> str:
    """Run a docker CLI command and return its stdout; raise SmokeFailure with stderr on failure."""
    result = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=600, check=False)
    if check and result.returncode != 0:
        raise SmokeFailure(f"docker {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout.strip()


def engine_problem() -> str | None:
    """Return why no docker engine can be used here, or None when one answers."""
    if shutil.which("docker") is None:
        return "the docker command is not installed"
    result = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        last_line = (result.stderr.strip().splitlines() or ["no message"])[-1]
        return f"no docker engine answers `docker info` ({last_line})"
    return None


class Client:
    """A tiny HTTP client with a cookie jar (stdlib only, so the script needs no virtualenv)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def request(self, method: str, path: str, body: bytes | None = None, content_type: str = "") -> tuple[int, bytes]:
        headers = {"User-Agent": USER_AGENT, "Accept-Language": "en-GB,en;q=0.9"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base_url + path, data=body, method=method, headers=headers)  # noqa: S310  (our own loopback URL)
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def expect(self, status: int, method: str, path: str, body: object = None, raw: bytes | None = None) -> bytes:
        """Send a request (JSON body, or `raw` as text/plain) and fail unless it answers `status`."""
        data, content_type = (json.dumps(body).encode(), "application/json") if body is not None else (raw, "")
        if raw is not None:
            content_type = "text/plain"
        code, answer = self.request(method, path, data, content_type)
        if code != status:
            raise SmokeFailure(f"{method} {path}: expected {status}, got {code}: {answer[:300]!r}")
        return answer


def wait_until_serving(client: Client, within_s: float = 60) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            if client.request("GET", "/openapi.yaml")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SmokeFailure(f"{client.base_url}/openapi.yaml did not answer within {within_s:.0f} s")


def record_a_visit(client: Client) -> None:
    """Log in, register the site, send one page view (and its unload), as the tracker would."""
    if b"/api/event/hit" not in client.expect(200, "GET", "/openapi.yaml"):
        raise SmokeFailure("/openapi.yaml does not document /api/event/hit")
    client.expect(200, "POST", "/api/auth/login", body=DEFAULT_LOGIN)
    client.expect(201, "POST", "/api/websites", body={"hostname": HOST})
    load = {"b": "smoke1", "e": "load", "u": f"https://{HOST}/", "r": "", "p": True, "q": True, "t": "Europe/London"}
    client.expect(204, "POST", "/api/event/hit", raw=json.dumps(load).encode())
    client.expect(204, "POST", "/api/event/hit", raw=json.dumps({"b": "smoke1", "e": "unload", "m": 1500}).encode())


def check_the_visit_is_counted(client: Client) -> None:
    """Log in (a fresh session) and find exactly the one page view in the summary."""
    client.expect(200, "POST", "/api/auth/login", body=DEFAULT_LOGIN)
    summary = json.loads(client.expect(200, "GET", f"/api/website/{HOST}/summary"))
    current = summary["current"]
    if (current["visitors"], current["pageviews"]) != (1, 1):
        raise SmokeFailure(f"summary should count 1 visitor and 1 page view, got {current}")


def wait_until_healthy(container: str) -> None:
    deadline = time.monotonic() + HEALTHY_WITHIN_S
    status = ""
    while time.monotonic() < deadline:
        status = docker("inspect", "--format", "{{.State.Health.Status}}", container)
        if status == "healthy":
            return
        if status == "unhealthy":
            break
        time.sleep(2)
    log = docker("inspect", "--format", "{{json .State.Health.Log}}", container, check=False)
    raise SmokeFailure(f"{container} health is {status!r} after {HEALTHY_WITHIN_S} s: {log[-500:]}")


def stop_cleanly(container: str) -> float:
    started = time.monotonic()
    docker("stop", "--time", "15", container)
    took = time.monotonic() - started
    code = docker("inspect", "--format", "{{.State.ExitCode}}", container)
    if code != "0" or took > CLEAN_STOP_WITHIN_S:
        log = docker("logs", container)[-800:]
        raise SmokeFailure(f"{container} stopped with exit {code} after {took:.1f} s: {log}")
    return took


def run_container(image: str, name: str, volume: str, port: int, args: list[str], env: list[str]) -> Client:
    """Start the image detached, publish its `port` on a free loopback port, return a client for it."""
    docker("run", "-d", "--name", name, "-v", f"{volume}:/app/data", "-p", f"127.0.0.1::{port}", *env, image, *args)
    host_port = docker("port", name, f"{port}/tcp").splitlines()[0].rsplit(":", 1)[1]
    client = Client(f"http://127.0.0.1:{host_port}")
    wait_until_serving(client)
    return client


def journey(image: str, tag: str) -> None:
    volume, first, second = f"{tag}-data", f"{tag}-1", f"{tag}-2"
    docker("volume", "create", volume)
    try:
        client = run_container(image, first, volume, 9000, ["start", "-env", "-port", "9000"], [])
        record_a_visit(client)
        check_the_visit_is_counted(client)
        wait_until_healthy(first)
        print(f"docker-smoke: port by flag: served, logged in, hit counted, healthy; stop {stop_cleanly(first):.1f} s")
        client = run_container(image, second, volume, 9001, ["start", "-env"], ["-e", "PORT=9001"])
        check_the_visit_is_counted(client)  # the page view survived a new container on the same volume
        wait_until_healthy(second)
        print(f"docker-smoke: port by PORT: data kept, healthy; stop {stop_cleanly(second):.1f} s")
    finally:
        for container in (first, second):
            docker("rm", "-f", container, check=False)
        docker("volume", "rm", "-f", volume, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", help="the image `make docker` built")
    args = parser.parse_args()
    problem = engine_problem()
    if problem is not None:
        print(f"docker-smoke: SKIPPED, nothing was tested: {problem}", file=sys.stderr)
        return 0
    try:
        journey(args.image, f"medama-smoke-{os.getpid()}")
    except SmokeFailure as exc:
        print(f"docker-smoke: FAILED: {exc}", file=sys.stderr)
        return 1
    print("docker-smoke: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
