"""The reference for bench/data.ts: torchvision's ImageFolder with PIL decoding, read through a
DataLoader with 2 worker processes, as the PyTorch tutorial does. Prints one JSON line."""
import json
import sys
import time

import torch
from torchvision import datasets, transforms


def main() -> None:
    root, size = sys.argv[1], int(sys.argv[2])
    start = time.perf_counter()
    dataset = datasets.ImageFolder(root, transform=transforms.Compose([transforms.Resize((size, size)), transforms.PILToTensor()]))
    listed = time.perf_counter() - start
    loader = torch.utils.data.DataLoader(dataset, batch_size=256, num_workers=2)
    start = time.perf_counter()
    count = 0
    for images, labels in loader:
        count += len(labels)
    decode = time.perf_counter() - start
    print(json.dumps({"images": count, "list_s": listed, "decode_s": decode, "decode_per_s": count / decode}))


if __name__ == "__main__":
    main()
