#!/usr/bin/env python3
"""PyTorch peer for `./dino4j bench ssl`: one DINOv3 SSL training step of the issue's small configuration, in
eager PyTorch, timed the same way as ours. Not part of the product: it only measures the peer.

Same work as dino4j's SslTrainer step: EMA teacher (no grad) on the 2 global crops -> DINO head on CLS and iBOT
head on the masked patches -> Sinkhorn-Knopp (3 iterations); student on the masked global crops and the local
crops -> DINO loss (global pairs without the diagonal, local crops), iBOT loss, KoLeo on the backbone CLS ->
backward -> per-module gradient clipping -> AdamW -> EMA. Inputs are random tensors of the crops' shapes
(augmentation is not timed on either side's step: ours runs it in loader threads).

Usage: torch_ssl_step.py BATCH GLOBAL LOCAL NLOCAL STEPS THREADS [fp32|bf16 [WIDTH,DEPTH]]
bf16 runs the forward passes under torch.autocast("cpu", bfloat16) (mixed precision, as the official recipe
trains); Sinkhorn-Knopp, the softmaxes and the losses stay float32. WIDTH,DEPTH picks the backbone (default
192,6 = vit-fashion; 96,4 = vit-fashion-tiny), 3 heads and patch 4 either way.
"""
import sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_vit import Block, rope_table   # the same ViT block as the forward peer (bench/peers/torch_vit.py)

D, DEPTH, HEADS, PATCH, STORAGE = 192, 6, 3, 4, 4
HIDDEN, BOTTLENECK, K = 512, 128, 4096


class ViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.patch = nn.Conv2d(3, D, PATCH, PATCH)
        self.cls, self.reg = nn.Parameter(torch.zeros(1, 1, D)), nn.Parameter(torch.zeros(1, STORAGE, D))
        self.mask_token = nn.Parameter(torch.zeros(1, D))
        self.blocks = nn.ModuleList(Block(D, HEADS) for _ in range(DEPTH))
        self.norm = nn.LayerNorm(D, eps=1e-5)

    def forward(self, x, masks=None):
        p = self.patch(x)
        h, w = p.shape[-2:]
        p = p.flatten(2).transpose(1, 2)
        if masks is not None:
            p = torch.where(masks.unsqueeze(-1), self.mask_token.to(p.dtype).unsqueeze(0), p)
        t = torch.cat((self.cls.expand(x.shape[0], -1, -1), self.reg.expand(x.shape[0], -1, -1), p), 1)
        sin, cos = rope_table(h, w, D // HEADS)
        for blk in self.blocks:
            t = blk(t, sin, cos, 1 + STORAGE)
        t = self.norm(t)
        return t[:, 0], t[:, 1 + STORAGE:]


class Head(nn.Module):
    def __init__(self):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(D, HIDDEN), nn.GELU(), nn.Linear(HIDDEN, HIDDEN), nn.GELU(), nn.Linear(HIDDEN, BOTTLENECK))
        self.last_layer = nn.Linear(BOTTLENECK, K, bias=False)

    def forward(self, x):
        return self.last_layer(F.normalize(self.mlp(x), dim=-1))


class Ssl(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone, self.dino_head, self.ibot_head = ViT(), Head(), Head()


@torch.no_grad()
def sinkhorn(logits, temp, iters=3):
    q = torch.exp((logits - logits.max()) / temp).t()
    q /= q.sum()
    k, b = q.shape
    for _ in range(iters):
        q /= q.sum(dim=1, keepdim=True); q /= k
        q /= q.sum(dim=0, keepdim=True); q /= b
    return (q * b).t()


def koleo(x, eps=1e-8):
    x = F.normalize(x, eps=eps, dim=-1)
    dots = x @ x.t()
    dots.view(-1)[:: x.shape[0] + 1].fill_(-1)
    nn_idx = dots.argmax(dim=1)
    dist = (x - x[nn_idx]).norm(dim=-1)
    return -torch.log(dist + eps).mean()


AUTOCAST = False


def step(student, teacher, opt, globals_, locals_, masks, batch, nlocal, s_temp=0.1, t_temp=0.07):
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=AUTOCAST):
        t_cls, t_patch = teacher.backbone(globals_)
        t_dino = sinkhorn(teacher.dino_head(t_cls).float(), t_temp).reshape(2, batch, -1)
        t_ibot = sinkhorn(teacher.ibot_head(t_patch[masks]).float(), t_temp)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=AUTOCAST):
        g_cls, g_patch = student.backbone(globals_, masks)
        l_cls, _ = student.backbone(locals_)
        logits = student.dino_head(torch.cat((g_cls, l_cls))).float().reshape(2 + nlocal, batch, -1)
        ibot_logits = student.ibot_head(g_patch[masks]).float()
    g_cls = g_cls.float()
    lsm = F.log_softmax(logits / s_temp, dim=-1)
    dino_g = -(t_dino[0] * lsm[1]).sum(-1).mean() - (t_dino[1] * lsm[0]).sum(-1).mean()
    dino_l = -(t_dino.unsqueeze(0) * lsm[2:].unsqueeze(1)).sum(-1).mean() * 2
    ibot = -(t_ibot * F.log_softmax(ibot_logits / s_temp, dim=-1)).sum(-1).mean()
    ko = koleo(g_cls[:batch]) + koleo(g_cls[batch:])
    loss = dino_g * (2 / 18) + dino_l * (16 / 18) + ibot + 0.1 * ko
    opt.zero_grad(set_to_none=True)
    loss.backward()
    for m in (student.backbone, student.dino_head, student.ibot_head):
        torch.nn.utils.clip_grad_norm_(m.parameters(), 3.0)
    opt.step()
    with torch.no_grad():
        for ps, pt in zip(student.parameters(), teacher.parameters()):
            pt.mul_(0.992).add_(ps.detach(), alpha=0.008)
    return loss.item()


def main():
    global AUTOCAST, D, DEPTH
    batch, gsize, lsize, nlocal, steps, threads = (int(a) for a in sys.argv[1:7])
    AUTOCAST = len(sys.argv) > 7 and sys.argv[7] == "bf16"
    if len(sys.argv) > 8:
        D, DEPTH = (int(a) for a in sys.argv[8].split(","))
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    student = Ssl()
    for m in student.modules():
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None: nn.init.zeros_(m.bias)
    teacher = Ssl()
    teacher.load_state_dict(student.state_dict())
    for p in teacher.parameters(): p.requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=5e-4, weight_decay=0.04)
    n = (gsize // PATCH) ** 2
    times = []
    for s in range(steps + 1):
        globals_ = torch.randn(2 * batch, 3, gsize, gsize)
        locals_ = torch.randn(nlocal * batch, 3, lsize, lsize)
        masks = torch.zeros(2 * batch, n, dtype=torch.bool)
        for i in range(batch):   # half of the global crops, ratio 0.1-0.5
            r = 0.1 + 0.4 * torch.rand(1).item()
            masks[i, torch.randperm(n)[: int(round(r * n))]] = True
        t0 = time.perf_counter()
        step(student, teacher, opt, globals_, locals_, masks, batch, nlocal)
        if s > 0: times.append(time.perf_counter() - t0)   # step 0 is warm-up
        print(f"step {s}: {time.perf_counter() - t0:.3f} s", flush=True)
    times.sort()
    med = times[len(times) // 2]
    print(f"torch {torch.__version__} width={D} depth={DEPTH} threads={threads} {'bf16 autocast' if AUTOCAST else 'fp32'} median {med:.3f} s best {times[0]:.3f} s imgs/s {batch / med:.2f}")


if __name__ == "__main__":
    main()
