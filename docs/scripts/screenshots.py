"""Take the guides' screenshots from a demo of their own: `make screenshots` (English, then French), or
`.venv/bin/python docs/scripts/screenshots.py --lang fr`.

It starts `manage.py runportal --demo` on free ports with its own PORTAL_VAR_DIR in a temporary folder (so a
running `make run` and its var/ are never touched), drives Debian's Chromium with Playwright as a
contributor and as the demo's curator, writes optimised PNGs of the pages into docs/images/<lang>/, stops
everything it started and removes its folder. Fields and buttons are found by name and id, never by their
text, so the same steps work in every language the portal speaks.
"""

import argparse
import contextlib
import datetime
import io
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "docs" / "images"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]
WIDTH = 1280
# A page taller than this is cut: a screenshot shows what a reader sees first, not a whole long page.
MAX_HEIGHT = 1800
CURATOR = ("curator", "curator-demo")  # the demo's account (submissions/management/commands/loaddemo.py)
CONTRIBUTOR = "harbour-lab@example.org"
DATA_FILE = "harbour-water-quality-2024.csv"
CARD = ROOT / "submissions" / "demo" / "baltic-buoys.md"
PATIENCE = 600  # seconds to wait for the demo's workers (checks, publications) on a busy machine


def languages():
    """Return the languages the portal speaks: English, and every language with a translation catalogue."""
    found = {path.parent.parent.name for path in (ROOT / "locale").glob("*/LC_MESSAGES/django.po")}
    return {"en"} | found


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Demo:
    """`manage.py runportal --demo` in a folder of its own, on free ports; stopped on exit."""

    def __init__(self, var_dir):
        self.var_dir = var_dir
        self.port, self.hub_port, self.source_port = free_port(), free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.source_url = f"https://127.0.0.1:{self.source_port}/"
        self.log = var_dir / "runportal.log"
        self.process = None

    def __enter__(self):
        env = {
            key: value
            for key, value in os.environ.items()
            # The demo runs on its embedded parts and the dev Hub, whatever this shell points at.
            if not key.startswith(("DATABASE_", "CELERY_", "CACHE_", "HF_", "HUB_", "PORTAL_", "STORAGE_"))
        }
        env |= {"PORTAL_VAR_DIR": str(self.var_dir), "DEBUG": "true", "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "manage.py", "runportal", f"127.0.0.1:{self.port}", "--demo"]
        command += ["--devhub-port", str(self.hub_port), "--source-port", str(self.source_port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_for(lambda: "Portal: " in self.output(), "the portal to start", timeout=300)
        return self

    def __exit__(self, *exc):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # runportal stops its children
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        # Anything of its session still running (a child that ignored SIGTERM) goes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def output(self):
        """Return what runportal and its children printed so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_for(self, condition, what, timeout=PATIENCE):
        """Wait until `condition()` is true; stop with the demo's output if it is not within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"runportal stopped while waiting for {what}:\n{self.output()[-3000:]}")
            if condition():
                return
            time.sleep(1)
        sys.exit(f"Gave up waiting for {what} after {timeout} s:\n{self.output()[-3000:]}")

    def status_link(self, reference):
        """Return the status link of the confirmation e-mail of `reference`, as printed on the console."""
        pattern = re.compile(
            rf"{re.escape(CONTRIBUTOR)} · \[{reference}\] .*? (https?://\S+/status/[^/\s]+/)"
        )
        found = pattern.search(self.output())
        return found.group(1) if found else None


def save(page, path, *, clip_to=None, height=MAX_HEIGHT):
    """Save a screenshot of the tab as an optimised PNG, WIDTH pixels wide and at most `height` tall: the
    page from its top, or from the element `clip_to` (a CSS selector) down."""
    raw = page.screenshot(full_page=True)
    image = Image.open(io.BytesIO(raw)).convert("RGB")
    top = 0
    if clip_to is not None:
        box = page.locator(clip_to).first.bounding_box()
        top = max(0, int(box["y"] + page.evaluate("window.scrollY")) - 16)
    image = image.crop((0, top, image.width, min(image.height, top + height)))
    # 256 colours are plenty for pages of text and flat colours, and make the file a fraction of the size.
    image = image.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, optimize=True)
    print(f"  {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KiB)")


def write_data_file(demo):
    """Put a small CSV into the demo's data folder, served by its data source, as a newcomer would."""
    folder = demo.var_dir / "demo-data"
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["date,station,temperature_c,salinity_psu,oxygen_mg_l"]
    for day in range(366):
        date = datetime.date(2024, 1, 1) + datetime.timedelta(days=day)
        for number, station in enumerate(("H1", "H2", "H3")):
            rows.append(f"{date},{station},{8 + (day + number) % 12},{30 + day % 5},{7 + (day + number) % 3}")
    (folder / DATA_FILE).write_text("\n".join(rows) + "\n", encoding="utf-8")


def domain_value(demo, name):
    """Return the value of the form's option for the domain `name`, read from the form in English (a domain's
    name may be translated on the page in another language; its value is the same)."""
    with urllib.request.urlopen(f"{demo.url}/contribute/") as answer:  # noqa: S310 - our demo
        form = answer.read().decode("utf-8")
    found = re.search(rf'<option value="(\d+)"[^>]*>\s*{re.escape(name)}\s*</option>', form)
    if found is None:
        sys.exit(f"The contribution form offers no domain {name!r}.")
    return found.group(1)


def contribute(page, demo, out):
    """Fill in the contribution form (screenshot), send it, and return the reference of the receipt."""
    page.goto(f"{demo.url}/contribute/")
    page.fill("input[name=name]", "Harbour water quality 2024")
    page.fill("[name=location]", demo.source_url + DATA_FILE)
    page.check("input[name=modalities][value=text]")
    page.select_option("select[name=domain]", value=domain_value(demo, "Marine"))
    page.set_input_files("input[name=card]", str(CARD))
    page.fill("input[name=contact_email]", CONTRIBUTOR)
    page.check("input[name=accept_terms]")
    save(page, out / "contribute-form.png")
    page.click("[name=submit]")
    page.wait_for_selector("#reference")
    return page.inner_text("#reference").strip()


def status_page(page, demo, reference, out):
    """Open the status link from the printed e-mail, wait for the data check, and take the status page."""
    demo.wait_for(lambda: demo.status_link(reference), f"the confirmation e-mail of {reference}")
    link = demo.status_link(reference)
    page.goto(link)  # opening the link changes nothing: the page's button confirms the address
    page.click("#confirm button[type=submit]")

    def checked():
        page.goto(link)
        return page.locator("#data-check-title").count() > 0

    demo.wait_for(checked, f"the data check of {reference}")
    save(page, out / "status-page.png")


def sign_in(page, demo):
    """Sign in to the admin as the demo's curator."""
    page.goto(f"{demo.url}/admin/login/")
    page.fill("#id_username", CURATOR[0])
    page.fill("#id_password", CURATOR[1])
    # The password form's own button: the institution's sign-in button comes first on the page.
    page.click("#login-form input[type=submit]")
    page.wait_for_url(f"{demo.url}/admin/")


def review_pages(page, demo, out):
    """Take the review queue, the review page of the demo's survey with its data panel, and the dashboard."""
    page.goto(f"{demo.url}/admin/submissions/submission/")
    save(page, out / "review-queue.png", height=1000)
    page.click("text=Coastal litter survey 2023")

    def inspected():
        page.reload()
        return page.locator("#personal-data").count() > 0

    demo.wait_for(inspected, "the data check of the demo's litter survey")
    save(page, out / "review-page.png")
    save(page, out / "data-panel.png", clip_to="#data-title", height=1000)
    page.goto(f"{demo.url}/admin/submissions/submission/dashboard/")
    save(page, out / "curation-dashboard.png", height=1400)


def catalog_pages(page, demo, out):
    """Take the catalog's list and a dataset page, once the demo's datasets are published."""

    counts = []

    def settled():
        # The demo's publications finish one after the other: wait until the API's count stops growing.
        with urllib.request.urlopen(f"{demo.url}/api/datasets/") as answer:  # noqa: S310 - our demo
            counts.append(json.load(answer)["count"])
        return len(counts) > 10 and counts[-1] > 0 and len(set(counts[-10:])) == 1

    demo.wait_for(settled, "the demo catalog's publication")
    page.goto(f"{demo.url}/datasets/")
    save(page, out / "catalog-list.png")
    page.goto(f"{demo.url}/datasets/north-sea-wave-heights/")
    save(page, out / "dataset-page.png")


def main(argv=None):
    """Start the demo, take every screenshot in one language, stop the demo."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--lang", default="en", help="language of the pages: en, or fr (any with a catalogue)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the demo's folder and print where it is")
    args = parser.parse_args(argv)
    if args.lang not in languages():
        sys.exit(
            f"The portal does not speak {args.lang!r} yet (no locale/{args.lang}/LC_MESSAGES/django.po), "
            "so no screenshots were taken in it."
        )
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} is missing: install Debian's package 'chromium'.")
    from playwright.sync_api import sync_playwright

    out = IMAGES / args.lang
    var_dir = Path(tempfile.mkdtemp(prefix="portal-screenshots-"))
    try:
        with Demo(var_dir) as demo, sync_playwright() as playwright:
            print(f"Demo at {demo.url} (folder {var_dir}); screenshots into {out.relative_to(ROOT)}/")
            write_data_file(demo)
            # The browser's own controls (a file field's button) in the language too: Chromium takes it from
            # LANGUAGE, with the translations of Debian's package chromium-l10n (English without it).
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                args=[*CHROMIUM_ARGS, f"--lang={args.lang}"],
                env={**os.environ, "LANGUAGE": args.lang},
            )
            context = browser.new_context(
                viewport={"width": WIDTH, "height": 900},
                locale=args.lang,
                extra_http_headers={"Accept-Language": args.lang},
            )
            context.set_default_timeout(30_000)
            # The admin's navigation sidebar folded away, as a curator may keep it: the queue gets the width.
            context.add_init_script("localStorage.setItem('django.admin.navSidebarIsOpen', 'false')")
            page = context.new_page()
            reference = contribute(page, demo, out)
            print(f"  the form's receipt: {reference}")
            status_page(page, demo, reference, out)
            sign_in(page, demo)
            review_pages(page, demo, out)
            catalog_pages(page, demo, out)
            browser.close()
    finally:
        if args.keep:
            print(f"The demo's folder is kept: {var_dir}")
        else:
            shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
