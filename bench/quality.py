#!/usr/bin/env python3
"""PSNR of server outputs against a full-resolution reference resize (run by bench/run.py with
the thumbor venv's Python, which has Pillow; numpy is installed next to it).

    quality.py MANIFEST.json   ->  prints {"label|server": mean_psnr_db, ...}

MANIFEST lists [label, server, source_path, output_path]. The reference is the source decoded
at full size and resized with Lanczos to the output's exact dimensions in floating point, colour
premultiplied by alpha (Pillow's 32-bit float mode, one channel at a time); output and reference
are composited onto white and onto black (transparent pixels count by what a page shows, on a
light page and on a dark one) and compared on RGB, the reference rounded to 8 bits; the score is
the PSNR of the two backgrounds' mean squared error. Scores are capped at 99 dB (identical).

Why both backgrounds: white art over alpha (most of the benchmark's PNGs and WebPs) is white on a
white page whatever its alpha, so a white-only score could not see alpha errors at all (an
output with its alpha posterised to 11 levels scored within 0.1 dB of an exact one). Until
2026-12-05 (second run) the score used white only.

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


def rgb_on(im, level):
    """`im` composited on a grey `level` (0 black, 255 white), as 0..255 floats."""
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, (level, level, level, 255))
    return np.asarray(Image.alpha_composite(bg, im).convert("RGB"), dtype=np.float64)


def reference_on(source, size, level):
    """The exact resize of `source` to `size`, composited on grey `level`, in 0..255 floats."""
    rgba = np.asarray(Image.open(source).convert("RGBA"), dtype=np.float32) / 255.0
    alpha = rgba[..., 3]
    planes = [rgba[..., i] * alpha for i in range(3)] + [alpha]
    resized = [
        np.asarray(Image.fromarray(p, mode="F").resize(size, Image.Resampling.LANCZOS))
        for p in planes
    ]
    a = np.clip(resized[3], 0.0, 1.0)
    # Premultiplied colour over the background: c + (1 - a) * bg.
    bg = level / 255.0
    rgb = np.stack([np.clip(resized[i], 0.0, None) + (1.0 - a) * bg for i in range(3)], axis=-1)
    return np.round(np.clip(rgb, 0.0, 1.0) * 255.0)


def psnr(source, output):
    out = Image.open(output)
    out.load()
    mse = np.mean([np.mean((reference_on(source, out.size, level) - rgb_on(out, level)) ** 2)
                   for level in (255, 0)])
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
