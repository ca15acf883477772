"""PyTorch builds of the example networks in examples/*.ocular, as the reference for Ocular's numbers.

Each network is written in plain torch.nn, layer for layer as its .ocular file declares it. A forward
hook on every leaf module records, in call order, the module's type, the shape of its output for one
image (batch dimension dropped) and its own parameter count. The script prints one JSON object:

    {"torchvision": "0.14.1" or null,
     "models": {"ResNet18": {"input": [3, 224, 224], "total_params": 11181642,
                             "leaves": [{"name": "conv1", "type": "Conv2d", "shape": [64, 112, 112],
                                         "params": 9408, "shortcut": false}, ...]}, ...}}

Leaves inside a residual's projection shortcut (torchvision's `downsample`) carry "shortcut": true,
because Ocular counts them as the residual's own parameters rather than as layers of their own.

Run it with Debian's interpreter, which is the one that has python3-torch:
    /usr/bin/python3 test/reference/torch_models.py
test/reference/torch.test.ts runs it and compares the output with analyze() of each example.
"""

import json
import sys

import torch
from torch import nn

CLASSES = 10


def simple_cnn(size, dropout):
    """The tutorial's SimpleCNN (examples/simple_cnn_224.ocular and simple_cnn_cifar.ocular)."""
    flat = 64 * (size // 4) * (size // 4)
    head = [nn.Linear(flat, 512), nn.ReLU()]
    if dropout:
        head.append(nn.Dropout(0.5))
    return nn.Sequential(
        nn.Conv2d(3, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        *head,
        nn.Linear(512, CLASSES),
    )


def digits_cnn():
    """The small CNN of examples/digits.ocular for 1x8x8 handwritten digits."""
    return nn.Sequential(
        nn.Conv2d(1, 16, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, kernel_size=3, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(32 * 4 * 4, 64),
        nn.ReLU(),
        nn.Linear(64, CLASSES),
    )


class BasicBlock(nn.Module):
    """torchvision's ResNet BasicBlock, with the same attribute names so that state dicts match.

    Like torchvision's, it calls one ReLU module twice, so the hook sees it once after the first
    batchnorm and once after the addition, which is where examples/resnet18.ocular puts its relus.
    """

    def __init__(self, inplanes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNet18(nn.Module):
    """torchvision's resnet18, written out so the reference does not depend on torchvision.

    The one difference is an nn.Flatten module where torchvision calls torch.flatten, so that the
    flatten line of the .ocular file has a leaf to compare with; it has no parameters.
    """

    def __init__(self, num_classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = nn.Sequential(BasicBlock(64, 64), BasicBlock(64, 64))
        self.layer2 = nn.Sequential(BasicBlock(64, 128, 2), BasicBlock(128, 128))
        self.layer3 = nn.Sequential(BasicBlock(128, 256, 2), BasicBlock(256, 256))
        self.layer4 = nn.Sequential(BasicBlock(256, 512, 2), BasicBlock(512, 512))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(self.flatten(self.avgpool(x)))


def dwsep(inplanes, planes, stride):
    """The dwsep block of examples/mobilenet_small.ocular: depthwise 3x3, then pointwise 1x1."""
    return nn.Sequential(
        nn.Conv2d(inplanes, inplanes, kernel_size=3, stride=stride, padding=1, groups=inplanes, bias=False),
        nn.BatchNorm2d(inplanes),
        nn.ReLU(),
        nn.Conv2d(inplanes, planes, kernel_size=1, bias=False),
        nn.BatchNorm2d(planes),
        nn.ReLU(),
    )


def mobilenet_small():
    """examples/mobilenet_small.ocular, including its `repeat 2 { dwsep 512 }`."""
    plan = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2), (512, 512, 1), (512, 512, 1), (512, 1024, 2)]
    return nn.Sequential(
        nn.Conv2d(3, 32, kernel_size=3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(32),
        nn.ReLU(),
        *[dwsep(i, o, s) for i, o, s in plan],
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(1024, CLASSES),
    )


def record(model, input_shape):
    """Runs one image through the model and returns its leaf layers in the order they ran."""
    leaves = []
    names = {module: name for name, module in model.named_modules()}

    def hook(module, _inputs, output):
        name = names[module]
        leaves.append({
            "name": name,
            "type": type(module).__name__,
            "shape": list(output.shape[1:]),
            "params": sum(p.numel() for p in module.parameters()),
            "shortcut": ".downsample." in f".{name}.",
        })

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape))
    for handle in handles:
        handle.remove()
    return {"input": list(input_shape), "total_params": sum(p.numel() for p in model.parameters()), "leaves": leaves}


def check_against_torchvision(resnet):
    """Checks the hand-written ResNet18 against torchvision's, when torchvision is installed.

    Loading torchvision's weights with strict=True proves the same parameters under the same names,
    and equal outputs on a random image prove the same computation. Returns torchvision's version,
    or None when it is not installed.
    """
    try:
        import torchvision
    except ImportError:
        return None
    reference = torchvision.models.resnet18(num_classes=CLASSES).eval()
    resnet.load_state_dict(reference.state_dict(), strict=True)
    image = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        if not torch.allclose(resnet.eval()(image), reference(image), atol=1e-5):
            sys.exit("The hand-written ResNet18 computes something else than torchvision's resnet18.")
    return torchvision.__version__


def main():
    torch.manual_seed(0)
    resnet = ResNet18(CLASSES)
    torchvision_version = check_against_torchvision(resnet)
    models = {
        "SimpleCNN": record(simple_cnn(224, dropout=False), (3, 224, 224)),
        "SimpleCNN32": record(simple_cnn(32, dropout=True), (3, 32, 32)),
        "ResNet18": record(resnet, (3, 224, 224)),
        "MobileNetSmall": record(mobilenet_small(), (3, 96, 96)),
        "DigitsCNN": record(digits_cnn(), (1, 8, 8)),
    }
    json.dump({"torch": torch.__version__, "torchvision": torchvision_version, "models": models}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
