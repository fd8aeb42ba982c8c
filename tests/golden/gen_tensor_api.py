#!/usr/bin/python3
"""Golden values from PyTorch for tests/test_tensor_api.cpp.

Writes tests/golden/tensor_api.json (CI has no torch: the tests read that file). Run with Debian's
python3-torch:  /usr/bin/python3 tests/golden/gen_tensor_api.py

  promotion:  every binary op on every pair of dtypes (float32, float64, int64), every scalar op
              with an int and a float scalar on either side, and the float functions of int64:
              PyTorch's result dtype and values (inputs are small exact numbers).
  ops:        var/std (biased and unbiased, over dims and all), cumsum, sort, argsort, topk,
              arange with a float step, linspace: values, indices and, for the differentiable
              ones, the input gradient of sum(out * proj), in float64.
  embedding:  an Embedding with padding_idx: output and the weight's gradient.
  printing:   str(t) for tensors of every kind the formatter distinguishes (the values part;
              humble appends its own shape/dtype suffixes, built here with torch's own rule).
"""
import json
import os

import torch
import torch._tensor_str as tensor_str

torch.set_printoptions(profile="default")
gen = torch.Generator().manual_seed(1234)
DTYPES = {"float32": torch.float32, "float64": torch.float64, "int64": torch.int64}


def number(v):  # JSON has no NaN or infinity: those become strings
    return v if v == v and abs(v) != float("inf") else str(v)


def enc(t):
    return {"shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", ""),
            "data": [number(v) for v in t.detach().double().flatten().tolist()]}


def operand(dtype, shape, offset):
    # Small exact values, no zeros (so divisions stay finite and ints stay exact).
    base = torch.arange(1, 1 + torch.Size(shape).numel(), dtype=torch.float64).reshape(shape)
    return ((base * 3 + offset) % 7 + 1).to(DTYPES[dtype])


def promotion():
    cases = []
    binary = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
              "maximum": torch.maximum, "minimum": torch.minimum, "eq": torch.eq, "lt": torch.lt,
              "ge": torch.ge}
    for name, f in binary.items():
        for da in DTYPES:
            for db in DTYPES:
                a, b = operand(da, [2, 3], 0), operand(db, [3], 2)
                out = f(a, b)
                if out.dtype == torch.bool:  # humble's comparisons give 1/0 in the promoted dtype
                    out = out.to(torch.promote_types(a.dtype, b.dtype))
                cases.append({"kind": "binary", "op": name, "a": enc(a), "b": enc(b), "out": enc(out)})
    scalar = {"add": lambda x, s: x + s, "sub": lambda x, s: x - s, "mul": lambda x, s: x * s,
              "div": lambda x, s: x / s, "rsub": lambda x, s: s - x, "rdiv": lambda x, s: s / x,
              "pow": lambda x, s: x ** s}
    for name, f in scalar.items():
        for dx in DTYPES:
            for s in [2, 2.0, 2.5, -3]:
                if name == "pow" and s == -3 and dx == "int64":
                    continue  # PyTorch refuses it, as humble does (tested there)
                x = operand(dx, [4], 1)
                out = f(x, s)
                cases.append({"kind": "scalar", "op": name, "x": enc(x), "scalar": s,
                              "integral": isinstance(s, int), "out": enc(out)})
    for name in ["exp", "log", "sqrt", "tanh", "sigmoid", "abs", "neg", "relu"]:
        x = operand("int64", [4], 1)
        f = getattr(torch, name)
        cases.append({"kind": "unary", "op": name, "x": enc(x), "out": enc(f(x))})
    for lo, hi in [(2, 5), (2.5, 5)]:
        x = operand("int64", [4], 1)
        cases.append({"kind": "clamp", "x": enc(x), "low": lo, "high": hi,
                      "integral": isinstance(lo, int) and isinstance(hi, int), "out": enc(torch.clamp(x, lo, hi))})
    return cases


def grad_of(f, x):
    x = x.clone().requires_grad_(True)
    out = f(x)
    proj = torch.randn(out.shape, generator=gen, dtype=torch.float64)
    (out * proj).sum().backward()
    return out, proj, x.grad


