# Runs first on every reset of the board, before main.py. Kept tiny on purpose: anything that can fail
# belongs in main.py, where it is reported and the watchdog is in charge.
import gc

try:
    import esp

    esp.osdebug(None)  # no vendor log lines on the console: reports there are JSON lines
except ImportError:  # not an ESP32 (the unix port never runs boot.py, but be safe)
    pass

gc.collect()
