"""npm `smpp`, the SMPP peer of bench_smpp.py: installed from the project's lockfile (interop/node/, the
interop tests' pin) when missing, and started as a minimal SMSC on a free loopback port."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = ROOT / "interop" / "node"
SMSC = Path(__file__).resolve().parent / "smpp_smsc.js"


def ensure_npm_smpp() -> None:
    """`npm ci` in interop/node unless its smpp is already installed (as scripts/install-interop does)."""
    if (NODE_DIR / "node_modules" / "smpp").is_dir():
        return
    if shutil.which("npm") is None or shutil.which("node") is None:
        raise SystemExit("bench_smpp: the npm smpp peer needs Node.js and npm (apt-get install nodejs npm)")
    print("installing npm smpp (npm ci in interop/node) ...", flush=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=NODE_DIR, check=True,
                   stdout=subprocess.DEVNULL)


def start_smsc(port: int) -> subprocess.Popen:
    """The node SMSC, once it listens."""
    env = {**os.environ, "NODE_PATH": str(NODE_DIR / "node_modules")}
    proc = subprocess.Popen(["node", str(SMSC), str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    line = proc.stdout.readline().decode() if proc.stdout else ""
    if not line.startswith("listening"):
        proc.kill()
        err = proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        raise SystemExit(f"the npm smpp SMSC did not start: {line}{err}")
    return proc


def stop_smsc(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
