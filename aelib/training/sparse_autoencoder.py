"""The sparse autoencoder objective of Ng's CS294A notes, its gradient derived by hand,
and full-batch L-BFGS on it.

The network is `aelib.models.autoencoders.Autoencoder(n_visible, n_hidden, tied=False)` with
sigmoid units. In the notes' notation (sec. 2-3), for m examples x^(i):
    z2 = W1 x + b1,  a2 = f(z2),  z3 = W2 a2 + b2,  a3 = h_{W,b}(x) = f(z3),  f = sigmoid
with W1 = model.weight, b1 = model.hidden_bias, W2 = model.decoder_weight,
b2 = model.visible_bias, and the objective
    J_sparse(W, b) = (1/m) sum_i (1/2) ||h_{W,b}(x^(i)) - x^(i)||^2
                     + (lambda/2) (||W1||^2 + ||W2||^2) + beta sum_j KL(rho || rho_hat_j).
`cs294a_objective` computes it with autograd-able torch operations;
`cs294a_gradient` writes out backpropagation as the notes do (sec. 2.2 and 3):
    delta3 = -(x - a3) * f'(z3)
    delta2 = (W2^T delta3 + beta (-rho/rho_hat + (1 - rho)/(1 - rho_hat))) * f'(z2)
    dJ/dW2 = (1/m) sum_i delta3 a2^T + lambda W2,   dJ/db2 = (1/m) sum_i delta3
    dJ/dW1 = (1/m) sum_i delta2 x^T  + lambda W1,   dJ/db1 = (1/m) sum_i delta2
with f'(z) = f(z) (1 - f(z)). It is a teaching artefact and a test oracle for autograd.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import scipy.optimize
import torch

from aelib.models.autoencoders import Autoencoder
from aelib.models.losses import squared_error
from aelib.penalties.regularizers import weight_decay
from aelib.penalties.sparsity import kl_sparsity, l1_activity
from aelib.training.loop import train


def sparse_autoencoder(n_visible: int, n_hidden: int, generator: torch.Generator | None = None,
                       dtype: torch.dtype = torch.float64) -> Autoencoder:
    """An untied sigmoid autoencoder initialised as the CS294A exercise does
    (initializeParameters.m): weights uniform in +-r, r = sqrt(6 / (n_visible + n_hidden + 1)),
    biases 0. Float64 by default, as the exercise's MATLAB."""
    return Autoencoder(n_visible, n_hidden, tied=False, init_bound=math.sqrt(6 / (n_visible + n_hidden + 1)),
                       dtype=dtype, generator=generator)


def _check_model(model: Autoencoder) -> None:
    if model.tied or model.encoder_activation_name != "sigmoid" or model.decoder_activation_name != "sigmoid":
        raise ValueError("the CS294A objective is for an untied autoencoder with sigmoid encoder and decoder")


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(1/m) sum_i (1/2) ||x_hat^(i) - x^(i)||^2, the first term of J(W, b) (CS294A, sec. 2.2)."""
    return 0.5 * squared_error(x_hat, x)


def cs294a_objective(model: Autoencoder, x: torch.Tensor, *, rho: float, lam: float, beta: float) -> torch.Tensor:
    """J_sparse(W, b): reconstruction + weight decay + beta * KL sparsity (CS294A, sec. 3).
    With beta = 0 the KL term is left out altogether."""
    _check_model(model)
    h = model.encode(x)
    cost = reconstruction_error(model.decode(h), x) + weight_decay([model.weight, model.decoder_weight], lam)
    return cost + beta * kl_sparsity(h, rho) if beta else cost


def l1_objective(model: Autoencoder, x: torch.Tensor, *, lam: float, l1_weight: float) -> torch.Tensor:
    """The same network and weight decay with the L1 activity penalty in place of the KL term:
    (1/m) sum_i [(1/2) ||x_hat^(i) - x^(i)||^2 + l1_weight sum_j |h_j^(i)|] + (lambda/2) ||W||^2."""
    _check_model(model)
    h = model.encode(x)
    return (reconstruction_error(model.decode(h), x) + weight_decay([model.weight, model.decoder_weight], lam)
            + l1_weight * l1_activity(h))


@torch.no_grad()
def cs294a_gradient(model: Autoencoder, x: torch.Tensor, *, rho: float, lam: float,
                    beta: float) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """J_sparse and its gradient by hand-written backpropagation (module docstring; CS294A
    sec. 2.2, backpropagation algorithm steps 1-4, and sec. 3, the modified delta2).
    Returns (J, {parameter name: dJ/dparameter}) with the names of model.named_parameters()."""
    _check_model(model)
    W1, b1, W2, b2 = model.weight, model.hidden_bias, model.decoder_weight, model.visible_bias
    m = len(x)
    a2 = torch.sigmoid(x @ W1.T + b1)                 # [m, s2]
    a3 = torch.sigmoid(a2 @ W2.T + b2)                # [m, s1]
    rho_hat = a2.mean(dim=0)                          # [s2]
    cost = 0.5 * (a3 - x).pow(2).sum() / m + lam / 2 * (W1.pow(2).sum() + W2.pow(2).sum())
    delta3 = -(x - a3) * a3 * (1 - a3)                # [m, s1]
    back = delta3 @ W2                                # row i: W2^T delta3^(i)
    if beta:
        cost = cost + beta * (rho * torch.log(rho / rho_hat) + (1 - rho) * torch.log((1 - rho) / (1 - rho_hat))).sum()
        back = back + beta * (-rho / rho_hat + (1 - rho) / (1 - rho_hat))
    delta2 = back * a2 * (1 - a2)                     # [m, s2]
    gradients = {
        "weight": delta2.T @ x / m + lam * W1,
        "hidden_bias": delta2.mean(dim=0),
        "decoder_weight": delta3.T @ a2 / m + lam * W2,
        "visible_bias": delta3.mean(dim=0),
    }
    return cost, gradients


def autograd_gradient(objective: Callable[[Autoencoder], torch.Tensor],
                      model: Autoencoder) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The value of objective(model) and its gradient by autograd, in the same form as
    cs294a_gradient returns."""
    names, parameters = zip(*model.named_parameters())
    cost = objective(model)
    gradients = torch.autograd.grad(cost, parameters)
    return cost.detach(), dict(zip(names, gradients))


