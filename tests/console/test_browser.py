"""The console in a real headless Chromium against the running service (uvicorn on a free port).

Kept to a few flows that only a browser proves: keyboard sign-in, the add/search/suspend/audit round trip,
the lockout seen from two real client addresses, what a viewer gets, forged posts from a signed-in page,
the Japanese switch, and phone-width layout with labelled fields.
"""

import re
import struct
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from sqlmodel import Session, select

from cloud.accounts.models import SignInThrottle
from cloud.auth.operator import Operator
from cloud.crud.groups import create_group
from cloud.crud.users import create_user
from cloud.models.user import GroupCreate, User, UserCreate
from cloud.settings import Settings
from tests.cloud.console_client import PASSWORD
from tests.console.conftest import World
from tools.browser import clear_emulation, emulate_width, navigating

pytestmark = pytest.mark.slow

SEEDER = Operator(key_id=0, name="seed", role="admin", site_id=None)


def seed_person(world: World, name: str, external_id: str | None = None) -> int:
    with Session(world.engine) as session:
        user = create_user(
            session=session,
            operator=SEEDER,
            user_in=UserCreate(name=name, external_id=external_id, site_id=world.site_id),
        )
        session.commit()
        assert user.id is not None
        return user.id


def heading(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.TAG_NAME, "h1").text


def page_text(driver: webdriver.Chrome) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def sign_in(driver: webdriver.Chrome, world: World, username: str, password: str = PASSWORD) -> None:
    driver.get(world.console("/sign-in"))
    driver.find_element(By.ID, "f-username").send_keys(username)
    password_field = driver.find_element(By.ID, "f-password")
    password_field.send_keys(password)
    navigating(driver, lambda: password_field.send_keys(Keys.ENTER))


def post_from_page(driver: webdriver.Chrome, path: str, fields: dict[str, str], with_token: bool) -> int:
    """A POST crafted in the signed-in page with fetch(): same origin, the session cookie, and (if asked)
    the page's own CSRF token. Returns the final status."""
    script = """
        const [path, fields, withToken, done] = arguments;
        const body = new URLSearchParams(fields);
        if (withToken) body.set("csrf_token", document.querySelector("input[name=csrf_token]").value);
        fetch(path, {method: "POST", body}).then(r => done(r.status), e => done(String(e)));
    """
    status: int = driver.execute_async_script(script, "/console" + path, fields, with_token)
    return status


def test_keyboard_sign_in_then_add_search_suspend_and_audit(driver: webdriver.Chrome, world: World) -> None:
    seed_person(world, "Dave Other", "E100")
    driver.get(world.console("/people"))
    assert "/console/sign-in?next=/console/people" in driver.current_url
    # Keyboard only: the first Tab reaches the skip link, then Tab on to the username field.
    body = driver.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.TAB)
    assert driver.switch_to.active_element.text == "Skip to content"
    for _ in range(10):
        if driver.switch_to.active_element.get_attribute("id") == "f-username":
            break
        driver.switch_to.active_element.send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.get_attribute("id") == "f-username"
    active.send_keys("manager", Keys.TAB)
    navigating(driver, lambda: driver.switch_to.active_element.send_keys(PASSWORD, Keys.ENTER))
    assert heading(driver) == "People" and driver.current_url.endswith("/console/people")

    driver.find_element(By.ID, "add-name").send_keys("Carol Tanaka")
    driver.find_element(By.ID, "add-email").send_keys("carol@example.com")
    navigating(driver, lambda: driver.find_element(By.ID, "add-external_id").send_keys("E7", Keys.ENTER))
    assert heading(driver) == "Carol Tanaka" and "Person added." in page_text(driver)

    navigating(driver, driver.find_element(By.LINK_TEXT, "People").click)
    navigating(driver, lambda: driver.find_element(By.ID, "q").send_keys("tanaka", Keys.ENTER))
    rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [row.find_element(By.TAG_NAME, "th").text for row in rows] == ["Carol Tanaka"]
    navigating(driver, rows[0].find_element(By.LINK_TEXT, "Carol Tanaka").click)

    navigating(driver, driver.find_element(By.XPATH, "//button[normalize-space()='Suspend']").click)
    assert driver.find_element(By.ID, "person-status").text == "suspended"
    assert "opens nothing" in page_text(driver) or "open nothing" in page_text(driver)

    navigating(driver, driver.find_element(By.LINK_TEXT, "Audit trail").click)
    newest = driver.find_element(By.CSS_SELECTOR, "ol.audit > li")
    assert "manager (console account)" in newest.text and "changed person" in newest.text
    diff = newest.find_element(By.CSS_SELECTOR, "table.diff tbody").text
    assert "status active suspended" in diff
    with Session(world.engine) as session:
        carol = session.exec(select(User).where(User.name == "Carol Tanaka")).one()
        assert carol.status == "suspended" and carol.external_id == "E7"


def test_wrong_password_and_a_lockout_from_another_address_that_does_not_reach_the_operator(
    driver: webdriver.Chrome, world: World
) -> None:
    sign_in(driver, world, "manager", "wrong password")
    assert heading(driver) == "Sign in" and "Sign-in failed" in page_text(driver)
    # An attacker at another loopback address (127.0.0.2) guesses until it is delayed.
    attempts = Settings().sign_in_free_failures + 2
    statuses = [attack(world, "manager", "guess") for _ in range(attempts)]
    assert statuses == [401] * attempts
    assert attack(world, "manager", PASSWORD) == 401  # delayed: not even the right password gets through
    with Session(world.engine) as session:
        row = session.get(SignInThrottle, ("manager", "127.0.0.2"))
        # Counted up to the first delay; the attempts made while delayed were refused without a check.
        assert row is not None and row.failures == Settings().sign_in_free_failures + 1
        assert session.get(SignInThrottle, ("manager", "127.0.0.1")).failures == 1  # type: ignore[union-attr]
    # The operator, at 127.0.0.1 in the real browser, is not affected.
    sign_in(driver, world, "manager")
    assert heading(driver) == "Doors" and "manager (manager)" in page_text(driver)
    with Session(world.engine) as session:
        assert session.get(SignInThrottle, ("manager", "127.0.0.1")) is None  # its one failure: cleared


