#!/usr/bin/env python3
"""Makes the PyTorch fixtures of NoiseLab's import tests (test/fixtures/torch/).

Run with Debian's python3-torch (1.13) and torchvision:
    /usr/bin/python3 scripts/make-torch-fixtures.py            # the committed fixtures
    /usr/bin/python3 scripts/make-torch-fixtures.py --full-resnet50 /tmp/resnet50.pth
                                                             # a full-size torchvision ResNet-50, random
                                                             # weights (for timing; do not commit it)

Fixtures (random weights, fixed seeds):
  smallalexnet-micro.pth / .safetensors  the paper's SmallAlexNet layout (blocks.N.M.*) at 32 px
                                         with narrow widths, so the file stays small; the .pth under
                                         'state_dict' with 'module.' (DataParallel) prefixes
  resnet50-w8.pth / .safetensors         torchvision's ResNet-50 names and topology at width 1/8; the
                                         .pth as MoCo v2 saves it: {'epoch', 'arch', 'state_dict'} with
                                         'module.encoder_q.' and 'module.encoder_k.' keys and an MLP fc
  dtypes.pth                             float16, bfloat16, float64 and a non-contiguous (transposed) tensor
  hostile-os-system.pth                  a valid zip whose pickle asks to call os.system (must be refused)
  expected.json                          outputs of the fixture models for inputs(n, c, h, w) below

safetensors is written by hand (8-byte little-endian header length, JSON header, raw bytes), so
the script needs no safetensors package.
"""
import argparse
import json
import math
import os
import struct
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, '..', 'test', 'fixtures', 'torch')


class L2Norm(nn.Module):
    def forward(self, x):
        return x / x.norm(p=2, dim=1, keepdim=True)


