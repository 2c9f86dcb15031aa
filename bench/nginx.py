"""nginx serving the synthetic portal: one `listen` per source's loopback address, run as a child.

`etag on` (nginx's default for static files, stated) so revalidation gets 304s; access log off;
pid and temp paths inside the portal's work dir. `list.aspx?page=N` maps to `list_N.aspx`.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.synth import Portal

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/bin/nginx")


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in NGINX_CANDIDATES if Path(p).exists()), None)
    if not found:
        raise SystemExit("nginx not found: install it with `apt-get install -y nginx`")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(portal: Portal, port: int, workdir: Path) -> str:
    listens = "\n".join(f"    listen {s.host}:{port};" for s in portal.sites)
    tmp = workdir / "nginx-tmp"
    return f"""daemon off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
  types {{ text/html html htm aspx; text/plain txt; text/css css; }}
  default_type text/html;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
{listens}
    listen 127.0.0.1:{port};
    server_name _;
    root {portal.root};
    etag on;
    location ~ ^(?<dir>.*)/list\\.aspx$ {{
      try_files $dir/list_$arg_page.aspx $uri =404;
    }}
  }}
}}
"""


def _wait_listening(host: str, port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"nginx exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nginx did not start on {host}:{port}")


@contextmanager
def serve(portal: Portal, workdir: Path, port: int | None = None) -> Iterator[int]:
    """Run nginx for the portal; yields the port; stops it on exit, whatever happens."""
    port = port or free_port()
    (workdir / "nginx-tmp").mkdir(parents=True, exist_ok=True)
    conf = workdir / "nginx.conf"
    conf.write_text(config(portal, port, workdir), encoding="utf-8")
    log = workdir / "nginx-stderr.log"
    with log.open("wb") as err:
        proc = subprocess.Popen([nginx_binary(), "-c", str(conf), "-p", str(workdir)],
                                stdout=subprocess.DEVNULL, stderr=err)
    try:
        for site in portal.sites:
            _wait_listening(site.host, port, proc, log)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
