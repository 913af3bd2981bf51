"""`make run`: the whole stack on embedded defaults, in the foreground, until Ctrl-C.

Starts (or reuses) a Mosquitto broker on 127.0.0.1:1883, migrates the cloud's SQLite database under ./var/
(creating the master key ./var/master.key on first run) and serves the REST API, and runs one simulated
lock: the real firmware on the MicroPython unix port with the simulated HAL, its flash under ./var/sim-lock/.
If any part stops, the others are stopped too.

    .venv/bin/python -m tools.stack [--api-port 8000] [--lock-port 7700] [--var var]
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
BROKER_PORT = 1883


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_listening(port: int, seconds: float, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _listening(port):
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.2)
    return False


def _lock_config(var: Path, lock_port: int) -> Path:
    """A config for the simulated lock: the sample's hardware settings with its flash under var/."""
    config = json.loads((ROOT / "firmware" / "sim_config.json").read_text(encoding="utf-8"))
    config["sim_control_port"] = lock_port
    config["sim_data_dir"] = config["data_dir"] = str(var / "sim-lock" / "data")
    Path(config["sim_data_dir"]).mkdir(parents=True, exist_ok=True)
    path = var / "sim-lock" / "config.json"
    path.write_text(json.dumps(config, indent=1), encoding="utf-8")
    return path


class Stack:
    def __init__(self) -> None:
        self.processes: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        print(f"[stack] starting {name}: {' '.join(argv)}", flush=True)
        process = subprocess.Popen(argv, cwd=ROOT, env=env, start_new_session=True)
        self.processes.append((name, process))
        return process

    def first_exited(self) -> tuple[str, int] | None:
        for name, process in self.processes:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop(self) -> None:
        for name, process in reversed(self.processes):
            if process.poll() is None:
                print(f"[stack] stopping {name}", flush=True)
                process.send_signal(signal.SIGTERM)
        for _, process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _start_all(stack: Stack, args: argparse.Namespace, var: Path) -> None:
    if _listening(BROKER_PORT):
        print(f"[stack] using the MQTT broker already listening on 127.0.0.1:{BROKER_PORT}", flush=True)
    else:
        broker = stack.start("mosquitto", ["mosquitto", "-c", str(ROOT / "tools/mosquitto/dev.conf")])
        if not _wait_listening(BROKER_PORT, 10, broker):
            raise RuntimeError("mosquitto did not start; is port 1883 taken by something else?")

    env = dict(os.environ)
    env.setdefault("DATABASE_URL", f"sqlite:///{var / 'cloud.db'}")
    env.setdefault("OPENAKERUN_MASTER_KEY_FILE", str(var / "master.key"))
    if "OPENAKERUN_MASTER_KEY" not in env and not Path(env["OPENAKERUN_MASTER_KEY_FILE"]).exists():
        init = [str(BIN / "python"), "-m", "cloud", "keys", "init-master"]
        subprocess.run(init, cwd=ROOT, env=env, check=True)
    subprocess.run([str(BIN / "python"), "-m", "cloud", "db", "upgrade"], cwd=ROOT, env=env, check=True)
    api = stack.start(
        "cloud API",
        [str(BIN / "python"), "-m", "cloud", "serve", "--host", "127.0.0.1", "--port", str(args.api_port)],
        env,
    )
    if not _wait_listening(args.api_port, 30, api):
        raise RuntimeError(f"the cloud API did not start on port {args.api_port}")

    lock = stack.start(
        "simulated lock",
        [str(BIN / "micropython"), "firmware/main.py", "--config", str(_lock_config(var, args.lock_port))],
    )
    if not _wait_listening(args.lock_port, 30, lock):
        raise RuntimeError(f"the simulated lock did not open its control channel on port {args.lock_port}")


def _banner(args: argparse.Namespace) -> None:
    print(
        f"""
[stack] running. Ctrl-C stops everything.
  REST API      http://127.0.0.1:{args.api_port}/docs   (health: /healthz)
  an API key    DATABASE_URL=sqlite:///{args.var}/cloud.db OPENAKERUN_MASTER_KEY_FILE={args.var}/master.key \\
                .venv/bin/python -m cloud keys create --role admin --name me
  virtual door  .venv/bin/python -m tools.virtual_door --port {args.lock_port} --help
  MQTT broker   127.0.0.1:{BROKER_PORT}
""",
        flush=True,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--api-port", type=int, default=8000, help="REST API port (default 8000)")
    parser.add_argument("--lock-port", type=int, default=7700, help="simulated lock's control port (7700)")
    parser.add_argument("--var", default="var", help="state directory (default ./var)")


def run(args: argparse.Namespace) -> int:
    var = (ROOT / args.var).resolve()
    var.mkdir(parents=True, exist_ok=True)
    args.var = var

    stack = Stack()
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        _start_all(stack, args, var)
        _banner(args)
        while (exited := stack.first_exited()) is None:
            time.sleep(0.5)
        print(f"[stack] {exited[0]} exited with status {exited[1]}; stopping the rest", flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"[stack] {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        stack.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.stack", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
