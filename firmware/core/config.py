# Board and site settings: defaults here, overridden by config.json (unknown keys are kept for the HAL).
# docs/FIRMWARE.md lists the keys; hal/ modules read their own keys with config.get(key, default).
import json

DEFAULTS = {
    "device_id": "lock-unprovisioned",
    "site_key": "",  # hex, >= 16 bytes; without it no credential can be verified (every tap denied)
    "device_secret": "",  # hex, 32 bytes: this lock's keys (K_up, K_down, K_table) until a rekey (keys.bin)
    "key_gen": 1,  # key generation of device_secret
    "epoch": 1,  # provisioning epoch; a different one than state.bin's means the lock was provisioned again
    "max_credentials": 10000,  # permission records the flash keeps room for (the event log never takes it)
    "unlock_seconds": 5,  # auto-lock delay after an unlock when the door was not opened
    "held_open_seconds": 30,  # door open longer than this raises a held_open event
    "jam_timeout_ms": 1500,  # end position not confirmed within this -> retry once, then jammed
    "event_log_capacity": 1024,  # records kept on flash before the oldest are dropped
    "mode": "normal",  # normal | passage | lockdown (until the cloud sends a config message)
    "passage_windows": [],  # [[days, start_minute, end_minute], ...] site-local, for passage mode
    "utc_offsets": [[0, 0]],  # [[start_utc, offset_minutes], ...] until the cloud sends a time message
    "tap_repeat_ms": 2000,  # the same card seen again within this is the same tap, not a new one
    "poll_ms": 50,  # main loop period
    # tamper/forced when the door opens while locked: "confirmed" (the actuator's feedback says the bolt is
    # thrown), "always" (also without feedback: every way out is the exit button), "off"
    "forced_open_alarm": "confirmed",
    "data_dir": "data",
    # seconds a phone has to answer the lock's challenge (shared_schema.mobilekeys.CHALLENGE_TTL_S)
    "phone_challenge_s": 15,
}


class ConfigError(ValueError):
    """str(error) names the problem and the file."""


def load(path=None):
    """Defaults merged with the JSON object in `path` (if given); raises ConfigError if it is unusable."""
    config = dict(DEFAULTS)
    if path is None:
        return config
    try:
        with open(path) as f:
            overrides = json.load(f)
    except OSError:
        raise ConfigError("config_unreadable: " + path)
    except ValueError:
        raise ConfigError("config_not_json: " + path)
    if not isinstance(overrides, dict):
        raise ConfigError("config_not_object: " + path)
    config.update(overrides)
    return config


def int_setting(config, key, low, high):
    """config[key] as an int within [low, high], or the default when it is missing or out of range."""
    value = config.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        return DEFAULTS[key]
    return value
