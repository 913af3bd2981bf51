"""Refusals from a real Mosquitto: a wrong password (password_file made with mosquitto_passwd, acl_file) and
a subscription the broker forbids each end in a clear, specific error; the password never appears in
anything the lock prints.

Mosquitto's acl_file never refuses a SUBSCRIBE: it only withholds the messages (its maintainer, in
eclipse-mosquitto/mosquitto#2042). Refused subscriptions (SUBACK 0x80) come from its dynamic security
plugin, configured here with mosquitto_ctrl, as a production broker would be."""

import glob
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fwnet.netkit import DEVICE, Agent, Mosquitto, Peer, lock_config

pytestmark = pytest.mark.slow
PASSWORDS = {DEVICE: "lock-secret-1", "lock-t2": "lock-secret-2", "cloud": "cloud-secret"}
# As docs/PROTOCOL.md says: a lock (user = device id) reads its own down, writes its own up and status.
ACL = """user cloud
topic readwrite locks/#

pattern read locks/%u/down
pattern write locks/%u/up
pattern write locks/%u/status
"""


@pytest.fixture
def auth_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    password_file = tmp_path / "passwords"
    password_file.touch()
    for user, password in PASSWORDS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(password_file), user, password], check=True)
    acl_file = tmp_path / "acl"
    acl_file.write_text(ACL)
    settings = f"allow_anonymous false\npassword_file {password_file}\nacl_file {acl_file}\n"
    broker = Mosquitto(tmp_path, settings + "persistence false\n").start()
    yield broker
    broker.stop()


DYNSEC_ADMIN = ("admin", "admin-secret")


@pytest.fixture
def dynsec_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """Dynamic security: lock-t2 may subscribe to its own down topic only; subscriptions default to deny."""
    plugins = glob.glob("/usr/lib/*/mosquitto_dynamic_security.so") + glob.glob("/usr/lib/mosquitto_dyn*.so")
    assert plugins, "Mosquitto's dynamic security plugin is missing (Debian: part of the mosquitto package)"
    state = tmp_path / "dynsec.json"
    subprocess.run(["mosquitto_ctrl", "dynsec", "init", str(state), *DYNSEC_ADMIN], check=True,
                   capture_output=True)
    broker = Mosquitto(tmp_path, f"plugin {plugins[0]}\nplugin_opt_config_file {state}\npersistence false\n")
    broker.start()
    admin = ["-u", DYNSEC_ADMIN[0], "-P", DYNSEC_ADMIN[1]]

    def ctrl(*args: str) -> None:
        subprocess.run(["mosquitto_ctrl", "-h", "127.0.0.1", "-p", str(broker.port), *admin, "dynsec", *args],
                       check=True, capture_output=True)

    ctrl("createClient", "lock-t2", "-p", PASSWORDS["lock-t2"])
    ctrl("createRole", "lock-t2-role")
    ctrl("addRoleACL", "lock-t2-role", "subscribeLiteral", "locks/lock-t2/down", "allow")
    ctrl("addRoleACL", "lock-t2-role", "publishClientSend", "locks/lock-t2/#", "allow")
    ctrl("addClientRole", "lock-t2", "lock-t2-role")
    yield broker
    broker.stop()


def _agent(tmp_path: Path, agents: list[Agent], port: int, **overrides: object) -> Agent:
    agent = Agent(tmp_path, lock_config(port, **overrides))
    agents.append(agent)
    return agent


def _printed(agent: Agent) -> str:
    return "\n".join(str(event) for event in agent.drain())


def test_right_password_connects_and_the_lock_uses_its_topics(tmp_path: Path, auth_broker: Mosquitto,
                                                              agents: list[Agent], peers: list[Peer]) -> None:
    cloud = Peer(auth_broker.port, user="cloud", password=PASSWORDS["cloud"])
    peers.append(cloud)
    cloud.subscribe(f"locks/{DEVICE}/up")
    agent = _agent(tmp_path, agents, auth_broker.port, broker_password=PASSWORDS[DEVICE])
    agent.wait_ev("up")
    cloud.publish(f"locks/{DEVICE}/down", b"hello-lock")
    agent.wait_ev("msg", payload="hello-lock")
    agent.send(cmd="publish", topic=f"locks/{DEVICE}/up", payload="hello-cloud")
    assert cloud.take()[:2] == (f"locks/{DEVICE}/up", b"hello-cloud")


def test_the_provisioning_bundles_key_names_work(tmp_path: Path, auth_broker: Mosquitto,
                                                  agents: list[Agent]) -> None:
    # POST /doors gives broker_username / broker_password (docs/SECURITY.md): pasted as they come, they work.
    # (Another lock's account here, so that only the user name from broker_username can pass.)
    agent = _agent(tmp_path, agents, auth_broker.port, broker_username="lock-t2",
                   broker_password=PASSWORDS["lock-t2"])
    agent.wait_ev("up")


def test_wrong_password_is_a_clear_error_and_never_printed(tmp_path: Path, auth_broker: Mosquitto,
                                                           agents: list[Agent]) -> None:
    wrong = "not-the-password-42"
    agent = _agent(tmp_path, agents, auth_broker.port, broker_password=wrong)
    event = agent.wait_for(lambda e: e.get("ev") == "net" and "error" in e["data"])
    # Mosquitto answers a failed password check on MQTT 3.1.1 with CONNACK 5 (not authorised), not 4.
    assert event["data"]["error"] == "not_authorised"
    assert "broker_password" in event["data"]["detail"] and "CONNACK 5" in event["data"]["detail"]
    agent.wait_for(lambda e: e.get("ev") == "net" and e["data"].get("state") == "connecting")  # it retries
    assert wrong not in _printed(agent)


def test_no_password_at_all_is_refused_too(tmp_path: Path, auth_broker: Mosquitto,
                                           agents: list[Agent]) -> None:
    agent = _agent(tmp_path, agents, auth_broker.port)
    event = agent.wait_for(lambda e: e.get("ev") == "net" and "error" in e["data"])
    assert event["data"]["error"] == "not_authorised"


def test_subscription_refused_by_the_broker_is_a_clear_error(tmp_path: Path, dynsec_broker: Mosquitto,
                                                             agents: list[Agent]) -> None:
    # Valid credentials, but lock-t2 may only subscribe to locks/lock-t2/down: SUBACK says 0x80.
    agent = _agent(tmp_path, agents, dynsec_broker.port, broker_user="lock-t2",
                   broker_password=PASSWORDS["lock-t2"])
    event = agent.wait_for(lambda e: e.get("ev") == "net" and "error" in e["data"])
    assert event["data"]["error"] == "subscribe_refused"
    assert f"locks/{DEVICE}/down" in event["data"]["detail"] and "ACL" in event["data"]["detail"]
    assert PASSWORDS["lock-t2"] not in _printed(agent)


def test_the_same_broker_grants_the_lock_its_own_topic(tmp_path: Path, dynsec_broker: Mosquitto,
                                                       agents: list[Agent]) -> None:
    # The counterpart: the refusal above comes from the ACL, not from the plugin setup.
    agent = _agent(tmp_path, agents, dynsec_broker.port, device_id="lock-t2",
                   broker_password=PASSWORDS["lock-t2"])
    agent.wait_ev("up")