def flatten(model: Autoencoder, tensors: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
    """The model's parameters (or `tensors` keyed by parameter name) as one vector, in
    named_parameters order: the theta of the exercise."""
    tensors = tensors or dict(model.named_parameters())
    return torch.cat([tensors[name].reshape(-1) for name, _ in model.named_parameters()])


def unflatten_into(model: Autoencoder, theta: torch.Tensor) -> None:
    """Copy the vector theta into the model's parameters (the inverse of `flatten`)."""
    with torch.no_grad():
        torch.nn.utils.vector_to_parameters(theta.to(next(model.parameters())), model.parameters())


def numerical_gradient(objective: Callable[[Autoencoder], torch.Tensor], model: Autoencoder,
                       epsilon: float = 1e-5) -> torch.Tensor:
    """Central finite differences (J(theta + eps e_i) - J(theta - eps e_i)) / (2 eps) for every
    coordinate i of theta (computeNumericalGradient.m of the exercise); slow, for tiny models."""
    theta = flatten(model).detach().clone()
    gradient = torch.empty_like(theta)
    with torch.no_grad():
        for i in range(len(theta)):
            values = []
            for sign in (1, -1):
                shifted = theta.clone()
                shifted[i] += sign * epsilon
                unflatten_into(model, shifted)
                values.append(objective(model).item())
            gradient[i] = (values[0] - values[1]) / (2 * epsilon)
        unflatten_into(model, theta)
    return gradient


def relative_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / ||a + b||, the exercise's measure of agreement between two gradients."""
    return ((a - b).norm() / (a + b).norm()).item()


def minimise_lbfgs(model: Autoencoder, objective_and_gradient: Callable[[Autoencoder], tuple],
                   max_iterations: int = 400) -> dict:
    """Full-batch L-BFGS (scipy.optimize.minimize, method "L-BFGS-B" without bounds, as the
    exercise's minFunc L-BFGS) on the model's parameters, in place.

    objective_and_gradient(model) returns (J, {name: dJ/dparameter}): `cs294a_gradient`
    (hand-written) or `autograd_gradient` bound to an objective. Returns the cost after
    each iteration, the iteration and evaluation counts and the wall time in seconds.
    """
    costs = []

    def fun(theta: np.ndarray):
        unflatten_into(model, torch.from_numpy(theta))
        cost, gradients = objective_and_gradient(model)
        return float(cost), flatten(model, gradients).detach().cpu().double().numpy()

    def record_cost(intermediate_result):  # scipy passes the iterate's OptimizeResult by this name
        costs.append(float(intermediate_result.fun))

    started = time.perf_counter()
    result = scipy.optimize.minimize(fun, flatten(model).detach().cpu().double().numpy(), jac=True,
                                     method="L-BFGS-B", callback=record_cost,
                                     options={"maxiter": max_iterations, "maxcor": 100, "maxfun": 2 * max_iterations + 20,
                                              "ftol": 1e-12, "gtol": 1e-9})
    seconds = time.perf_counter() - started
    unflatten_into(model, torch.from_numpy(result.x))
    return {"costs": costs, "final_cost": float(result.fun), "iterations": int(result.nit),
            "evaluations": int(result.nfev), "seconds": seconds, "message": str(result.message)}


def check_cs294a_gradient(generator: torch.Generator, *, rho: float, lam: float, beta: float,
                          n_visible: int = 16, n_hidden: int = 5, n_examples: int = 20) -> dict[str, float]:
    """The exercise's gradient check (CS294A exercise, step 3) on a tiny random problem: the
    hand-written gradient of J_sparse, autograd's and central finite differences, compared two
    by two with ||a - b|| / ||a + b||. Draws from `generator`, in order: the initial weights,
    non-zero biases (so that their gradients are exercised too) and inputs in [0.1, 0.9]."""
    model = sparse_autoencoder(n_visible, n_hidden, generator)
    with torch.no_grad():
        for bias in (model.hidden_bias, model.visible_bias):
            bias.copy_(0.3 * torch.randn(bias.shape, generator=generator, dtype=torch.float64))
    x = torch.rand(n_examples, n_visible, dtype=torch.float64, generator=generator) * 0.8 + 0.1
    objective = lambda m: cs294a_objective(m, x, rho=rho, lam=lam, beta=beta)  # noqa: E731
    hand = flatten(model, cs294a_gradient(model, x, rho=rho, lam=lam, beta=beta)[1])
    automatic = flatten(model, autograd_gradient(objective, model)[1])
    finite = numerical_gradient(objective, model)
    return {"hand vs finite differences": relative_difference(hand, finite),
            "hand vs autograd": relative_difference(hand, automatic),
            "autograd vs finite differences": relative_difference(automatic, finite)}


def fit_sparse_autoencoder(model: Autoencoder, x: torch.Tensor, *, lam: float, iterations: int, rho: float | None = None,
                           beta: float = 0.0, l1_weight: float | None = None, optimizer: str = "lbfgs",
                           adam_epochs: int = 50, adam_batch_size: int = 250, adam_learning_rate: float = 3e-3,
                           seed: int = 0) -> dict:
    """Minimise J_sparse (or, with `l1_weight`, `l1_objective`) on x, in place; return a summary row
    (iterations, evaluations, final_objective, seconds).

    optimizer "lbfgs": full-batch `minimise_lbfgs` for `iterations` iterations, as the exercise, with the
    hand-written gradient of J_sparse (autograd's for the L1 objective). "adam": minibatch Adam
    (aelib.training.loop.train), `adam_epochs` passes in an order drawn from a generator seeded seed + 2."""
    if l1_weight is None:
        objective = lambda m, batch=None: cs294a_objective(m, x if batch is None else batch, rho=rho, lam=lam, beta=beta)  # noqa: E731
        hand_or_auto = lambda m: cs294a_gradient(m, x, rho=rho, lam=lam, beta=beta)  # noqa: E731
    else:
        objective = lambda m, batch=None: l1_objective(m, x if batch is None else batch, lam=lam, l1_weight=l1_weight)  # noqa: E731
        hand_or_auto = lambda m: autograd_gradient(objective, m)  # noqa: E731
    if optimizer == "lbfgs":
        info = minimise_lbfgs(model, hand_or_auto, max_iterations=iterations)
        return {"iterations": info["iterations"], "evaluations": info["evaluations"],
                "final_objective": info["final_cost"], "seconds": info["seconds"]}
    if optimizer != "adam":
        raise ValueError(f"optimizer must be 'lbfgs' or 'adam', got {optimizer!r}")
    started = time.perf_counter()
    train(lambda batch: objective(model, batch), torch.optim.Adam(model.parameters(), lr=adam_learning_rate),
          x, epochs=adam_epochs, batch_size=adam_batch_size,
          generator=torch.Generator().manual_seed(seed + 2), description="adam")
    with torch.no_grad():
        final = objective(model).item()
    return {"iterations": adam_epochs, "evaluations": adam_epochs * -(-len(x) // adam_batch_size),
            "final_objective": final, "seconds": time.perf_counter() - started}


def seeded_sparse_autoencoder(n_visible: int, n_hidden: int, seed: int, device: torch.device | str = "cpu",
                              dtype: torch.dtype | None = None) -> Autoencoder:
    """`sparse_autoencoder` from a generator seeded `seed`: every model of a study starts from the same
    initial weights; moved to `device`, then (if given) to `dtype`."""
    model = sparse_autoencoder(n_visible, n_hidden, torch.Generator().manual_seed(seed)).to(device)
    return model.to(dtype) if dtype is not None else model


def fit_with_and_without_sparsity(n_visible: int, n_hidden: int, x: torch.Tensor, *, rho: float, lam: float,
                                  beta: float, iterations: int, seed: int, device: torch.device | str = "cpu",
                                  dtype: torch.dtype | None = None, **fit_options) -> tuple[dict, dict]:
    """The sparse autoencoder (KL weight `beta`) and, from the same initial weights, the same network
    trained without the sparsity term (beta = 0), the notes' comparison. Returns ({name: model},
    {name: summary row}) under the names "sparse" and "no sparsity (beta = 0)"."""
    models, runs = {}, {}
    for name, weight in (("sparse", beta), ("no sparsity (beta = 0)", 0.0)):
        models[name] = seeded_sparse_autoencoder(n_visible, n_hidden, seed, device, dtype)
        runs[name] = fit_sparse_autoencoder(models[name], x, rho=rho, lam=lam, beta=weight, iterations=iterations,
                                            seed=seed, **fit_options)
    return models, runs
