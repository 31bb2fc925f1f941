#!/usr/bin/env python3
"""PyTorch peer for `./dino4j bench vit`: the same DINOv3 ViT forward (patch conv, CLS + storage tokens,
RoPE on patch tokens, pre-norm blocks with LayerScale, exact GELU), eval mode, timed the same way.
Not part of the product: it only measures the peer. Usage: torch_vit.py MODEL BATCH SIZE REPS THREADS"""
import math, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

CFG = {"vits16": (384, 12, 6), "vitb16": (768, 12, 12), "vitl16": (1024, 24, 16)}

def rope_table(h, w, head_dim, base=100.0):
    periods = base ** (torch.arange(head_dim // 4, dtype=torch.float32) * 4 / head_dim)
    cy = 2 * ((torch.arange(h) + 0.5) / h) - 1
    cx = 2 * ((torch.arange(w) + 0.5) / w) - 1
    coords = torch.stack(torch.meshgrid(cy, cx, indexing="ij"), -1).reshape(-1, 2)
    ang = 2 * math.pi * coords[:, :, None] / periods[None, None, :]
    ang = ang.flatten(1).tile(2)
    return torch.sin(ang), torch.cos(ang)

def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)

class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d, eps=1e-5), nn.LayerNorm(d, eps=1e-5)
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.fc1, self.fc2 = nn.Linear(d, 4 * d), nn.Linear(4 * d, d)
        self.g1, self.g2 = nn.Parameter(torch.full((d,), 1e-5)), nn.Parameter(torch.full((d,), 1e-5))

    def attn(self, x, sin, cos, prefix):
        b, n, d = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        qp, kp = q[:, :, prefix:], k[:, :, prefix:]
        q = torch.cat((q[:, :, :prefix], qp * cos + rotate_half(qp) * sin), 2)
        k = torch.cat((k[:, :, :prefix], kp * cos + rotate_half(kp) * sin), 2)
        if x.is_cuda and hasattr(F, "scaled_dot_product_attention"):  # the official model's fused path
            o = F.scaled_dot_product_attention(q, k, v)
        else:  # torch 1.13 (Debian) has no SDPA
            a = (q @ k.transpose(-1, -2)) * (q.shape[-1] ** -0.5)
            o = a.softmax(-1) @ v
        return self.proj(o.transpose(1, 2).reshape(b, n, d))

    def forward(self, x, sin, cos, prefix):
        x = x + self.g1 * self.attn(self.norm1(x), sin, cos, prefix)
        return x + self.g2 * self.fc2(F.gelu(self.fc1(self.norm2(x))))

class ViT(nn.Module):
    def __init__(self, d, depth, heads):
        super().__init__()
        self.patch = nn.Conv2d(3, d, 16, 16)
        self.cls, self.reg = nn.Parameter(torch.zeros(1, 1, d)), nn.Parameter(torch.zeros(1, 4, d))
        self.blocks = nn.ModuleList(Block(d, heads) for _ in range(depth))
        self.norm, self.head_dim = nn.LayerNorm(d, eps=1e-5), d // heads

    def forward(self, x):
        p = self.patch(x)
        h, w = p.shape[-2:]
        t = torch.cat((self.cls.expand(x.shape[0], -1, -1), self.reg.expand(x.shape[0], -1, -1), p.flatten(2).transpose(1, 2)), 1)
        sin, cos = (t.to(x.device) for t in rope_table(h, w, self.head_dim))
        for blk in self.blocks:
            t = blk(t, sin, cos, 5)
        return self.norm(t)

def main():
    model, batch, size, reps, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = ViT(*CFG[model]).eval()
    x = torch.randn(batch, 3, size, size)
    times = []
    with torch.no_grad():
        m(x)  # warm-up
        for _ in range(reps):
            t0 = time.perf_counter(); m(x); times.append(time.perf_counter() - t0)
    times.sort()
    print(f"torch {torch.__version__} threads={threads} median {times[len(times)//2]:.4f} s best {times[0]:.4f} s "
          f"imgs/s {batch / times[len(times)//2]:.2f}")

if __name__ == "__main__":
    main()
