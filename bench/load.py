"""Concurrent load against gunicorn with two workers, from threads using ``http.client``.

Starts ``gunicorn -w 2 wsgi:app`` on a free local port against the benchmark database, logs in
once (the login form with its CSRF token; the session cookie is then shared by every client),
drives each path for ``duration`` seconds from ``threads`` clients, reads each worker's memory
from /proc, and stops gunicorn.
"""
import http.client
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port, method, path, *, cookie=None, body=None, timeout=30):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    headers = {"Accept-Language": "zh-CN"}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        body = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    set_cookie = response.getheader("Set-Cookie")
    connection.close()
    return response.status, data, set_cookie


def _session_cookie(set_cookie, previous=None):
    if not set_cookie:
        return previous
    match = re.search(r"(session=[^;]+)", set_cookie)
    return match.group(1) if match else previous


def login(port, user, password):
    status, page, set_cookie = _request(port, "GET", "/login")
    cookie = _session_cookie(set_cookie)
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1).decode()
    status, _page, set_cookie = _request(port, "POST", "/login", cookie=cookie,
                                         body={"username": user, "password": password, "csrf_token": token})
    if status != 302:
        raise RuntimeError(f"gunicorn login failed: {status}")
    return _session_cookie(set_cookie, cookie)


def drive(port, path, cookie, *, duration, threads):
    """``threads`` clients request ``path`` back to back for ``duration`` seconds."""
    latencies, errors, lock = [], [0], threading.Lock()
    stop_at = time.perf_counter() + duration

    def client():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine, failed = [], 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Cookie": cookie, "Accept-Language": "zh-CN"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    failed += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()  # gunicorn's sync workers close; http.client reconnects
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                continue
            mine.append((time.perf_counter() - started) * 1000)
        connection.close()
        with lock:
            latencies.extend(mine)
            errors[0] += failed

    started = time.perf_counter()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    return {"latencies_ms": latencies, "requests": len(latencies), "errors": errors[0],
            "rps": len(latencies) / elapsed, "median_ms": statistics.median(latencies) if latencies else None}


def worker_memory(master_pid):
    """VmRSS and VmHWM of each child of the gunicorn master, in MB."""
    try:
        children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    except OSError:
        return []
    result = []
    for pid in children:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
        hwm = int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024
        result.append({"pid": int(pid), "rss_mb": round(rss, 1), "hwm_mb": round(hwm, 1)})
    return result


def run_gunicorn_load(*, database_url, user, password, duration, threads, paths):
    port = free_port()
    env = {**os.environ, "TRACKER_DATABASE_URL": database_url, "TRACKER_SECRET_KEY": "bench-gunicorn-secret",
           "TRACKER_SHOW_DEMO_ACCOUNTS": "false", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--timeout", "120",
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                if _request(port, "GET", "/login", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.time() > deadline:
                raise RuntimeError("gunicorn did not start: " + process.stderr.read().decode()[-2000:])
            time.sleep(0.3)
        cookie = login(port, user, password)
        results = {}
        for name, path in paths.items():
            drive(port, path, cookie, duration=min(2, duration / 2), threads=threads)  # warm both workers
            results[name] = drive(port, path, cookie, duration=duration, threads=threads)
        return {"paths": results, "workers": worker_memory(process.pid), "port": port}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