def ops():
    x = torch.randn(3, 4, 5, generator=gen, dtype=torch.float64)
    untied = x.clone()
    x[1, 2, :] = x[1, 2, 0]  # ties, for the stable sort (and std = 0 along that line)
    cases = []
    for dims in [[1], [0, 2], [-1], []]:
        for unbiased in [True, False]:
            for keepdim in [False, True]:
                for name, f in [("var", torch.var), ("std", torch.std)]:
                    fn = (lambda t, f=f, dims=dims, u=unbiased, k=keepdim: f(t, dims, unbiased=u, keepdim=k)
                          if dims else f(t, unbiased=u))
                    if not dims and keepdim:
                        continue
                    out, proj, dx = grad_of(fn, x)
                    cases.append({"op": name, "dims": dims, "unbiased": unbiased, "keepdim": keepdim,
                                  "x": enc(x), "out": enc(out), "proj": enc(proj), "dx": enc(dx)})
    for dim in [0, 1, -1]:
        out, proj, dx = grad_of(lambda t, d=dim: torch.cumsum(t, d), x)
        cases.append({"op": "cumsum", "dim": dim, "x": enc(x), "out": enc(out), "proj": enc(proj), "dx": enc(dx)})
        for descending in [False, True]:
            values, indices = torch.sort(x, dim=dim, descending=descending, stable=True)
            out, proj, dx = grad_of(lambda t, d=dim, s=descending: torch.sort(t, dim=d, descending=s, stable=True)[0], x)
            cases.append({"op": "sort", "dim": dim, "descending": descending, "x": enc(x), "out": enc(values),
                          "indices": enc(indices), "proj": enc(proj), "dx": enc(dx)})
        for k in [0, 1, 3]:
            for largest in [True, False]:
                # topk leaves the order of ties open: these lines have none.
                values, indices = torch.topk(untied, k, dim, largest=largest)
                out, proj, dx = grad_of(lambda t, d=dim, k=k, l=largest: torch.topk(t, k, d, largest=l)[0], untied)
                cases.append({"op": "topk", "dim": dim, "k": k, "largest": largest, "x": enc(untied), "out": enc(values),
                              "indices": enc(indices), "proj": enc(proj), "dx": enc(dx)})
    ints = torch.tensor([[3, -1, 2, 2], [0, 5, -7, 1]])
    cases.append({"op": "cumsum", "dim": 1, "x": enc(ints), "out": enc(torch.cumsum(ints, 1))})
    v, i = torch.sort(ints, dim=1, stable=True)
    cases.append({"op": "sort", "dim": 1, "descending": False, "x": enc(ints), "out": enc(v), "indices": enc(i)})
    nan = torch.tensor([1.0, float("nan"), -2.0, 3.0], dtype=torch.float64)
    for descending in [False, True]:
        v, i = torch.sort(nan, dim=0, descending=descending, stable=True)
        cases.append({"op": "sort", "dim": 0, "descending": descending, "x": enc(nan), "out": enc(v),
                      "indices": enc(i)})
    ranges = []
    for start, end, step in [(0, 1, 0.1), (1, -1, -0.25), (0.5, 3, 0.7), (0, 10, 3)]:
        ranges.append({"op": "arange", "start": start, "end": end, "step": step,
                       "out": enc(torch.arange(start, end, step, dtype=torch.float64))})
    for start, end, steps in [(0, 1, 5), (-1, 1, 4), (2, 2, 1), (0, 1, 0), (-3.5, 10.25, 7)]:
        ranges.append({"op": "linspace", "start": start, "end": end, "steps": steps,
                       "out": enc(torch.linspace(start, end, steps, dtype=torch.float64))})
    return cases, ranges


def embedding():
    cases = []
    for padding_idx in [None, 1, -1]:
        layer = torch.nn.Embedding(5, 3, padding_idx=padding_idx).double()
        with torch.no_grad():
            layer.weight.copy_(torch.randn(5, 3, generator=gen, dtype=torch.float64))
        indices = torch.tensor([[0, 1, 4], [1, 1, 2]])
        out = layer(indices)
        proj = torch.randn(out.shape, generator=gen, dtype=torch.float64)
        (out * proj).sum().backward()
        cases.append({"padding_idx": padding_idx, "weight": enc(layer.weight), "indices": enc(indices),
                      "out": enc(out), "proj": enc(proj), "dweight": enc(layer.weight.grad)})
    return cases


def printing():
    cases = []
    samples = [
        torch.tensor([1.0, 2.0, 3.0]),
        torch.tensor([[1.5, -2.25], [3.0, 4.125]]),
        torch.tensor([0.1, 0.0001, 123.456]),
        torch.tensor([1e-5, 1.0]),
        torch.tensor([1.0, 2e9]),
        torch.tensor([[1, -2, 3], [40, 5, 600]]),
        torch.tensor(3.5),
        torch.tensor(7),
        torch.tensor([float("nan"), float("inf"), -float("inf"), 1.0]),
        torch.tensor([float("nan"), 0.5]),
        torch.zeros(2, 3),
        torch.tensor([-0.0, 2.0]),
        torch.arange(2000, dtype=torch.float32).reshape(40, 50) / 7,
        torch.arange(1200).reshape(2, 3, 200),
        torch.arange(30, dtype=torch.float64) * 1.5,
        torch.linspace(-1, 1, 24, dtype=torch.float32).reshape(2, 3, 4),
        torch.zeros(0, 3),
    ]
    for t in samples:
        body = "[]" if t.numel() == 0 else tensor_str._tensor_str(t, len("tensor("))
        dtype = str(t.dtype).replace("torch.", "")
        suffixes = ["shape=" + ("(" + ", ".join(map(str, t.shape)) + ("," if t.dim() == 1 else "") + ")"),
                    "dtype=" + dtype]
        text = tensor_str._add_suffixes("tensor(" + body, suffixes, len("tensor("), False)
        cases.append({"tensor": enc(t), "text": text})
    return cases


def main():
    op_cases, ranges = ops()
    out = {"promotion": promotion(), "ops": op_cases, "ranges": ranges, "embedding": embedding(),
           "printing": printing()}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tensor_api.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
