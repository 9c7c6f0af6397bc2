/**
 * The `noiselab_encoder.py` written beside an exported encoder: a self-contained PyTorch module
 * with the names NoiseLab's export uses (the paper's SmallAlexNet, torchvision's ResNet-50
 * without its fc head), a safetensors reader for machines without the `safetensors` package, and
 * `load(folder)`. Kept as text here so the app bundle carries it; the round-trip test runs it.
 */
export const pytorchModuleSource = `"""NoiseLab encoder for PyTorch, written by NoiseLab's "Export for PyTorch".

    import noiselab_encoder
    model = noiselab_encoder.load('path/to/export')   # eval mode
    x = noiselab_encoder.preprocess(images)          # float [N, 3, H, W] in [0, 1] -> normalised
    embedding = model(x)                              # the encoder's output
    features = model(x, layer='fc6')                  # or any layer in config.json "layers"

or, with the safetensors package:
    model = noiselab_encoder.build(json.load(open('config.json')))
    model.load_state_dict(safetensors.torch.load_file('encoder.safetensors'))
"""
import json
import os
import struct

import torch
import torch.nn as nn

__all__ = ['SmallAlexNet', 'ResNet50Encoder', 'build', 'load', 'load_safetensors', 'preprocess']


class L2Norm(nn.Module):
    def forward(self, x):
        return x / x.norm(p=2, dim=1, keepdim=True)


class SmallAlexNet(nn.Module):
    """The paper's encoder (align_uniform/encoder.py layout): blocks.0-4 conv, 5-6 fc, 7 fc8 + L2 norm."""

    layers = ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'fc6', 'fc7', 'fc8']

    def __init__(self, channels=(96, 192, 384, 384, 192), fc_width=4096, embedding_dim=128, input_size=64):
        super().__init__()
        side = input_size
        for _ in range(3):
            side = (side - 3) // 2 + 1
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
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x, layer='fc8'):
        for block in self.blocks[:self.layers.index(layer) + 1]:
            x = block(x)
        return x.mean(dim=(2, 3)) if x.ndim == 4 else x


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
        return self.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet50Encoder(nn.Module):
    """torchvision's ResNet-50 names (conv1, bn1, layer1-4) without fc; the output is avgpool."""

    layers = ['layer1', 'layer2', 'layer3', 'layer4', 'avgpool']

    def __init__(self, stem_width=64, widths=(64, 128, 256, 512)):
        super().__init__()
        self.conv1 = nn.Conv2d(3, stem_width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        inputs = stem_width
        for stage, (blocks, width) in enumerate(zip([3, 4, 6, 3], widths)):
            stage_blocks = []
            for b in range(blocks):
                stage_blocks.append(Bottleneck(inputs, width, 2 if stage > 0 and b == 0 else 1))
                inputs = width * 4
            setattr(self, f'layer{stage + 1}', nn.Sequential(*stage_blocks))

    def forward(self, x, layer='avgpool'):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in range(1, 5):
            x = getattr(self, f'layer{stage}')(x)
            if layer == f'layer{stage}':
                break
        return x.mean(dim=(2, 3))


def build(config):
    """The module described by config.json (weights not loaded)."""
    arch = config['architecture']
    if arch['kind'] == 'smallalexnet':
        return SmallAlexNet(arch['channels'], arch['fcWidth'], arch['embeddingDim'], arch['inputSize'])
    if arch['kind'] == 'resnet50':
        return ResNet50Encoder(arch['stemWidth'], arch['widths'])
    raise ValueError(f"unknown architecture {arch['kind']!r}")


_DTYPES = {'F32': torch.float32, 'F16': torch.float16, 'BF16': torch.bfloat16, 'F64': torch.float64, 'I64': torch.int64}


def load_safetensors(path):
    """safetensors.torch.load_file, for machines without the safetensors package."""
    try:
        from safetensors.torch import load_file
        return load_file(path)
    except ImportError:
        pass
    with open(path, 'rb') as f:
        (length,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == '__metadata__':
            continue
        begin, end = entry['data_offsets']
        flat = torch.frombuffer(bytearray(data[begin:end]), dtype=_DTYPES[entry['dtype']])
        tensors[name] = flat.reshape(entry['shape']).clone()
    return tensors


def load(folder):
    """The exported encoder of \`folder\` (config.json + encoder.safetensors), in eval mode."""
    with open(os.path.join(folder, 'config.json')) as f:
        config = json.load(f)
    model = build(config)
    model.load_state_dict(load_safetensors(os.path.join(folder, config['weights'])))
    model.config = config
    return model.eval()


def preprocess(images, config):
    """Normalises float images [N, 3, H, W] in [0, 1] with the encoder's statistics (config.json)."""
    mean = torch.tensor(config['normalisation']['mean'], dtype=images.dtype).view(1, 3, 1, 1)
    std = torch.tensor(config['normalisation']['std'], dtype=images.dtype).view(1, 3, 1, 1)
    return (images - mean) / std
`;
