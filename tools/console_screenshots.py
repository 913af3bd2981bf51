"""`python -m tools.console_screenshots` (`make screenshots`): PNGs of the console's main pages.

Seeds a throwaway SQLite database with the demo site (tools/console_demo.py), serves the real app with
uvicorn on a free port, signs in with headless Chromium and saves each page, whole, at desktop width; a few
again in Japanese and at phone width. Regenerate after changing a page; commit the PNGs it writes.

    .venv/bin/python -m tools.console_screenshots [--out docs/console] [--only NAME ...]
"""

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from cloud.main import create_app
from cloud.scratch import sqlite_database
from cloud.settings import Settings
from tools.browser import chromium, clear_emulation, emulate_width, navigating, serve
from tools.console_demo import Demo, seed_demo

ROOT = Path(__file__).resolve().parent.parent
DESKTOP = (1280, 800)
PHONE = (390, 844)


@dataclass(frozen=True)
class Shot:
    name: str
    path: str  # under /console, after {person} and {group} are filled in
    lang: str = "en"
    phone: bool = False


SHOTS = (
    Shot("sign-in", "/sign-in"),
    Shot("doors", "/"),
    Shot("people", "/people"),
    Shot("person", "/people/{person}"),
    Shot("groups", "/groups"),
    Shot("group", "/groups/{group}?q=田"),
    Shot("entries", "/entries"),
    Shot("audit", "/audit"),
    Shot("doors-ja", "/", lang="ja"),
    Shot("people-ja", "/people", lang="ja"),
    Shot("entries-ja", "/entries", lang="ja"),
    Shot("people-phone", "/people", phone=True),
    Shot("entries-phone", "/entries", phone=True),
)


def _sign_in(driver: webdriver.Chrome, base: str, demo: Demo) -> None:
    driver.get(f"{base}/console/sign-in")
    driver.find_element(By.ID, "f-username").send_keys(demo.username)
    password = driver.find_element(By.ID, "f-password")
    password.send_keys(demo.password)
    navigating(driver, lambda: password.send_keys(Keys.ENTER))


def _set_language(driver: webdriver.Chrome, lang: str) -> None:
    if driver.execute_script("return document.documentElement.lang") != lang:
        navigating(driver, driver.find_element(By.XPATH, f"//button[@lang='{lang}']").click)


def _capture(driver: webdriver.Chrome, shot: Shot, url: str, target: Path) -> None:
    width, height = PHONE if shot.phone else DESKTOP
    emulate_width(driver, width, height, mobile=shot.phone)
    driver.get(url)  # returns once the page has loaded
    # The whole page: make the viewport as tall as the document.
    full = int(driver.execute_script("return document.documentElement.scrollHeight"))
    emulate_width(driver, width, max(height, full), mobile=shot.phone)
    driver.save_screenshot(str(target))
    clear_emulation(driver)


@contextmanager
def _demo_console() -> Iterator[tuple[str, Demo]]:
    # A throwaway database: a throwaway master key (for this process) seals its site key.
    os.environ.setdefault("OPENAKERUN_MASTER_KEY", os.urandom(32).hex())
    with sqlite_database() as engine:
        demo = seed_demo(engine)
        with serve(create_app(Settings(), engine=engine)) as base:
            yield base, demo


def take(out: Path, only: set[str] | None = None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with _demo_console() as (base, demo), chromium(*DESKTOP) as driver:
        for shot in SHOTS:
            if only and shot.name not in only:
                continue
            path = shot.path.format(person=demo.person_id, group=demo.group_id)
            if shot.name == "sign-in":
                driver.delete_all_cookies()
            elif "/sign-in" in (driver.current_url or "") or not driver.get_cookie("oak_console"):
                _sign_in(driver, base, demo)
            if shot.name != "sign-in":
                _set_language(driver, shot.lang)
            target = out / f"{shot.name}.png"
            _capture(driver, shot, f"{base}/console{path}", target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.console_screenshots", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console", help="folder for the PNGs")
    parser.add_argument("--only", nargs="*", choices=[shot.name for shot in SHOTS], help="just these pages")
    args = parser.parse_args(argv)
    for path in take(args.out, set(args.only) if args.only else None):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
