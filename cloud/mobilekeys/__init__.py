"""Mobile keys: phones that open doors over BLE, verified offline by the locks (docs/PROTOCOL.md)."""
