#!/usr/bin/env python3
"""Measures the desktop app under a private Xvfb display: cold start to window shown,
hotkey -> popup mapped latency, idle memory (PSS of the whole process tree) with and
without a model, and the binary's size. Needs python-xlib (pip) and Xvfb, dbus-daemon.

    python3 scripts/measure-app.py path/to/bantam-app path/to/model.gguf
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from Xlib import X, XK, display as xdisplay
from Xlib.ext import xtest


def start_desktop():
    xvfb = subprocess.Popen(
        ["Xvfb", "-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    num = xvfb.stdout.readline().decode().strip()
    dbus = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    address = dbus.stdout.readline().decode().strip()
    return f":{num}", address, [xvfb, dbus]


def window_named(d, name):
    for w in d.screen().root.query_tree().children:
        try:
            if w.get_wm_name() == name:
                return w
        except Exception:
            pass
    return None


def wait_map(d, name, timeout=30.0):
    """Blocks until a top-level window with this title is mapped; returns the time."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        while d.pending_events():
            e = d.next_event()
            if e.type == X.MapNotify:
                try:
                    if e.window.get_wm_name() == name:
                        return time.monotonic()
                except Exception:
                    pass
        w = window_named(d, name)
        if w is not None and w.get_attributes().map_state == X.IsViewable:
            return time.monotonic()
        time.sleep(0.0005)
    raise TimeoutError(name)


def wait_unmap(d, w, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if w.get_attributes().map_state != X.IsViewable:
            return
        time.sleep(0.001)
    raise TimeoutError("unmap")


def press(d, keys):
    codes = [d.keysym_to_keycode(XK.string_to_keysym(k)) for k in keys]
    for c in codes:
        xtest.fake_input(d, X.KeyPress, c)
    for c in reversed(codes):
        xtest.fake_input(d, X.KeyRelease, c)
    d.sync()


def close(d, w):
    """Asks a window to close, as a window manager's close button does."""
    from Xlib.protocol import event
    protocols = d.intern_atom("WM_PROTOCOLS")
    delete = d.intern_atom("WM_DELETE_WINDOW")
    w.send_event(event.ClientMessage(window=w, client_type=protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0])))
    d.sync()


def tree(pid):
    out = [pid]
    for child in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split():
        out += tree(int(child))
    return out


def pss_mb(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def breakdown(pid):
    parts = []
    for p in tree(pid):
        try:
            name = open(f"/proc/{p}/comm").read().strip()
            with open(f"/proc/{p}/smaps_rollup") as f:
                kb = next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
            parts.append(f"{name} {kb / 1024:.0f}")
        except (FileNotFoundError, StopIteration):
            pass
    return ", ".join(parts)


def launch(app, env, data):
    env = dict(env, BANTAM_DATA_DIR=data)
    t0 = time.monotonic()
    p = subprocess.Popen([app], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, t0


def main():
    app, model = sys.argv[1], sys.argv[2]
    disp, bus, procs = start_desktop()
    home = tempfile.mkdtemp()
    env = dict(os.environ, DISPLAY=disp, DBUS_SESSION_BUS_ADDRESS=bus, HOME=home,
               XDG_CONFIG_HOME=f"{home}/config", XDG_DATA_HOME=f"{home}/share")
    env.pop("BANTAM_MODEL", None)
    d = xdisplay.Display(disp)
    d.screen().root.change_attributes(event_mask=X.SubstructureNotifyMask)
    try:
        print(f"binary: {os.path.getsize(app) / 1e6:.1f} MB ({app})")

        starts = []
        for i in range(5):
            data = f"{home}/start{i}"
            p, t0 = launch(app, dict(env, BANTAM_MODEL=model), data)
            starts.append((wait_map(d, "Bantam") - t0) * 1000)
            p.terminate()
            p.wait()
            time.sleep(0.5)
        print(f"cold start to main window mapped: median {statistics.median(starts):.0f} ms "
              f"(runs: {', '.join(f'{s:.0f}' for s in starts)})")

        # Idle memory without a model (an empty data dir: nothing to load).
        p, _ = launch(app, env, f"{home}/nomodel")
        wait_map(d, "Bantam")
        time.sleep(5)
        print(f"idle PSS, no model, main window open: {pss_mb(p.pid):.0f} MB ({breakdown(p.pid)})")
        close(d, window_named(d, "Bantam"))
        time.sleep(5)
        print(f"idle PSS, no model, main window closed (tray only): {pss_mb(p.pid):.0f} MB ({breakdown(p.pid)})")
        p.terminate()
        p.wait()

        p, _ = launch(app, dict(env, BANTAM_MODEL=model), f"{home}/model")
        wait_map(d, "Bantam")
        time.sleep(6)  # the model loads in the background
        print(f"idle PSS, SmolLM2-135M loaded, main window open: {pss_mb(p.pid):.0f} MB")
        main_win = window_named(d, "Bantam")

        # Hotkey latency: key press sent to the X server -> popup mapped.
        lat = []
        for i in range(21):
            t0 = time.monotonic()
            press(d, ["Control_L", "Alt_L", "space"])
            t1 = wait_map(d, "Bantam quick ask", timeout=5)
            if i > 0:  # the first show also realizes the window
                lat.append((t1 - t0) * 1000)
            popup = window_named(d, "Bantam quick ask")
            time.sleep(0.2)
            press(d, ["Control_L", "Alt_L", "space"])  # the hotkey again hides it
            wait_unmap(d, popup)
            time.sleep(0.2)
        print(f"hotkey -> popup mapped: median {statistics.median(lat):.1f} ms, "
              f"p90 {sorted(lat)[int(len(lat) * 0.9) - 1]:.1f} ms over {len(lat)} presses")

        if main_win is not None:
            close(d, main_win)
        time.sleep(5)
        print(f"idle PSS, model loaded, main window closed (tray only): {pss_mb(p.pid):.0f} MB ({breakdown(p.pid)})")
        p.terminate()
        p.wait()
    finally:
        for pr in procs:
            pr.terminate()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
