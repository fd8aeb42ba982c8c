#!/usr/bin/python3
"""tests/golden/gen_noise_correction.py — PyTorch reference values for forward-corrected
cross-entropy (writes noise_correction.json).

Run with Debian's torch:   /usr/bin/python3 tests/golden/gen_noise_correction.py
CI never runs this script; tests/test_noise_correction.cpp reads the committed JSON. The output is
deterministic (torch.manual_seed, one CPU thread).

The reference is the textbook formula of Patrini et al. 2017, written the direct way humble avoids:
p = softmax(z), p̃ = p @ T, loss = −log p̃[ỹ] (probabilities, not log space), always evaluated in
float64: a float32 case holds float32-exact inputs (logits on a 2^-10 grid, T rounded to float32)
and its float64 result, so the comparison measures humble's float32 error alone. Logits stay
moderate (scale 2): with saturated rows the direct formula's gradient cancels (p_c − r_c with both
near 1) and loses digits humble keeps; tests/test_label_noise.cpp checks that case against a
50-digit value instead. Each case stores its inputs, the transition matrix, the loss value and
dL/dz; for reduction "none" the gradient is of Σ loss ⊙ grad_output with a stored random
grad_output. Legend: N rows, C classes, r noise rate.
"""
import json
import os

import torch

torch.manual_seed(20240917)
torch.set_num_threads(1)

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def flat(t):
    return t.detach().to(torch.float64).flatten().tolist()


def symmetric(C, rate):
    t = torch.full((C, C), rate / (C - 1), dtype=torch.float64)
    t.fill_diagonal_(1.0 - rate)
    return t


def random_stochastic(C):
    """Rows drawn from a softmax, with one exact zero per row off the diagonal (a −inf term)."""
    t = torch.softmax(torch.randn(C, C, dtype=torch.float64) * 1.5, dim=1)
    for i in range(C):
        t[i, (i + 1) % C] = 0.0
    return t / t.sum(dim=1, keepdim=True)


def case(name, dtype_name, N, C, transition, reduction):
    dtype = DTYPES[dtype_name]
    z = torch.round(torch.randn(N, C, dtype=torch.float64) * 2.0 * 1024) / 1024
    y = torch.randint(0, C, (N,))
    t = transition.to(dtype).to(torch.float64)  # the case's T, exactly
    x = z.clone().requires_grad_(True)
    noisy = torch.softmax(x, dim=1) @ t
    per_row = -torch.log(noisy.gather(1, y.view(-1, 1)).view(-1))
    loss = {"none": per_row, "mean": per_row.mean(), "sum": per_row.sum()}[reduction]
    grad_output = None
    if reduction == "none":
        grad_output = torch.randn(N, dtype=dtype).to(torch.float64)
        loss.backward(grad_output)
    else:
        loss.backward()
    return {
        "name": name,
        "dtype": dtype_name,
        "shape": [N, C],
        "input": flat(z),
        "target": y.tolist(),
        "transition": flat(t),
        "reduction": reduction,
        "grad_output": None if grad_output is None else flat(grad_output),
        "value": flat(loss) if loss.dim() > 0 else loss.item(),
        "grad": flat(x.grad),
    }


def cases():
    out = []
    for dtype_name in DTYPES:
        for reduction in ("none", "mean", "sum"):
            for rate in (0.0, 0.2, 0.4, 0.6):
                out.append(case(f"symmetric C=10 r={rate} {reduction}", dtype_name, 6, 10, symmetric(10, rate),
                                reduction))
            out.append(case(f"random stochastic C=4 {reduction}", dtype_name, 5, 4, random_stochastic(4), reduction))
    return out


if __name__ == "__main__":
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "noise_correction.json")
    with open(path, "w") as f:
        json.dump({"torch_version": torch.__version__, "forward_corrected_cross_entropy": cases()}, f, indent=1)
        f.write("\n")
    print(f"wrote {path}")
