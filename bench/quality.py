#!/usr/bin/env python3
"""PSNR of server outputs against a full-resolution reference resize (run by bench/run.py with
the thumbor venv's Python, which has Pillow; numpy is installed next to it).

    quality.py MANIFEST.json   ->  prints {"label|server": mean_psnr_db, ...}

MANIFEST lists [label, server, source_path, output_path]. The reference is the source decoded
at full size and resized with Lanczos to the output's exact dimensions; both are composited
onto white (transparent pixels count by what a page shows) and compared on RGB.
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


def psnr(source, output):
    out = Image.open(output)
    out.load()
    ref = Image.open(source)
    ref.load()
    ref = ref.convert("RGBA").resize(out.size, Image.Resampling.LANCZOS)
    mse = np.mean((rgb_on_white(ref) - rgb_on_white(out)) ** 2)
    return 99.0 if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def main():
    with open(sys.argv[1]) as f:
        manifest = json.load(f)
    scores = {}
    for label, server, source, output in manifest:
        scores.setdefault(f"{label}|{server}", []).append(psnr(source, output))
    print(json.dumps({k: sum(v) / len(v) for k, v in scores.items()}))


if __name__ == "__main__":
    main()
