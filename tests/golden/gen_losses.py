#!/usr/bin/python3
"""tests/golden/gen_losses.py — PyTorch reference values for humble's losses (writes losses.json).

Run with Debian's torch:   /usr/bin/python3 tests/golden/gen_losses.py
CI never runs this script; tests/test_losses.cpp and tests/test_loss_family.cpp read the committed
tests/golden/losses.json. The output is deterministic (torch.manual_seed, one CPU thread).

Every case stores its inputs, options, the loss value and dL/d(input):
  - mean / sum: the gradient of the scalar loss (backward());
  - none: the gradient of Σ loss ⊙ grad_output for a fixed random grad_output stored in the case.
Tensors are stored flattened (row-major) with their shape. Floats are Python floats written by
json.dumps (repr: the shortest string that round-trips); float32 values are widened to double
exactly, so the C++ side rebuilds bit-identical inputs. torch computes in the case's dtype.

Legend: N batch, C classes, d1 d2 extra positions, eps = label smoothing ε.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

torch.manual_seed(20240601)
torch.set_num_threads(1)

DTYPES = {"float32": torch.float32, "float64": torch.float64}
EPSILONS = [0.0, 0.05, 0.1, 0.5, 1.0]
REDUCTIONS = ["none", "mean", "sum"]


def flat(t):
    """Row-major list of Python floats (exact for float32 and float64)."""
    return t.detach().to(torch.float64).flatten().tolist()


def ints(t):
    return t.flatten().tolist()


def value_of(loss):
    return flat(loss) if loss.dim() > 0 else loss.item()


def run(fn, x, reduction):
    """Loss value and dL/dx; for reduction none, backward(grad_output) with a stored random vector."""
    x = x.detach().clone().requires_grad_(True)
    loss = fn(x)
    grad_output = None
    if reduction == "none":
        grad_output = torch.randn(loss.shape, dtype=loss.dtype)
        loss.backward(grad_output)
    else:
        loss.backward()
    return loss, x.grad, grad_output


# ---------------------------------------------------------------------------------------------
# cross_entropy


def randn_logits(*shape, scale=2.0):
    """Normal logits rounded to multiples of 2^-10: exact in float32 and float64, and short in JSON."""
    return torch.round(torch.randn(*shape, dtype=torch.float64) * scale * 1024) / 1024


def index_target(shape, C, ignore_rows=(), ignore_index=-100):
    """Random class indices of `shape`, with the flat positions in ignore_rows set to ignore_index.

    When ignore_index lies in [0, C) it is a real class: the other positions avoid it, so only the
    chosen positions are ignored."""
    y = torch.randint(0, C, shape)
    if 0 <= ignore_index < C:
        y = torch.where(y == ignore_index, (y + 1) % C, y)
    flat_y = y.view(-1)
    for r in ignore_rows:
        flat_y[r] = ignore_index
    return y


def prob_target(shape, dtype):
    """Random probabilities along dim 1 (rows sum to 1), with a few exact zeros."""
    logits = torch.randn(shape, dtype=dtype) * 2
    logits[torch.rand(shape) < 0.2] = -math.inf
    logits.select(1, 0).clamp_(min=0.0)  # every row keeps at least one positive entry
    return F.softmax(logits, dim=1)


def ce_case(name, dtype_name, logits, target, eps, reduction, weight=None, ignore_index=-100):
    dtype = DTYPES[dtype_name]
    logits = logits.to(dtype)
    soft = target.is_floating_point()
    if soft:
        target = target.to(dtype)
    w = None if weight is None else weight.to(dtype)

    def fn(z):
        return F.cross_entropy(z, target, weight=w, ignore_index=ignore_index, reduction=reduction,
                               label_smoothing=eps)

    loss, grad, grad_output = run(fn, logits, reduction)
    return {
        "name": name,
        "dtype": dtype_name,
        "shape": list(logits.shape),
        "logits": flat(logits),
        "target_kind": "probabilities" if soft else "indices",
        "target": flat(target) if soft else ints(target),
        "label_smoothing": eps,
        "reduction": reduction,
        "ignore_index": ignore_index,
        "weight": None if w is None else flat(w),
        "grad_output": None if grad_output is None else flat(grad_output),
        "value": value_of(loss),
        "grad": flat(grad),
    }


def class_weights(C):
    return torch.rand(C, dtype=torch.float64) * 1.5 + 0.25  # in [0.25, 1.75)


def cross_entropy_cases():
    cases = []
    for dtype_name in DTYPES:
        # The grid at small C: every ε × reduction × weights × (ignored rows or not). N = 5.
        for C in (2, 10):
            for eps in EPSILONS:
                for reduction in REDUCTIONS:
                    for weighted in (False, True):
                        for ignoring in (False, True):
                            logits = randn_logits(5, C)
                            target = index_target((5,), C, ignore_rows=(1, 4) if ignoring else ())
                            cases.append(ce_case(
                                f"grid C={C} eps={eps} {reduction} weighted={weighted} ignored={ignoring}",
                                dtype_name, logits, target, eps, reduction,
                                class_weights(C) if weighted else None))

        # C = 1000: ε at mean (every ε in float64), the other reductions and weights at ε = 0.1.
        # N = 3, one row ignored.
        C = 1000
        mean_epsilons = EPSILONS if dtype_name == "float64" else (0.0, 0.1, 1.0)
        for eps, reduction, weighted in [(e, "mean", False) for e in mean_epsilons] + [
                (0.1, "none", False), (0.1, "sum", False), (0.1, "mean", True)]:
            logits = randn_logits(3, C, scale=3.0)
            target = index_target((3,), C, ignore_rows=(1,))
            cases.append(ce_case(f"C=1000 eps={eps} {reduction} weighted={weighted}", dtype_name, logits, target,
                                 eps, reduction, class_weights(C) if weighted else None))

        # A custom ignore_index: a real class (3 of C = 10) and a negative one (-1).
        for ignore_index in (3, -1):
            for reduction in REDUCTIONS:
                for weighted in (False, True):
                    logits = randn_logits(6, 10)
                    target = index_target((6,), 10, ignore_rows=(0, 3), ignore_index=ignore_index)
                    cases.append(ce_case(f"ignore_index={ignore_index} eps=0.1 {reduction} weighted={weighted}",
                                         dtype_name, logits, target, 0.1, reduction,
                                         class_weights(10) if weighted else None, ignore_index=ignore_index))

        # Probability targets: every ε × reduction × weights at C = 10; a few at C = 2 and C = 1000.
        for C, N, epsilons, weightings in [(10, 4, EPSILONS, (False, True)), (2, 4, (0.0, 0.1, 1.0), (False, True)),
                                           (1000, 2, (0.1,), (False,))]:
            for eps in epsilons:
                for reduction in REDUCTIONS:
                    for weighted in weightings:
                        if C == 1000 and reduction != "mean":
                            continue
                        logits = randn_logits(N, C)
                        target = prob_target((N, C), torch.float64)
                        cases.append(ce_case(f"soft C={C} eps={eps} {reduction} weighted={weighted}", dtype_name,
                                             logits, target, eps, reduction,
                                             class_weights(C) if weighted else None))

        # (N, C, d1, d2) = (2, 5, 3, 2): index targets with ignored positions, and probability targets.
        for eps in (0.0, 0.1, 1.0):
            for reduction in REDUCTIONS:
                for weighted in (False, True):
                    logits = randn_logits(2, 5, 3, 2)
                    target = index_target((2, 3, 2), 5, ignore_rows=(2, 7))
                    cases.append(ce_case(f"4-D eps={eps} {reduction} weighted={weighted}", dtype_name, logits,
                                         target, eps, reduction, class_weights(5) if weighted else None))
            for reduction in REDUCTIONS:
                logits = randn_logits(2, 5, 3, 2)
                target = prob_target((2, 5, 3, 2), torch.float64)
                cases.append(ce_case(f"4-D soft eps={eps} {reduction}", dtype_name, logits, target, eps, reduction,
                                     class_weights(5) if reduction == "sum" else None))

        # Extreme logits: ±1e4 (confidently right and confidently wrong rows) and mixed scales.
        extreme = torch.tensor([
            [1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4, -1e4],   # y = 0: right, p = one-hot
            [-1e4, 1e4, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],            # y = 0: wrong by 2e4
            [1e4, 1e4, -1e4, 5.0, -5.0, 0.0, 1e-3, -1e-3, 1e2, -1e2],       # y = 2: a tie on top
            [1e-3, -2e-3, 3e-3, 0.0, 1e-4, -1e-4, 2e-3, 5e-4, -5e-4, 1e-3],  # y = 3: nearly uniform
            [1e3, 1e2, 1e1, 1.0, 1e-1, -1e-1, -1.0, -1e1, -1e2, -1e3],       # y = 9: mixed scales
        ], dtype=torch.float64)
        extreme_target = torch.tensor([0, 0, 2, 3, 9])
        for eps in (0.0, 0.1, 1.0):
            for reduction in REDUCTIONS:
                for weighted in (False, True):
                    cases.append(ce_case(f"extreme eps={eps} {reduction} weighted={weighted}", dtype_name, extreme,
                                         extreme_target, eps, reduction, class_weights(10) if weighted else None))
        extreme2 = torch.tensor([[1e4, -1e4], [-1e4, 1e4], [3e3, 3e3 + 1.0], [-1e4, -1e4 + 2.0]], dtype=torch.float64)
        for eps in (0.0, 0.1, 0.5):
            for reduction in REDUCTIONS:
                cases.append(ce_case(f"extreme C=2 eps={eps} {reduction}", dtype_name, extreme2,
                                     torch.tensor([0, 0, 1, 0]), eps, reduction))
    cases += offset_cases()
    return cases


def offset_cases():
    """Float64 logits far from 0, where lse must not be rounded before z − lse: [[1e8, 1e8]] with
    y = 1, and randint(100, (16, 4)) + 1e7. Drawn from a generator of their own, and the global one
    (reduction none draws its grad_output there) put back afterwards, so that adding them leaves every
    other case's random draws as they were."""
    global_state = torch.get_rng_state()
    gen = torch.Generator().manual_seed(10_000_000)
    offset = torch.randint(100, (16, 4), generator=gen, dtype=torch.float64) + 1e7
    offset_target = torch.randint(4, (16,), generator=gen)
    cases = []
    for reduction in REDUCTIONS:
        cases.append(ce_case(f"offset 1e8 eps=0.1 {reduction}", "float64", torch.tensor([[1e8, 1e8]],
                             dtype=torch.float64), torch.tensor([1]), 0.1, reduction))
        cases.append(ce_case(f"offset 1e7 eps=0.1 {reduction}", "float64", offset, offset_target, 0.1, reduction))
    torch.set_rng_state(global_state)
    return cases