def small_alexnet(channels, fc_width, embedding_dim, input_size):
    """The paper's SmallAlexNet layout: blocks of nn.Sequential in an nn.ModuleList."""
    def pooled(n):
        return (n - 3) // 2 + 1
    side = pooled(pooled(pooled(input_size)))
    blocks, inputs = [], 3
    for index, width in enumerate(channels):
        layers = [nn.Conv2d(inputs, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
        if index in (0, 1, 4):
            layers.append(nn.MaxPool2d(3, 2))
        blocks.append(nn.Sequential(*layers))
        inputs = width
    blocks.append(nn.Sequential(nn.Flatten(), nn.Linear(channels[4] * side * side, fc_width, bias=False),
                                nn.BatchNorm1d(fc_width), nn.ReLU(inplace=True)))
    blocks.append(nn.Sequential(nn.Linear(fc_width, fc_width, bias=False), nn.BatchNorm1d(fc_width), nn.ReLU(inplace=True)))
    blocks.append(nn.Sequential(nn.Linear(fc_width, embedding_dim), L2Norm()))
    module = nn.Module()
    module.blocks = nn.ModuleList(blocks)
    return module


def run_blocks(module, x, last):
    for block in module.blocks[:last + 1]:
        x = block(x)
    return x if x.ndim == 2 else x.mean(dim=(2, 3))


class Bottleneck(nn.Module):
    def __init__(self, inputs, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(inputs, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(width * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or inputs != width * 4:
            self.downsample = nn.Sequential(nn.Conv2d(inputs, width * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(width * 4))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return self.relu(y + (self.downsample(x) if self.downsample is not None else x))


class ResNet50(nn.Module):
    """torchvision's ResNet-50 (v1.5) names and topology with every width divided by `divisor`."""
    def __init__(self, divisor=1):
        super().__init__()
        stem = 64 // divisor
        self.conv1 = nn.Conv2d(3, stem, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inputs = stem
        for stage, (blocks, width) in enumerate(zip([3, 4, 6, 3], [64, 128, 256, 512])):
            width //= divisor
            layer = []
            for b in range(blocks):
                layer.append(Bottleneck(inputs, width, 2 if stage > 0 and b == 0 else 1))
                inputs = width * 4
            setattr(self, f'layer{stage + 1}', nn.Sequential(*layer))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inputs, 1000 if divisor == 1 else 10)  # a small head keeps the fixture small

    def features(self, x, last='avgpool'):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in range(1, 5):
            x = getattr(self, f'layer{stage}')(x)
            if last == f'layer{stage}':
                break
        return x.mean(dim=(2, 3))


def randomise_batch_norm(module, generator):
    """Running statistics and affine parameters away from their defaults, so the import must map them."""
    for m in module.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=generator)
            m.bias.data = 0.2 * torch.randn(n, generator=generator)
            m.running_mean.data = 0.1 * torch.randn(n, generator=generator)
            m.running_var.data = 0.5 + torch.rand(n, generator=generator)
            m.num_batches_tracked.fill_(7)


def inputs(count, size):
    """inputs(n, c, h, w) = sin(0.05·h + 0.09·w + 1.3·c + 0.7·n)·1.5; the tests compute the same."""
    n = torch.arange(count, dtype=torch.float64).view(-1, 1, 1, 1)
    c = torch.arange(3, dtype=torch.float64).view(1, -1, 1, 1)
    h = torch.arange(size, dtype=torch.float64).view(1, 1, -1, 1)
    w = torch.arange(size, dtype=torch.float64).view(1, 1, 1, -1)
    return (torch.sin(0.05 * h + 0.09 * w + 1.3 * c + 0.7 * n) * 1.5).float()


DTYPES = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64', torch.int64: 'I64'}


def save_safetensors(tensors, path, metadata=None):
    header, offset, chunks = {}, 0, []
    if metadata:
        header['__metadata__'] = metadata
    for name, tensor in tensors.items():
        tensor = tensor.detach().contiguous()
        raw = tensor.view(torch.int16).numpy().tobytes() if tensor.dtype == torch.bfloat16 else tensor.numpy().tobytes()
        header[name] = {'dtype': DTYPES[tensor.dtype], 'shape': list(tensor.shape), 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    encoded = json.dumps(header, separators=(',', ':')).encode()
    encoded += b' ' * ((8 - (8 + len(encoded)) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(encoded)))
        f.write(encoded)
        for raw in chunks:
            f.write(raw)


def rounded(t):
    return [round(float(v), 7) for v in t.flatten()]


class Hostile:
    def __reduce__(self):
        return (os.system, ('echo pwned > noiselab-pwned.txt',))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--full-resnet50', metavar='FILE', help='write a full-size torchvision ResNet-50 (random weights) and exit')
    args = parser.parse_args()
    if args.full_resnet50:
        import torchvision
        torch.manual_seed(0)
        model = torchvision.models.resnet50()
        ours = set(ResNet50().state_dict().keys())
        assert ours == set(model.state_dict().keys()), 'the fixture ResNet-50 must use torchvision names'
        torch.save(model.state_dict(), args.full_resnet50)
        print(f'wrote {args.full_resnet50} ({os.path.getsize(args.full_resnet50) / 2**20:.1f} MiB)')
        return

    os.makedirs(OUT, exist_ok=True)
    generator = torch.Generator().manual_seed(15)
    expected = {'inputs': 'sin(0.05*h + 0.09*w + 1.3*c + 0.7*n) * 1.5, NCHW, already normalised'}

    # SmallAlexNet, narrow widths at 32 px (conv5 map 3x3).
    torch.manual_seed(1)
    spec = {'channels': [8, 16, 16, 16, 8], 'fcWidth': 32, 'embeddingDim': 16, 'inputSize': 32}
    alex = small_alexnet(spec['channels'], spec['fcWidth'], spec['embeddingDim'], spec['inputSize'])
    for m in alex.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.normal_(m.weight, 0, 0.2)
            if m.bias is not None:
                nn.init.normal_(m.bias, 0, 0.1)
    randomise_batch_norm(alex, generator)
    alex.eval()
    x = inputs(3, spec['inputSize'])
    with torch.no_grad():
        expected['smallalexnet'] = {
            'spec': spec, 'count': 3,
            'fc8': rounded(run_blocks(alex, x, 7)),
            'fc6': rounded(run_blocks(alex, x, 5)),
            'conv3': rounded(run_blocks(alex, x, 2)),
        }
    state = alex.state_dict()
    torch.save({'state_dict': {f'module.{k}': v for k, v in state.items()}, 'epoch': 200}, os.path.join(OUT, 'smallalexnet-micro.pth'))
    save_safetensors(state, os.path.join(OUT, 'smallalexnet-micro.safetensors'))

    # ResNet-50 at width 1/8, 224 px, MoCo v2 layout.
    torch.manual_seed(2)
    resnet = ResNet50(divisor=8)
    randomise_batch_norm(resnet, generator)
    resnet.eval()
    x = inputs(2, 224)
    with torch.no_grad():
        expected['resnet50'] = {
            'stemWidth': 8, 'widths': [8, 16, 32, 64], 'inputSize': 224, 'count': 2,
            'avgpool': rounded(resnet.features(x)),
            'layer3': rounded(resnet.features(x, 'layer3')),
        }
    encoder = {k: v for k, v in resnet.state_dict().items() if not k.startswith('fc.')}
    moco = {f'module.encoder_q.{k}': v for k, v in encoder.items()}
    moco['module.encoder_q.fc.0.weight'] = torch.randn(64, 256)
    moco['module.encoder_q.fc.0.bias'] = torch.zeros(64)
    moco['module.encoder_q.fc.2.weight'] = torch.randn(16, 64)
    moco['module.encoder_q.fc.2.bias'] = torch.zeros(16)
    moco['module.encoder_k.conv1.weight'] = encoder['conv1.weight'].clone()
    moco['module.queue'] = torch.randn(16, 32)
    moco['module.queue_ptr'] = torch.zeros(1, dtype=torch.long)
    torch.save({'epoch': 200, 'arch': 'resnet50', 'state_dict': moco}, os.path.join(OUT, 'resnet50-w8.pth'))
    save_safetensors(resnet.state_dict(), os.path.join(OUT, 'resnet50-w8.safetensors'), {'format': 'pt'})

    # Element types and strides.
    base = torch.arange(12, dtype=torch.float32).view(3, 4) / 8 - 0.6
    dtypes = {
        'half': base.half(),
        'bfloat16': base.bfloat16(),
        'double': base.double(),
        'transposed': base.t(),              # strides (1, 4): non-contiguous
        'sliced': base[1:, ::2],             # offset 4, strides (4, 2)
        'steps': torch.tensor(5, dtype=torch.long),
    }
    torch.save(dtypes, os.path.join(OUT, 'dtypes.pth'))
    expected['dtypes'] = {name: {'shape': list(t.shape), 'values': rounded(t.float())} for name, t in dtypes.items()}

    torch.save({'conv1.weight': torch.zeros(1), 'payload': Hostile()}, os.path.join(OUT, 'hostile-os-system.pth'))

    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump(expected, f)
    for name in sorted(os.listdir(OUT)):
        print(f'{name}: {os.path.getsize(os.path.join(OUT, name))} bytes')


if __name__ == '__main__':
    sys.exit(main())
