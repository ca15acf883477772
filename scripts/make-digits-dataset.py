#!/usr/bin/python3
"""Writes examples/data/digits: scikit-learn's copy of the UCI handwritten digits as an ImageFolder.

The examples train on it without a download. Debian's python3-sklearn ships the data as
sklearn/datasets/data/digits.csv.gz: 1,797 rows of 64 pixel values (0-16) and the digit. Each
image is written as an 8x8 grayscale PNG with the values scaled to 0-255, nothing resized, so the
files stay a few hundred bytes. The split is fixed (every fifth image of a digit goes to val) so
that rerunning the script gives the same files.

Usage: /usr/bin/python3 scripts/make-digits-dataset.py [path/to/digits.csv.gz]
Only the standard library is used: PNG is written with zlib and struct.
"""
import csv
import gzip
import os
import shutil
import struct
import sys
import zlib

SOURCE = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz'
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'examples', 'data', 'digits')


def png(width, height, rows):
    """A grayscale 8-bit PNG; each row is a bytes object of `width` pixels."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack('>I', len(data)) + body + struct.pack('>I', zlib.crc32(body) & 0xFFFFFFFF)
    header = struct.pack('>IIBBBBB', width, height, 8, 0, 0, 0, 0)
    # Filter type 0 (none) before every row.
    raw = b''.join(b'\x00' + row for row in rows)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', header) + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b'')


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else SOURCE
    with gzip.open(source, 'rt', newline='') as f:
        rows = [[int(float(v)) for v in row] for row in csv.reader(f) if row]
    # Start from an empty tree so that a changed split leaves no stale files behind.
    for split in ('train', 'val'):
        shutil.rmtree(os.path.join(ROOT, split), ignore_errors=True)
    seen = [0] * 10
    written = {'train': 0, 'val': 0}
    for row in rows:
        pixels, digit = row[:64], row[64]
        n = seen[digit]
        seen[digit] += 1
        split = 'val' if n % 5 == 4 else 'train'
        folder = os.path.join(ROOT, split, str(digit))
        os.makedirs(folder, exist_ok=True)
        scaled = bytes(round(v * 255 / 16) for v in pixels)
        with open(os.path.join(folder, f'{n}.png'), 'wb') as out:
            out.write(png(8, 8, [scaled[y * 8:(y + 1) * 8] for y in range(8)]))
        written[split] += 1
    print(f"wrote {written['train']} training and {written['val']} validation images under {os.path.normpath(ROOT)}")


if __name__ == '__main__':
    main()