def worked_example():
    """3 rows, the middle one ignored, C = 4, ε = 0.1 — the example in docs/label-smoothing.md."""
    eps, C = 0.1, 4
    logits = torch.tensor([[2.0, 0.5, -1.0, 0.0],
                           [0.1, 1.5, 0.3, -0.5],
                           [-0.2, 0.4, 2.2, 1.0]], dtype=torch.float64)
    target = torch.tensor([0, -100, 2])
    value = F.cross_entropy(logits, target, label_smoothing=eps)
    # The widely copied formulation: the smoothing term averages over every row, the ignored one
    # included, while the NLL term skips it.
    log_p = F.log_softmax(logits, dim=1)
    widely_copied = eps / C * (-log_p.sum(dim=1)).mean() + (1 - eps) * F.nll_loss(log_p, target, ignore_index=-100)
    return {
        "shape": list(logits.shape),
        "logits": flat(logits),
        "target": ints(target),
        "label_smoothing": eps,
        "torch_value": value.item(),
        "widely_copied_value": widely_copied.item(),
    }


# ---------------------------------------------------------------------------------------------
# The family


def family_case(name, dtype_name, x, fn, reduction, **stored):
    loss, grad, grad_output = run(fn, x, reduction)
    case = {"name": name, "dtype": dtype_name, "shape": list(x.shape), "input": flat(x), "reduction": reduction}
    for key, value in stored.items():
        case[key] = value if value is None or isinstance(value, (int, float, bool, list)) else flat(value)
    case.update({"grad_output": None if grad_output is None else flat(grad_output), "value": value_of(loss),
                 "grad": flat(grad)})
    return case


