"""A real web server and a real headless browser, for the console's browser tests and screenshots.

`serve(app)` runs the ASGI app under uvicorn on a free loopback port (in a thread of this process);
`chromium()` starts Debian's Chromium through its chromedriver (both installed by
tools/install_system_deps.sh; Selenium never downloads a browser here) with a fresh profile.
"""

import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# A quiet, reproducible browser: no first-run UI, no background traffic, no GPU, no sandbox (we run as root
# in a container), /tmp instead of a small /dev/shm.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def serve(app: Any, host: str = "127.0.0.1", start_timeout_s: float = 20) -> Iterator[str]:
    """The app behind a real uvicorn server; yields its base URL and stops it afterwards."""
    port = free_port(host)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def chromium(width: int = 1280, height: int = 900, language: str = "en-US") -> Iterator[webdriver.Chrome]:
    """A headless Chromium with a throwaway profile; quits and removes the profile afterwards."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(path):
            raise RuntimeError(f"{path} is missing: run tools/install_system_deps.sh (make setup)")
    profile = tempfile.mkdtemp(prefix="console-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_argument(f"--window-size={width},{height}")
    options.add_argument(f"--lang={language}")
    options.add_experimental_option("prefs", {"intl.accept_languages": language})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def emulate_width(driver: webdriver.Chrome, width: int, height: int, mobile: bool) -> None:
    """Lay pages out as on a device of this size (a phone: 390 x 844), whatever the window is."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
    )


def clear_emulation(driver: webdriver.Chrome) -> None:
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def navigating(driver: webdriver.Chrome, action: Callable[[], object], timeout_s: float = 10) -> None:
    """Do something that loads a new page (a click, Enter in a form) and wait until the new page is loaded.

    The old page is marked with a window property; a new document starts without it. (Waiting for an old
    element to go stale races with Chromium discarding the document.)
    """
    driver.execute_script("window.previousPage = true")
    action()
    WebDriverWait(driver, timeout_s).until(
        lambda d: d.execute_script("return !window.previousPage && document.readyState === 'complete'")
    )
