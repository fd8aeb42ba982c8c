#!/usr/bin/python3
"""Golden values from PyTorch for tests/test_nn.cpp and tests/test_optim.cpp.

Writes tests/golden/nn_optim.json (CI has no torch: the tests read that file). Run with Debian's
python3-torch:  /usr/bin/python3 tests/golden/gen_nn_optim.py

Every input and initial weight is rounded to float32 first, so one fixture serves both dtypes.
  layers:      each layer on fixed weights in float64: output, and the gradients of
               sum(output * proj) for the input and every parameter (BatchNorm also: running
               statistics after one training step, and the eval-mode output after it).
  optimizers:  a tiny MLP, loss = mean((tanh(x W1ᵀ + b1) W2ᵀ + b2 − y)²), 20 steps over 5 fixed
               batches, in float32 and in float64: the final parameters (and lrs, clip norms).
  schedulers:  25 lrs of each schedule on SGD(lr = 0.1).
"""
import json
import os

import torch

gen = torch.Generator().manual_seed(20240611)


def rand(*shape, scale=1.0):
    return (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).float().double()


def enc(t):
    return {"shape": list(t.shape), "data": t.detach().double().flatten().tolist()}


def layer_case(name, module, x, train=True):
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(rand(*p.shape))
    params = {n: enc(p) for n, p in module.named_parameters()}
    module.train(train)
    x = x.clone().requires_grad_(True)
    out = module(x)
    proj = rand(*out.shape)
    (out * proj).sum().backward()
    case = {"name": name, "input": enc(x), "params": params, "output": enc(out), "proj": enc(proj),
            "grads": {"input": enc(x.grad), **{n: enc(p.grad) for n, p in module.named_parameters()}}}
    if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
        case["buffers"] = {"running_mean": enc(module.running_mean), "running_var": enc(module.running_var)}
        module.eval()
        case["eval_output"] = enc(module(x))
    return case


nn = torch.nn
layers = [
    layer_case("linear", nn.Linear(5, 3), rand(4, 5)),
    layer_case("linear_nobias_3d", nn.Linear(5, 3, bias=False), rand(2, 3, 5)),
    layer_case("conv", nn.Conv2d(3, 4, 3), rand(2, 3, 7, 6)),
    layer_case("conv_stride_pad_dilation", nn.Conv2d(2, 3, 3, stride=2, padding=2, dilation=2), rand(2, 2, 9, 8)),
    layer_case("conv_1x1_nobias", nn.Conv2d(3, 2, 1, bias=False), rand(1, 3, 4, 4)),
    layer_case("maxpool", nn.MaxPool2d(2), rand(2, 3, 6, 6)),
    layer_case("maxpool_s1_p1", nn.MaxPool2d(3, stride=1, padding=1), rand(1, 2, 5, 5)),
    layer_case("avgpool", nn.AvgPool2d(2), rand(2, 3, 6, 5)),
    layer_case("avgpool_s2_p1", nn.AvgPool2d(3, stride=2, padding=1), rand(1, 2, 7, 7)),
    layer_case("flatten", nn.Flatten(), rand(2, 3, 4)),
    layer_case("relu", nn.ReLU(), rand(3, 4)),
    layer_case("leaky_relu", nn.LeakyReLU(0.2), rand(3, 4)),
    layer_case("gelu", nn.GELU(), rand(3, 4)),
    layer_case("tanh", nn.Tanh(), rand(3, 4)),
    layer_case("sigmoid", nn.Sigmoid(), rand(3, 4)),
    layer_case("identity", nn.Identity(), rand(3, 4)),
    layer_case("dropout_eval", nn.Dropout(0.3), rand(3, 4), train=False),
    layer_case("batchnorm1d", nn.BatchNorm1d(4), rand(6, 4, scale=2.0) + 1.0),
    layer_case("batchnorm1d_3d", nn.BatchNorm1d(3), rand(4, 3, 5)),
    layer_case("batchnorm2d", nn.BatchNorm2d(3), rand(4, 3, 5, 5, scale=3.0) - 0.5),
    layer_case("layernorm", nn.LayerNorm([4, 5]), rand(3, 4, 5)),
]

# --- optimizer trajectories -------------------------------------------------------------------
problem = {"W1": rand(5, 4, scale=0.5), "b1": rand(5, scale=0.1), "W2": rand(2, 5, scale=0.5), "b2": rand(2, scale=0.1)}
batches = [{"x": rand(8, 4), "y": rand(8, 2)} for _ in range(5)]
STEPS = 20