def bce_cases():
    """torch's BCE has no smoothing: the generator feeds it the smoothed target y(1 − ε) + ε/2."""
    cases = []
    for dtype_name, dtype in DTYPES.items():
        for eps in (0.0, 0.1):
            for with_pos_weight in (False, True):
                for with_weight in (False, True):
                    for reduction in REDUCTIONS:
                        x = torch.randn(4, 3, dtype=dtype) * 3
                        y = torch.rand(4, 3, dtype=dtype)
                        y[0] = torch.tensor([0.0, 1.0, 1.0])  # hard labels too
                        pos_weight = torch.rand(3, dtype=dtype) * 3 + 0.1 if with_pos_weight else None
                        weight = torch.rand(3, dtype=dtype) + 0.5 if with_weight else None
                        smoothed = y * (1 - eps) + eps / 2
                        cases.append(family_case(
                            f"bce eps={eps} pos_weight={with_pos_weight} weight={with_weight} {reduction}",
                            dtype_name, x,
                            lambda z: F.binary_cross_entropy_with_logits(z, smoothed, weight=weight,
                                                                         pos_weight=pos_weight,
                                                                         reduction=reduction),
                            reduction, target=y, label_smoothing=eps, pos_weight=pos_weight, weight=weight))
        x = torch.tensor([[1e4, -1e4, 50.0], [-50.0, 1e-3, 0.0]], dtype=dtype)
        y = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.5, 0.25]], dtype=dtype)
        for eps in (0.0, 0.1):
            smoothed = y * (1 - eps) + eps / 2
            cases.append(family_case(f"bce extreme eps={eps}", dtype_name, x,
                                     lambda z: F.binary_cross_entropy_with_logits(z, smoothed), "mean",
                                     target=y, label_smoothing=eps, pos_weight=None, weight=None))
    return cases


