# PyTorch side of `npm run bench -- engine`: the same measurements with Debian's python3-torch,
# same threads and OPENBLAS_CORETYPE as the TypeScript run (inherited environment). Prints JSON.
import json, sys, time
import torch
import torch.nn as nn

torch.set_num_threads(int(sys.argv[1]))
torch.manual_seed(0)

def median_ms(fn, reps=15, warmup=3):
    for _ in range(warmup): fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); fn(); ts.append((time.perf_counter() - t0) * 1e3)
    ts.sort(); return ts[len(ts) // 2]

class QuickGELU(nn.Module):
    def forward(self, x): return x * torch.sigmoid(1.702 * x)

class Block(nn.Module):  # openai/CLIP ResidualAttentionBlock
    def __init__(self, d, h):
        super().__init__()
        self.attn = nn.MultiheadAttention(d, h)
        self.ln_1 = nn.LayerNorm(d); self.ln_2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), QuickGELU(), nn.Linear(4 * d, d))
    def forward(self, x):
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))

out = {"torch": torch.__version__}
for (m, k, n) in [(577, 768, 3072), (577, 768, 768)]:
    a, b = torch.randn(m, k), torch.randn(k, n)
    with torch.no_grad():
        ms = median_ms(lambda: a @ b)
    out[f"matmul_{m}x{k}x{n}_gflops"] = 2 * m * k * n / (ms * 1e6)
blk = Block(768, 12)
x = torch.randn(577, 1, 768)
with torch.no_grad():
    out["block_fwd_ms"] = median_ms(lambda: blk(x), reps=11)
xg = x.clone().requires_grad_(True)
def fwd_bwd():
    blk.zero_grad(set_to_none=True)
    blk(xg).sum().backward()
out["block_fwd_bwd_ms"] = median_ms(fwd_bwd, reps=11)
print(json.dumps(out))