def attack(world: World, username: str, password: str) -> int:
    """One sign-in from 127.0.0.2, the way a script would (its own form cookie and token)."""
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=transport, base_url=world.url) as client:
        page = client.get("/console/sign-in")
        cookie = page.headers["set-cookie"].split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None
        response = client.post(
            "/console/sign-in",
            data={"csrf_token": token.group(1), "username": username, "password": password},
            headers={"Cookie": cookie, "Origin": world.url},
        )
        return response.status_code


def test_a_viewer_gets_no_change_forms_and_a_crafted_post_is_403(
    driver: webdriver.Chrome, world: World
) -> None:
    person = seed_person(world, "Erin Viewed")
    sign_in(driver, world, "viewer")
    driver.get(world.console("/people"))
    assert "Erin Viewed" in page_text(driver)
    assert driver.find_elements(By.ID, "add-person") == []
    assert driver.find_elements(By.CSS_SELECTOR, "form[method='post'][action='/console/people']") == []
    driver.get(world.console(f"/people/{person}"))
    assert driver.find_elements(By.XPATH, "//button[normalize-space()='Suspend']") == []
    assert post_from_page(driver, "/people", {"name": "Mallory"}, with_token=True) == 403
    assert post_from_page(driver, f"/people/{person}/status", {"status": "suspended"}, with_token=True) == 403
    with Session(world.engine) as session:
        assert session.exec(select(User).where(User.name == "Mallory")).first() is None
        assert session.get(User, person).status == "active"  # type: ignore[union-attr]


def test_a_post_without_the_csrf_token_is_refused(driver: webdriver.Chrome, world: World) -> None:
    sign_in(driver, world, "admin")
    driver.get(world.console("/people"))
    assert post_from_page(driver, "/people", {"name": "Forged"}, with_token=False) == 403
    assert (
        post_from_page(driver, "/people", {"name": "Genuine"}, with_token=True) == 200
    )  # after the redirect
    with Session(world.engine) as session:
        names = set(session.exec(select(User.name)).all())
    assert names == {"Genuine"}


def test_the_switch_to_japanese(driver: webdriver.Chrome, world: World) -> None:
    sign_in(driver, world, "manager")
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
    navigating(driver, driver.find_element(By.XPATH, "//button[@lang='ja']").click)
    assert driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ja"
    assert heading(driver) == "ドア"
    navigating(driver, driver.find_element(By.LINK_TEXT, "利用者").click)
    assert heading(driver) == "利用者" and "利用者を追加" in page_text(driver)
    assert "時刻は拠点のタイムゾーン（Asia/Tokyo）で表示しています。" in page_text(driver)
    navigating(driver, driver.find_element(By.XPATH, "//button[@lang='en']").click)
    assert heading(driver) == "People"


UNLABELLED_FIELDS = """
    return [...document.querySelectorAll("input:not([type=hidden]), select, textarea")]
        .filter(field => !(field.id && document.querySelector(`label[for="${field.id}"]`))
                         && !field.getAttribute("aria-label"))
        .map(field => field.name || field.outerHTML);
"""
OVERFLOW = "return document.documentElement.scrollWidth - document.documentElement.clientWidth;"


def test_phone_width_layout_and_labelled_fields(driver: webdriver.Chrome, world: World) -> None:
    person = seed_person(world, "Fumiko Yamamoto-Longname", "EMPLOYEE-000123456789")
    with Session(world.engine) as session:
        group = create_group(
            session=session,
            operator=SEEDER,
            group_in=GroupCreate(name="Night shift", site_id=world.site_id, user_ids=[person]),
        )
        session.commit()
        group_id = group.id
    emulate_width(driver, 390, 844, mobile=True)
    try:
        driver.get(world.console("/sign-in"))
        assert driver.execute_script(UNLABELLED_FIELDS) == []
        assert driver.execute_script(OVERFLOW) <= 0
        sign_in(driver, world, "admin")
        for path in (
            "/",
            "/people",
            f"/people/{person}",
            "/groups",
            f"/groups/{group_id}?q=Fumiko",
            "/entries",
            "/audit",
        ):
            driver.get(world.console(path))
            assert driver.execute_script(UNLABELLED_FIELDS) == [], path
            assert driver.execute_script(OVERFLOW) <= 0, path
            buttons = driver.find_elements(By.TAG_NAME, "button")
            assert all(button.text.strip() or button.get_attribute("aria-label") for button in buttons), path
    finally:
        clear_emulation(driver)


def test_the_screenshot_command_writes_whole_pages(tmp_path: Path) -> None:
    from tools.console_screenshots import main

    assert main(["--out", str(tmp_path), "--only", "doors", "people-phone"]) == 0
    doors, phone = tmp_path / "doors.png", tmp_path / "people-phone.png"
    for path, width in ((doors, 1280), (phone, 390)):
        header = path.read_bytes()[:24]
        assert header[:8] == b"\x89PNG\r\n\x1a\n"
        assert struct.unpack(">II", header[16:24])[0] == width
    assert struct.unpack(">II", phone.read_bytes()[16:24])[1] > 844  # the whole page, not one screen