def kl_div_cases():
    cases = []
    for dtype_name, dtype in DTYPES.items():
        for log_target in (False, True):
            for reduction in REDUCTIONS:
                x = F.log_softmax(torch.randn(4, 5, dtype=dtype) * 2, dim=1)  # log-probabilities
                t = prob_target((4, 5), dtype)  # with exact zeros
                if log_target:
                    t = F.log_softmax(torch.randn(4, 5, dtype=dtype) * 2, dim=1)
                torch_reduction = "batchmean" if reduction == "mean" else reduction
                cases.append(family_case(
                    f"kl_div log_target={log_target} {reduction}", dtype_name, x,
                    lambda z: F.kl_div(z, t, reduction=torch_reduction, log_target=log_target), reduction,
                    target=t, log_target=log_target))
    return cases


def mse_cases():
    cases = []
    for dtype_name, dtype in DTYPES.items():
        for reduction in REDUCTIONS:
            x = torch.randn(4, 3, dtype=dtype) * 2
            y = torch.randn(4, 3, dtype=dtype)
            cases.append(family_case(f"mse {reduction}", dtype_name, x,
                                     lambda z: F.mse_loss(z, y, reduction=reduction), reduction, target=y))
    return cases


def reduce(per_row, reduction):
    return {"none": per_row, "mean": per_row.mean(), "sum": per_row.sum()}[reduction]


def focal_cases():
    """focal = −α_y·(1 − p_y)^γ·log p_y (Lin et al. 2017), written with torch ops."""
    cases = []
    for dtype_name, dtype in DTYPES.items():
        for gamma in (0.0, 0.5, 2.0):
            for with_alpha in (False, True):
                for reduction in REDUCTIONS:
                    x = torch.randn(6, 5, dtype=dtype) * 2
                    y = torch.randint(0, 5, (6,))
                    alpha = torch.rand(5, dtype=dtype) + 0.25 if with_alpha else None

                    def focal(z):
                        log_p_y = F.log_softmax(z, dim=1).gather(1, y.view(-1, 1)).view(-1)
                        loss = -(1 - log_p_y.exp()).pow(gamma) * log_p_y
                        return reduce(loss if alpha is None else loss * alpha[y], reduction)

                    cases.append(family_case(f"focal gamma={gamma} alpha={with_alpha} {reduction}", dtype_name, x,
                                             focal, reduction, target=ints(y), gamma=gamma, alpha=alpha))
    return cases


def confidence_penalty_cases():
    """confidence penalty = CE(z, y) − β·H(softmax z) (Pereyra et al. 2017), written with torch ops."""
    cases = []
    for dtype_name, dtype in DTYPES.items():
        for beta in (0.0, 0.1, 1.0):
            for reduction in REDUCTIONS:
                x = torch.randn(6, 5, dtype=dtype) * 2
                y = torch.randint(0, 5, (6,))

                def penalty(z):
                    log_p = F.log_softmax(z, dim=1)
                    entropy = -(log_p.exp() * log_p).sum(dim=1)
                    return reduce(F.cross_entropy(z, y, reduction="none") - beta * entropy, reduction)

                cases.append(family_case(f"confidence_penalty beta={beta} {reduction}", dtype_name, x, penalty,
                                         reduction, target=ints(y), beta=beta))
    return cases


def distillation_cases():
    """T²·KL(softmax(teacher/T) ‖ softmax(student/T)), batchmean (Hinton et al. 2015)."""
    cases = []
    for dtype_name, dtype in DTYPES.items():
        for temperature in (1.0, 2.0, 4.0):
            student = torch.randn(4, 6, dtype=dtype) * 2
            teacher = torch.randn(4, 6, dtype=dtype) * 3
            cases.append(family_case(
                f"distillation T={temperature}", dtype_name, student,
                lambda s: F.kl_div(F.log_softmax(s / temperature, dim=1), F.softmax(teacher / temperature, dim=1),
                                   reduction="batchmean") * temperature ** 2,
                "mean", teacher=teacher, temperature=temperature))
    return cases


def main():
    fixture = {
        "generator": "tests/golden/gen_losses.py",
        "torch_version": torch.__version__,
        "cross_entropy": cross_entropy_cases(),
        "worked_example": worked_example(),
        "binary_cross_entropy_with_logits": bce_cases(),
        "kl_div": kl_div_cases(),
        "mse_loss": mse_cases(),
        "focal_loss": focal_cases(),
        "confidence_penalty": confidence_penalty_cases(),
        "distillation_loss": distillation_cases(),
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses.json")
    with open(path, "w") as out:
        json.dump(fixture, out, separators=(",", ":"), allow_nan=False)
        out.write("\n")
    counts = {k: len(v) for k, v in fixture.items() if isinstance(v, list)}
    print(f"wrote {path}: {counts}, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