def make_scheduler(opt, spec):
    if spec is None:
        return None
    kind, args = spec["type"], {k: v for k, v in spec.items() if k != "type"}
    return getattr(torch.optim.lr_scheduler, kind)(opt, **args)


def momentum_of(group):  # what OneCycleLR cycles: SGD's and RMSprop's momentum, Adam's beta1
    return group["betas"][0] if "betas" in group else group["momentum"]


def trajectory(config, dtype):
    params = {k: v.clone().to(dtype).requires_grad_(True) for k, v in problem.items()}
    cls = getattr(torch.optim, config["optimizer"])
    options = dict(config["options"])
    if "betas" in options:
        options["betas"] = tuple(options["betas"])
    if config.get("groups"):  # decay on weights only; biases at twice the lr, no decay
        groups = [{"params": [params["W1"], params["W2"]]},
                  {"params": [params["b1"], params["b2"]], "weight_decay": 0.0, "lr": 2 * options["lr"]}]
    else:
        groups = list(params.values())
    opt = cls(groups, **options)
    sched = make_scheduler(opt, config.get("scheduler"))
    lrs, momenta, norms = [], [], []
    for step in range(STEPS):
        b = batches[step % len(batches)]
        x, y = b["x"].to(dtype), b["y"].to(dtype)
        pred = torch.tanh(x @ params["W1"].T + params["b1"]) @ params["W2"].T + params["b2"]
        loss = ((pred - y) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        if config.get("clip") is not None:
            norms.append(float(torch.nn.utils.clip_grad_norm_(list(params.values()), config["clip"])))
        opt.step()
        if sched is not None:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
        momenta.append([momentum_of(g) for g in opt.param_groups])
    return {"final": {k: enc(v) for k, v in params.items()}, "lrs": lrs, "momenta": momenta, "clip_norms": norms}


configs = [
    {"name": "sgd", "optimizer": "SGD", "options": {"lr": 0.1}},
    {"name": "sgd_momentum", "optimizer": "SGD", "options": {"lr": 0.05, "momentum": 0.9}},
    {"name": "sgd_dampening_decay", "optimizer": "SGD",
     "options": {"lr": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.01}},
    {"name": "sgd_nesterov_decay", "optimizer": "SGD",
     "options": {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01}},
    {"name": "adam", "optimizer": "Adam", "options": {"lr": 0.01}},
    {"name": "adam_betas_decay", "optimizer": "Adam",
     "options": {"lr": 0.02, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1}},
    {"name": "adamw", "optimizer": "AdamW", "options": {"lr": 0.01, "weight_decay": 0.1}},
    {"name": "rmsprop", "optimizer": "RMSprop", "options": {"lr": 0.01}},
    {"name": "rmsprop_centered_momentum_decay", "optimizer": "RMSprop",
     "options": {"lr": 0.005, "alpha": 0.9, "momentum": 0.9, "centered": True, "weight_decay": 0.01}},
    {"name": "sgd_momentum_steplr", "optimizer": "SGD", "options": {"lr": 0.1, "momentum": 0.9},
     "scheduler": {"type": "StepLR", "step_size": 5, "gamma": 0.5}},
    {"name": "adam_multisteplr", "optimizer": "Adam", "options": {"lr": 0.02},
     "scheduler": {"type": "MultiStepLR", "milestones": [3, 8, 15], "gamma": 0.3}},
    {"name": "sgd_cosine", "optimizer": "SGD", "options": {"lr": 0.1, "momentum": 0.5},
     "scheduler": {"type": "CosineAnnealingLR", "T_max": 8, "eta_min": 0.001}},
    {"name": "adamw_linear_warmup", "optimizer": "AdamW", "options": {"lr": 0.02, "weight_decay": 0.05},
     "scheduler": {"type": "LinearLR", "start_factor": 0.25, "end_factor": 1.0, "total_iters": 6}},
    {"name": "adamw_onecycle", "optimizer": "AdamW", "options": {"lr": 0.01, "weight_decay": 0.01},
     "scheduler": {"type": "OneCycleLR", "max_lr": 0.05, "total_steps": STEPS, "cycle_momentum": False}},
    {"name": "sgd_momentum_onecycle_cycled", "optimizer": "SGD", "options": {"lr": 0.05, "momentum": 0.9},
     "scheduler": {"type": "OneCycleLR", "max_lr": 0.1, "total_steps": STEPS}},
    {"name": "adam_onecycle_cycled", "optimizer": "Adam", "options": {"lr": 0.01},
     "scheduler": {"type": "OneCycleLR", "max_lr": 0.05, "total_steps": STEPS, "base_momentum": 0.8,
                   "max_momentum": 0.9}},
    {"name": "rmsprop_momentum_onecycle_cycled", "optimizer": "RMSprop", "options": {"lr": 0.005, "momentum": 0.9},
     "scheduler": {"type": "OneCycleLR", "max_lr": 0.01, "total_steps": STEPS, "pct_start": 0.4}},
    {"name": "sgd_param_groups", "optimizer": "SGD",
     "options": {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1}, "groups": True},
    {"name": "adam_clip", "optimizer": "Adam", "options": {"lr": 0.02}, "clip": 0.5},
]
optimizers = []
for config in configs:
    for dtype_name, dtype in (("float32", torch.float32), ("float64", torch.float64)):
        optimizers.append({**config, "dtype": dtype_name, **trajectory(config, dtype)})

# --- schedules alone ---------------------------------------------------------------------------
schedule_specs = [
    {"type": "StepLR", "step_size": 4, "gamma": 0.5},
    {"type": "MultiStepLR", "milestones": [2, 5, 11], "gamma": 0.1},
    {"type": "CosineAnnealingLR", "T_max": 10, "eta_min": 0.01},
    {"type": "CosineAnnealingLR", "T_max": 7},
    {"type": "LinearLR", "start_factor": 0.1, "end_factor": 1.0, "total_iters": 8},
    {"type": "LinearLR", "start_factor": 1.0, "end_factor": 0.2, "total_iters": 12},
    {"type": "OneCycleLR", "max_lr": 0.3, "total_steps": 25, "cycle_momentum": False},
    {"type": "OneCycleLR", "max_lr": 1.0, "total_steps": 40, "pct_start": 0.25, "div_factor": 10,
     "final_div_factor": 100, "cycle_momentum": False},
    {"type": "OneCycleLR", "max_lr": 0.3, "total_steps": 25},
    {"type": "OneCycleLR", "max_lr": 1.0, "total_steps": 40, "pct_start": 0.25, "base_momentum": 0.7,
     "max_momentum": 0.99},
]
schedulers = []
for spec in schedule_specs:
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = make_scheduler(opt, spec)
    lrs, momenta = [opt.param_groups[0]["lr"]], [momentum_of(opt.param_groups[0])]
    for _ in range(24):
        opt.step()
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(momentum_of(opt.param_groups[0]))
    schedulers.append({"spec": spec, "lrs": lrs, "momenta": momenta})

# --- pooling options (drawn last, so that the cases above keep their random inputs) --------------
layers += [
    layer_case("maxpool_dilation", nn.MaxPool2d(3, stride=1, padding=1, dilation=2), rand(1, 2, 7, 7)),
    layer_case("maxpool_ceil", nn.MaxPool2d(2, ceil_mode=True), rand(2, 2, 5, 7)),
    layer_case("maxpool_ceil_s2_p1", nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True), rand(1, 2, 6, 6)),
    layer_case("avgpool_ceil", nn.AvgPool2d(2, ceil_mode=True), rand(2, 2, 5, 7)),
    layer_case("avgpool_ceil_s2_p1", nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True), rand(1, 2, 6, 6)),
    layer_case("avgpool_s1_p1_exclude_pad", nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False),
               rand(1, 2, 5, 5)),
    layer_case("avgpool_ceil_s2_p1_exclude_pad",
               nn.AvgPool2d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False), rand(1, 2, 6, 6)),
]

out = {"torch_version": torch.__version__, "layers": layers, "problem": {k: enc(v) for k, v in problem.items()},
       "batches": [{"x": enc(b["x"]), "y": enc(b["y"])} for b in batches], "optimizers": optimizers,
       "schedulers": schedulers}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_optim.json")
with open(path, "w") as f:
    json.dump(out, f, separators=(",", ":"))
print(f"wrote {path}: {len(layers)} layers, {len(optimizers)} trajectories, {len(schedulers)} schedules")
