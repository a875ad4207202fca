"""What the console's browser tests share: the page fixture, screenshots checked to be real pictures of the
page (in reports/artifacts/console/, or $SMSCONFORM_ARTIFACTS/console/), and a mensagem send."""
from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from devtools_browser import CHROMIUM, Browser

ARTIFACTS = Path(os.environ.get("SMSCONFORM_ARTIFACTS", Path(__file__).parents[2] / "reports" / "artifacts")) / "console"
DEMO_U = "d642dfa0"
ROWS = "#messages tbody tr"

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() and os.environ.get("CI") != "true",
    reason="Debian's chromium is not installed: run scripts/ensure-chromium")


def png_size_and_colours(path: Path) -> tuple[int, int, int]:
    """Width, height and how many distinct bytes the image data has (a blank page has very few)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    chunks, pos = [], 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        if data[pos + 4:pos + 8] == b"IDAT":
            chunks.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))


def shot(page: Browser, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = page.screenshot(ARTIFACTS / f"{name}.png")
    width, height, variety = png_size_and_colours(path)
    assert (width, height) == page.size and variety > 40, f"{path}: {width}x{height}, {variety} byte values"
    return path


def send(http: httpx.Client, number: str, text: str, u: str = DEMO_U) -> str:
    """A mensagem send; its protocol."""
    answer = http.get("/sms/send", params={"u": u, "n": number, "m": text}).text
    assert answer.startswith("1;"), answer
    return answer.split(";")[1]


def cells(page: Browser) -> list[list[str]]:
    """The message list as a person reads it: each row's cells."""
    return page.js(f"[...document.querySelectorAll('{ROWS}')].map(tr => [...tr.cells].map(td => td.textContent))")


@pytest.fixture
def page() -> Iterator[Browser]:
    with Browser() as browser:
        yield browser
