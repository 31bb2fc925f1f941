#!/usr/bin/env python3
"""PyTorch peer of the GPU check (bench/gpu/check.sh): times, on the same GPU, the shapes our Java check
times — GEMM (fp32, tf32, bf16), fused scaled-dot-product attention forward/backward, the Gram loss,
Sinkhorn-Knopp, and one ViT-S/16 training step (the model of bench/peers/torch_vit.py with a linear head,
cross-entropy and AdamW). Not part of the product: it only measures the peer.
Usage: torch_peer.py OUT.json [--quick]"""
import json, math, os, sys, time
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
from torch_vit import ViT, CFG  # noqa: E402

dev = torch.device("cuda")
res = {"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "cuda": torch.version.cuda}


QUICK = "--quick" in sys.argv


def timed(fn, reps=20, warm=3):
    if QUICK:
        reps, warm = min(reps, 5), min(warm, 2)
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); b.synchronize()
        ts.append(a.elapsed_time(b))
    ts.sort()
    return ts[len(ts) // 2]  # median ms


def gemm():
    out = {}
    shapes = [(2048, 2048, 2048), (4096, 4096, 4096), (8192, 8192, 8192), (12864, 1152, 384), (12864, 384, 1536), (12864, 1536, 384)]
    for (m, n, k) in shapes:
        for prec in ("fp32", "tf32", "bf16"):
            torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
            dt = torch.bfloat16 if prec == "bf16" else torch.float32
            a = torch.randn(m, k, device=dev, dtype=dt); b = torch.randn(k, n, device=dev, dtype=dt)
            ms = timed(lambda: a @ b, reps=10 if m * n * k > 2e11 else 20)
            out[f"{m}x{n}x{k}/{prec}"] = 2 * m * n * k / ms / 1e9
    torch.backends.cuda.matmul.allow_tf32 = False
    return out  # TFLOP/s


def attention():
    out = {}
    for (B, H, N) in [(64, 6, 201), (64, 12, 201), (64, 16, 201), (64, 6, 1029), (16, 12, 1029), (16, 16, 1029)]:
        for dt, name in ((torch.float32, "fp32"), (torch.bfloat16, "bf16")):
            q, k, v = (torch.randn(B, H, N, 64, device=dev, dtype=dt, requires_grad=True) for _ in range(3))
            fl = 4 * B * H * N * N * 64
            fwd = timed(lambda: F.scaled_dot_product_attention(q, k, v))
            o = F.scaled_dot_product_attention(q, k, v); g = torch.randn_like(o)
            def fb():
                o = F.scaled_dot_product_attention(q, k, v)
                torch.autograd.grad(o, (q, k, v), g)
            tot = timed(fb)
            out[f"{B}x{H}x{N}x64/{name}"] = {"fwd_ms": fwd, "bwd_ms": max(tot - fwd, 1e-6),
                                             "fwd_tflops": fl / fwd / 1e9, "bwd_tflops": 2.5 * fl / max(tot - fwd, 1e-6) / 1e9}
    return out


def gram():
    out = {}
    for (N, P, D) in [(32, 196, 384), (8, 1024, 384), (4, 4096, 384)]:
        s = torch.randn(N, P, D, device=dev, requires_grad=True); t = torch.randn(N, P, D, device=dev)
        def loss():
            sh, th = F.normalize(s, dim=-1), F.normalize(t, dim=-1)
            return ((sh @ sh.transpose(1, 2) - th @ th.transpose(1, 2)) ** 2).mean()
        fwd = timed(loss)
        tot = timed(lambda: torch.autograd.grad(loss(), s))
        out[f"{N}x{P}x{D}"] = {"fwd_ms": fwd, "fwd_bwd_ms": tot}
    return out


def sinkhorn():
    out = {}
    for (B, K) in [(256, 65536), (1024, 65536), (4096, 8192)]:
        x = torch.randn(B, K, device=dev)
        def sk():
            q = torch.exp(x / 0.07).t()
            q /= q.sum()
            for _ in range(3):
                q /= q.sum(dim=1, keepdim=True); q /= K
                q /= q.sum(dim=0, keepdim=True); q /= B
            return (q * B).t()
        out[f"{B}x{K}"] = {"ms": timed(sk)}
    return out


def train_step(batch=64, reps=10):
    out = {}
    for prec in ("fp32", "tf32"):
        torch.backends.cuda.matmul.allow_tf32 = prec == "tf32"
        torch.backends.cudnn.allow_tf32 = prec == "tf32"
        torch.manual_seed(0)
        m = ViT(*CFG["vits16"]).to(dev).train()
        head = torch.nn.Linear(384, 1000).to(dev)
        opt = torch.optim.AdamW(list(m.parameters()) + list(head.parameters()), lr=1e-4)
        x = torch.randn(batch, 3, 224, 224, device=dev); y = torch.randint(0, 1000, (batch,), device=dev)
        m.rope_cache = None
        def step():
            loss = F.cross_entropy(head(m(x)[:, 0]), y)
            opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        ms = timed(step, reps=reps, warm=3)
        out[prec] = {"ms": ms, "images_per_s": batch / ms * 1000}
    torch.backends.cuda.matmul.allow_tf32 = False
    return out


if __name__ == "__main__":
    t0 = time.time()
    for name, fn in (("gemm", gemm), ("attention", attention), ("gram", gram), ("sinkhorn", sinkhorn), ("train_vits16_b64", train_step)):
        try:
            res[name] = fn()
        except Exception as e:  # one failing section must not hide the others
            res[name] = {"error": repr(e)}
        print(f"torch peer: {name} done ({time.time() - t0:.0f} s)", flush=True)
        with open(sys.argv[1], "w") as f:  # after every section: a time-boxed run keeps what it measured
            json.dump(res, f, indent=1)
