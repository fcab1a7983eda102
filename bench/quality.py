#!/usr/bin/env python3
"""PSNR of server outputs against a full-resolution reference resize (run by bench/run.py with
the thumbor venv's Python, which has Pillow; numpy is installed next to it).

    quality.py MANIFEST.json   ->  prints {"label|server": mean_psnr_db, ...}

MANIFEST lists [label, server, source_path, output_path]. The reference is the source decoded
at full size and resized with Lanczos to the output's exact dimensions in floating point, colour
premultiplied by alpha (Pillow's 32-bit float mode, one channel at a time); output and reference
are composited onto white (transparent pixels count by what a page shows) and compared on RGB,
the reference rounded to 8 bits. Scores are capped at 99 dB (identical images).

Why floating point: an 8-bit reference (Pillow's own RGBA resize, used until 2026-12-05) carries
Pillow's rounding of premultiplied colour, so thumbor, which resizes with Pillow, matched it
exactly where low alpha makes that rounding large, and every other server was scored on how
closely it reproduced Pillow's rounding rather than the image.
"""

import json
import math
import sys

import numpy as np
from PIL import Image


def rgb_on_white(im):
    im = im.convert("RGBA")
    white = Image.new("RGBA", im.size, (255, 255, 255, 255))
    return np.asarray(Image.alpha_composite(white, im).convert("RGB"), dtype=np.float64)


def reference_on_white(source, size):
    """The exact resize of `source` to `size`, composited on white, in 0..255 floats."""
    rgba = np.asarray(Image.open(source).convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    planes = [rgba[..., i] * alpha for i in range(3)] + [alpha]
    resized = [
        np.asarray(Image.fromarray(p, mode="F").resize(size, Image.Resampling.LANCZOS))
        for p in planes
    ]
    a = np.clip(resized[3], 0.0, 1.0)
    # Premultiplied colour over white: c + (1 - a) * 1.
    rgb = np.stack([np.clip(resized[i], 0.0, None) + (1.0 - a) for i in range(3)], axis=-1)
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0)


def psnr(source, output):
    out = Image.open(output)
    out.load()
    mse = np.mean((reference_on_white(source, out.size) - rgb_on_white(out)) ** 2)
    return 99.0 if mse == 0 else min(99.0, 10 * math.log10(255.0 ** 2 / mse))


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    scores = {}
    for label, server, source, output in manifest:
        scores.setdefault(f"{label}|{server}", []).append(psnr(source, output))
    print(json.dumps({k: sum(v) / len(v) for k, v in scores.items()}))


if __name__ == "__main__":
    main()
