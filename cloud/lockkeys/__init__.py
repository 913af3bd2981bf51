"""Each lock's keys: device secret generations, rotation, provisioning, retirement, broker account."""
