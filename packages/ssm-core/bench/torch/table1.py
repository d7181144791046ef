"""PyTorch side of `npm run bench:torch` (driven by table1.ts; run by hand, not in CI).

Tab. 1's Mamba+PE (embedding [V, d-1] + PE 0.1*t in the last coordinate -> S6 without conv and gate -> lm_head) trained
with torch.optim.Adam and the cosine schedule on the batches and from the initial weights that the driver exported
from ssm-core. The scan is mamba_ssm's `selective_scan_ref` (ops/selective_scan_interface.py): decays and inputs for
all steps at once, then a Python loop over L.

Usage: python3 table1.py DIR, DIR holding init.safetensors (ssm-core's parameter names), batches.bin (int32
[steps, 2, B, T]: inputs then targets per step) and run.json ({steps, B, T, lrs, dModel, dState, dtRank, peScale}).
Then one command per stdin line: a thread count -> one JSON line {"threads", "seconds", "losses"}; "quit" ends.
"""

import json
import struct
import sys
import time

import torch
import torch.nn.functional as F


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            raise SystemExit(f"{path}: {name} has dtype {e['dtype']}, expected F32")
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(body[a:b]), dtype=torch.float32).reshape(e["shape"]).clone()
    return out


def selective_scan_ref(u, delta, A, B, C, D):
    """mamba_ssm's reference: u, delta [b, d, L]; A [d, n]; B, C [b, n, L]; D [d] -> y [b, d, L]."""
    delta_A = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    delta_B_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    x = A.new_zeros((u.shape[0], A.shape[0], A.shape[1]))
    ys = []
    for i in range(u.shape[2]):
        x = delta_A[:, :, i] * x + delta_B_u[:, :, i]
        ys.append(torch.einsum("bdn,bn->bd", x, C[:, :, i]))
    y = torch.stack(ys, dim=2)
    return y + u * D[None, :, None]


@torch.jit.script
def _states(delta_A: torch.Tensor, delta_B_u: torch.Tensor) -> torch.Tensor:
    """h_t = dA_t * h_{t-1} + dBu_t over t (axis 1 of [b, L, d, n]), one fused multiply-add per step, TorchScript."""
    h = torch.zeros_like(delta_B_u[:, 0])
    hs = []
    for t in range(delta_A.shape[1]):
        h = torch.addcmul(delta_B_u[:, t], delta_A[:, t], h)
        hs.append(h)
    return torch.stack(hs, dim=1)


def selective_scan_loop(u, delta, A, B, C, D):
    """The same recurrence in the time-major layout with a TorchScript loop: u, delta [b, L, d]; B, C [b, L, n]."""
    delta_A = torch.exp(delta.unsqueeze(-1) * A)  # [b, L, d, n]
    delta_B_u = (delta * u).unsqueeze(-1) * B.unsqueeze(2)
    h = _states(delta_A, delta_B_u)
    return (h * C.unsqueeze(2)).sum(-1) + u * D


def forward(p, tokens, cfg):
    b, L = tokens.shape
    R, N = cfg["dtRank"], cfg["dState"]
    emb = p["embedding.weight"][tokens]  # [b, L, d-1]
    pe = (torch.arange(1, L + 1, dtype=torch.float32) * cfg["peScale"]).reshape(1, L, 1).expand(b, L, 1)
    x = torch.cat([emb, pe], dim=2)  # [b, L, d]
    xp = x @ p["mixer.x_proj.weight"].t()  # [b, L, R + 2N]
    dlow, Bm, Cm = xp.split([R, N, N], dim=2)
    delta = F.softplus(dlow @ p["mixer.dt_proj.weight"].t() + p["mixer.dt_proj.bias"])  # [b, L, d]
    A = -torch.exp(p["mixer.A_log"])
    if cfg.get("scan", "loop") == "ref":
        y = selective_scan_ref(
            x.transpose(1, 2), delta.transpose(1, 2), A, Bm.transpose(1, 2), Cm.transpose(1, 2), p["mixer.D"]
        ).transpose(1, 2)
    else:
        y = selective_scan_loop(x, delta, A, Bm, Cm, p["mixer.D"])
    return y @ p["lm_head.weight"].t() + p["lm_head.bias"]  # [b, L, C]


def run(init, batches, cfg, threads):
    torch.set_num_threads(threads)
    p = {k: v.clone().requires_grad_(True) for k, v in init.items()}
    opt = torch.optim.Adam(p.values(), lr=cfg["lrs"][0])
    losses = []
    start = time.perf_counter()
    for s in range(cfg["steps"]):
        for g in opt.param_groups:
            g["lr"] = cfg["lrs"][s]
        x, y = batches[s, 0], batches[s, 1]
        logits = forward(p, x, cfg)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), ignore_index=-1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return time.perf_counter() - start, losses


def main():
    d = sys.argv[1]
    cfg = json.load(open(f"{d}/run.json"))
    init = read_safetensors(f"{d}/init.safetensors")
    raw = open(f"{d}/batches.bin", "rb").read()
    batches = torch.frombuffer(bytearray(raw), dtype=torch.int32).reshape(-1, 2, cfg["B"], cfg["T"]).long()
    print(json.dumps({"ready": True, "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "quit":
            break
        seconds, losses = run(init, batches, cfg, int(cmd))
        print(json.dumps({"threads": int(cmd), "seconds": seconds, "losses": losses}), flush=True)


if __name__ == "__main__":
    main()
