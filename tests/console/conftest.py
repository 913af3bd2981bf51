"""Real-browser fixtures: one uvicorn server with a fresh SQLite database and one headless Chromium per
module; every test starts from emptied tables, no cookies and fresh sign-in counters."""

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from selenium import webdriver
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.routing import Mount

from cloud.auth.limiter import AuthFailureLimiter
from cloud.auth.operator import Operator
from cloud.crud.sites import create_site
from cloud.main import create_app
from cloud.models.site import SiteCreate
from cloud.scratch import sqlite_database
from cloud.settings import Settings
from cloud.vault.master import forget_master_key
from tests.cloud.conftest import TEST_MASTER_KEY, empty_tables
from tests.cloud.console_client import make_account
from tools.browser import chromium, serve


@pytest.fixture(scope="module")
def browser_engine() -> Iterator[Engine]:
    # The server seals site keys under a master key: the same test key as the cloud tests.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("OPENAKERUN_MASTER_KEY", TEST_MASTER_KEY)
        forget_master_key()
        with sqlite_database() as engine:
            yield engine
    forget_master_key()


@pytest.fixture(scope="module")
def browser_app(browser_engine: Engine) -> FastAPI:
    return create_app(Settings(), engine=browser_engine)


@pytest.fixture(scope="module")
def base_url(browser_app: FastAPI) -> Iterator[str]:
    with serve(browser_app) as url:
        yield url


@pytest.fixture(scope="module")
def driver() -> Iterator[webdriver.Chrome]:
    with chromium() as browser:
        browser.implicitly_wait(0)
        yield browser


@dataclass
class World:
    """What each browser test starts with: a site in Tokyo and three accounts, one per role."""

    url: str
    engine: Engine
    app: FastAPI
    site_id: int

    def console(self, path: str = "/") -> str:
        return f"{self.url}/console{path}"


def _console_app(app: FastAPI) -> FastAPI:
    mount = next(route for route in app.routes if isinstance(route, Mount) and route.path == "/console")
    console: FastAPI = mount.app  # type: ignore[assignment]
    return console


@pytest.fixture
def world(
    base_url: str, browser_engine: Engine, browser_app: FastAPI, driver: webdriver.Chrome
) -> Iterator[World]:
    empty_tables(browser_engine)
    console = _console_app(browser_app)
    settings: Settings = console.state.settings
    console.state.address_limiter = AuthFailureLimiter(
        settings.sign_in_address_limit, settings.sign_in_address_window_s
    )
    with Session(browser_engine) as session:
        installer = Operator(key_id=0, name="installer", role="admin", site_id=None)
        site, _key = create_site(
            session=session, operator=installer, site_in=SiteCreate(name="Tokyo HQ", timezone="Asia/Tokyo")
        )
        session.commit()
        assert site.id is not None
        site_id = site.id
    make_account(browser_engine, "admin", "admin")
    make_account(browser_engine, "manager", "operator", site_id=site_id)
    make_account(browser_engine, "viewer", "viewer", site_id=site_id)
    driver.get(f"{base_url}/console/sign-in")
    driver.delete_all_cookies()
    yield World(url=base_url, engine=browser_engine, app=browser_app, site_id=site_id)
