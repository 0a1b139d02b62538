"""Draw the brand images of the integration (nothing downloaded, nothing hand-made).

    $PY script/brand.py [BRAND_DIR]      (default: custom_components/open_music_box/brand)

Writes icon.png (256 x 256), icon@2x.png (512 x 512) and logo.png (256 high: the icon and the
name), the sizes Home Assistant's brands use. A music box: an open box with a crank, a note
rising from it, on a rounded square. Drawn with Pillow (a dependency of Home Assistant) at four
times the size and scaled down, so edges are smooth. tests/test_packaging.py checks that the
committed files are what this script draws.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
BRAND = ROOT / "custom_components" / "open_music_box" / "brand"
SUPERSAMPLE = 4
BACKGROUND = (14, 124, 134, 255)  # teal
BOX = (255, 244, 214, 255)  # warm white
INK = (40, 40, 48, 255)
NAME = "Open Music Box"

Color = tuple[int, int, int, int]


def _box(x0: float, y0: float, x1: float, y1: float, unit: float) -> list[float]:
    return [x0 * unit, y0 * unit, x1 * unit, y1 * unit]


def icon(size: int) -> Image.Image:
    """The icon, `size` pixels square (drawn on a 100-unit grid)."""
    big = size * SUPERSAMPLE
    unit = big / 100
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(_box(0, 0, 100, 100, unit), radius=22 * unit, fill=BACKGROUND)
    # The open lid, tilted back, and the box.
    draw.polygon(
        [
            (20 * unit, 52 * unit),
            (30 * unit, 34 * unit),
            (76 * unit, 34 * unit),
            (80 * unit, 52 * unit),
        ],
        fill=BOX,
    )
    draw.rounded_rectangle(_box(16, 54, 84, 84, unit), radius=4 * unit, fill=BOX)
    draw.rectangle(_box(16, 61, 84, 64, unit), fill=BACKGROUND)  # the band under the lid
    # The crank on the right side.
    draw.rectangle(_box(84, 66, 90, 69, unit), fill=BOX)
    draw.rounded_rectangle(_box(88, 66, 92, 78, unit), radius=2 * unit, fill=BOX)
    # An eighth note rising from the box.
    draw.ellipse(_box(38, 38, 50, 47, unit), fill=INK)
    draw.rectangle(_box(47, 14, 50, 43, unit), fill=INK)
    draw.polygon(
        [
            (50 * unit, 14 * unit),
            (62 * unit, 22 * unit),
            (62 * unit, 28 * unit),
            (50 * unit, 21 * unit),
        ],
        fill=INK,
    )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def logo(height: int) -> Image.Image:
    """The icon and the name beside it, `height` pixels high, on a transparent background."""
    mark = icon(height)
    font = ImageFont.load_default(size=round(height * 0.36))
    gap = round(height * 0.12)
    left, top, right, bottom = font.getbbox(NAME)
    width = height + gap + (right - left) + gap
    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    image.alpha_composite(mark, (0, 0))
    draw = ImageDraw.Draw(image)
    text_y = (height - (bottom - top)) // 2 - top
    draw.text((height + gap - left, text_y), NAME, font=font, fill=BACKGROUND)
    return image


def images() -> dict[str, Image.Image]:
    """Every brand image, by file name."""
    return {"icon.png": icon(256), "icon@2x.png": icon(512), "logo.png": logo(256)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("brand", nargs="?", type=Path, default=BRAND)
    args = parser.parse_args()
    folder: Path = args.brand
    folder.mkdir(parents=True, exist_ok=True)
    for name, image in images().items():
        image.save(folder / name, optimize=True)
        print(f"brand: {folder / name} ({image.width} x {image.height})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
