# The lock's network side: MQTT 3.1.1 client (mqtt.py), connection upkeep with TLS and backoff (link.py),
# DNS without blocking the loop (dns.py). Never imports machine or network: the HAL brings WiFi up and
# answers hw.network_ready(); everything here runs on the unix port too. docs/FIRMWARE.md "Network".
