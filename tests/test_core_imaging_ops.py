"""Imaging operators of gridprox.core: adjoints, norms, Fourier/pixel Gram structure,
and the quadratic (sum-of-squares with an operator) solver against dense algebra."""
import numpy as np
import pytest
import torch

from gridprox.core import Diagonal, Identity, ScaledOperator
from gridprox.core.convolution import Convolution
from gridprox.core.finite_diff import Gradient
from gridprox.core.fourier import FourierSampling, Mask, Mosaic, bayer_pattern
from gridprox.core.quadratic import QuadraticSolver, prox_sum_squares_op


pytestmark = pytest.mark.usefixtures("_one_thread")   # conftest.py

G = torch.Generator().manual_seed(0)


def rand(shape, complex_=False):
    x = torch.randn(shape, generator=G, dtype=torch.float64)
    return torch.complex(x, torch.randn(shape, generator=G, dtype=torch.float64)) if complex_ else x


def adjoint_gap(op, complex_in=False, complex_out=False, batch=(2,)):
    """|⟨Kx, y⟩ − ⟨x, Kᵀy⟩| / (‖Kx‖‖y‖), real inner product ⟨a, b⟩ = Re Σ conj(a) b."""
    x = rand(batch + op.in_shape, complex_in)
    y = rand(batch + op.out_shape, complex_out)
    Kx, Kty = op.forward(x), op.adjoint(y)
    assert Kx.shape == y.shape and Kty.shape == x.shape
    ip = lambda a, b: torch.sum((a.conj() * b).real) if (a.is_complex() or b.is_complex()) else torch.sum(a * b)
    return float(abs(ip(Kx, y) - ip(x, Kty)) / (Kx.norm() * y.norm()))


def dense(op, complex_in=False):
    """The matrix of op by applying it to the unit vectors (small shapes only)."""
    n = int(np.prod(op.in_shape))
    E = torch.eye(n, dtype=torch.complex128 if complex_in else torch.float64).reshape(n, *op.in_shape)
    return op.forward(E).reshape(n, -1).T


PSF = torch.tensor(np.outer([1, 3, 1], [1, 2, 4, 2, 1]) / 80.0)


@pytest.mark.parametrize("op, cin, cout", [
    (Convolution(PSF, (6, 9)), False, False),
    (Convolution(PSF, (3, 6, 9)), True, True),
    (Gradient((7, 5)), False, False),
    (Gradient((3, 7, 5)), True, True),
    (Gradient((4, 5, 6), ndim=3), False, False),
    (Gradient((2, 1, 3), ndim=3), False, False),   # axes of length 2 and 1: the adjoint's edge cases
    (FourierSampling((torch.rand(6, 8, generator=G) > 0.5).double(), (6, 8)), True, True),
    (FourierSampling((torch.rand(6, 8, generator=G) > 0.5).double(), (2, 6, 8), compact=True), True, True),
    (FourierSampling(torch.rand(6, 8, generator=G).double(), (6, 8), real_input=True), False, True),
    (Mask((torch.rand(6, 8, generator=G) > 0.3).double(), (3, 6, 8)), False, False),
    (Mosaic(bayer_pattern(6, 8)), False, False),
    (Gradient((6, 9)) @ Convolution(PSF, (6, 9)) - 2.0 * Gradient((6, 9)), False, False),
    # the generic ones the imaging compiler builds expressions from
    (Identity((6, 9)), False, False),
    (Diagonal(torch.rand(6, 9, generator=G).double() - 0.5), False, False),
    (ScaledOperator(Convolution(PSF, (6, 9)), -1.5), False, False),
    (Convolution(PSF, (6, 9)).T, False, False),
    (Gradient((6, 8)).T, False, False),
    (FourierSampling((torch.rand(6, 8, generator=G) > 0.5).double(), (6, 8)) @ Convolution(PSF, (6, 8))
     @ Mask((torch.rand(6, 8, generator=G) > 0.3).double(), (6, 8)), True, True),
])
def test_adjoints(op, cin, cout):
    assert adjoint_gap(op, cin, cout) < 1e-10
    assert adjoint_gap(op, cin, cout, batch=()) < 1e-10


def test_convolution_matches_numpy_circular_definition():
    x = rand((6, 9))
    pad = np.zeros((6, 9))
    pad[:3, :5] = PSF.numpy()
    pad = np.roll(pad, (-1, -2), axis=(0, 1))
    want = np.real(np.fft.ifft2(np.fft.fft2(x.numpy()) * np.fft.fft2(pad)))
    np.testing.assert_allclose(Convolution(PSF, (6, 9))(x).numpy(), want, atol=1e-14)
    with pytest.raises(ValueError, match="does not fit"):
        Convolution(torch.ones(7, 3), (6, 9))
    with pytest.raises(ValueError, match="finite"):
        Convolution(torch.tensor([[float("nan")]]), (6, 9))


def test_gradient_is_neumann_forward_difference():
    x = rand((4, 5))
    g = Gradient((4, 5))(x)
    np.testing.assert_allclose(g[0, :-1].numpy(), np.diff(x.numpy(), axis=0))
    np.testing.assert_allclose(g[1, :, :-1].numpy(), np.diff(x.numpy(), axis=1))
    assert float(g[0, -1].abs().max()) == 0.0 and float(g[1, :, -1].abs().max()) == 0.0


def test_gradient_and_divergence_differentiable():
    """The no-temporary paths of forward/adjoint fall back when autograd is recording."""
    op = Gradient((5, 4))
    x = rand((5, 4)).requires_grad_()
    y = rand((2, 5, 4)).requires_grad_()
    (op.forward(x) * y).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), op.adjoint(y.detach()).numpy(), atol=1e-14)
    x2 = x.detach().clone()
    y2 = y.detach().clone().requires_grad_()
    (op.adjoint(y2) * x2).sum().backward()
    np.testing.assert_allclose(y2.grad.numpy(), op.forward(x2).numpy(), atol=1e-14)


@pytest.mark.parametrize("op, cin", [
    (Gradient((7, 5)), False), (Convolution(PSF, (6, 9)), False), (Mosaic(bayer_pattern(4, 4)), False),
    (FourierSampling(torch.rand(6, 8, generator=G).double(), (6, 8)), True),
])
def test_norm_bounds_are_exact(op, cin):
    sv = float(torch.linalg.matrix_norm(dense(op, cin), 2))
    assert op.norm_bound() == pytest.approx(sv, rel=1e-9)


def _gram(M, complex_):
    G_ = M.conj().T @ M
    return G_ if complex_ else G_.real  # a real-input operator's Gram is Re(MᴴM)


def _dense_solve(data, penalty, rho, c, r, complex_=False):
    A = c * torch.eye(r.numel(), dtype=torch.complex128 if complex_ else torch.float64)
    for K, w in data:
        M = dense(K, complex_)
        A = A + w * _gram(M, complex_)
    for Pm in penalty:
        A = A + rho * _gram(dense(Pm, complex_), complex_)
    return torch.linalg.solve(A, r.reshape(-1)).reshape(r.shape)


@pytest.mark.parametrize("data, penalty, mode, cplx", [
    ([(Convolution(PSF, (6, 8)), 2.0)], [Identity((6, 8))], "fourier", False),
    ([(FourierSampling((torch.rand(6, 8, generator=G) > 0.5).double(), (6, 8)), 1.0)], [Identity((6, 8))],
     "fourier", True),
    ([(FourierSampling((torch.rand(6, 8, generator=G) > 0.5).double(), (6, 8), real_input=True), 1.0)],
     [ScaledOperator(Convolution(PSF, (6, 8)), 0.5)], "fourier", False),
    ([(Mask((torch.rand(6, 8, generator=G) > 0.5).double(), (6, 8)), 1.0)], [Diagonal(torch.full((6, 8), 2.0))],
     "spatial", False),
    ([(Mosaic(bayer_pattern(4, 6)), 1.0)], [Identity((3, 4, 6))], "spatial", False),
    ([(Convolution(PSF, (6, 8)), 1.0)], [Gradient((6, 8))], "cg", False),
    ([(Mask((torch.rand(6, 8, generator=G) > 0.5).double(), (6, 8)) @ Convolution(PSF, (6, 8)), 1.0)],
     [Gradient((6, 8))], "cg", False),
])
def test_quadratic_solver_matches_dense(data, penalty, mode, cplx):
    shape = data[0][0].in_shape
    s = QuadraticSolver(data, penalty, shape=shape, real=not cplx, cg_tol=1e-13)
    assert s.mode == mode
    r = rand(shape, cplx)
    x = s.solve(r, rho=0.7, c=0.3)
    torch.testing.assert_close(x, _dense_solve(data, penalty, 0.7, 0.3, r, cplx), rtol=1e-9, atol=1e-10)
    if mode == "cg":  # the circulant preconditioner makes CG converge in a few iterations
        assert s.precond is not None and s.cg_iterations < 40


def test_prox_sum_squares_op_batched():
    K = Convolution(PSF, (6, 8))
    v, b = rand((3, 6, 8)), rand((3, 6, 8))
    u = prox_sum_squares_op(v, 0.5, K, b, weight=2.0)
    # optimality: 2 Kᵀ(Ku − b) + (u − v)/0.5 = 0
    torch.testing.assert_close(2.0 * K.adjoint(K(u) - b) + (u - v) / 0.5, torch.zeros_like(u), atol=1e-12, rtol=0)


@pytest.mark.parametrize("ops", [[(Identity((6, 5)), 1.0)], [(Mask((torch.rand(6, 5, generator=G) > 0.5).double(), (6, 5)), 2.0)],
                                 [(Convolution(torch.rand(3, 3, generator=G, dtype=torch.float64), (6, 5)), 1.0)]])
def test_quadratic_prox_equals_its_solve(ops):
    """QuadraticSolver.prox (PDHG's data step) is solve(r + v/t, c = 1/t), also for r = 0."""
    s = QuadraticSolver(ops, shape=(6, 5))
    v, r = rand((2, 6, 5)), rand((6, 5))
    for rr in (r, 0.0):
        torch.testing.assert_close(s.prox(v, 0.3, rr), s.solve(rr + v / 0.3, c=1 / 0.3))


def test_group_ball_projection_matches_core():
    """imaging's fewer-pass projection onto the group-ℓ2 ball is core's, real and complex."""
    from gridprox.core.prox import project_group_l2_ball
    from imaging.compiler import _project_group_ball
    for cplx in (False, True):
        v = rand((2, 3, 7, 4), cplx)
        for dim in (0, 1):
            torch.testing.assert_close(_project_group_ball(v, 0.7, dim), project_group_l2_ball(v, 0.7, dim))
    assert _project_group_ball(v, 0.0, 0).abs().max() == 0


def test_pdhg_relaxation_reaches_the_same_optimum():
    """Over-relaxed PDHG (ρ = 1.9) and plain PDHG agree on a small ROF problem; ρ ∉ (0, 2) refused."""
    from gridprox.core import splitting as S
    from gridprox.core.prox import project_group_l2_ball
    b, lam = rand((12, 10)), 0.3
    D = Gradient((12, 10))
    term = S.ProxTerm(D, None, lambda v, t: project_group_l2_ball(v, lam))
    prox_f = lambda v, t: (v + t * b) / (1 + t)  # noqa: E731
    sols = [S.pdhg(prox_f, [term], b.clone(), 0.35, 0.35, max_iter=5000, tol=1e-10, relax=rl).x for rl in (1.0, 1.9)]
    torch.testing.assert_close(sols[0], sols[1], atol=1e-7, rtol=0)
    with pytest.raises(ValueError):
        S.pdhg(prox_f, [term], b, 0.35, 0.35, relax=2.0)


@pytest.mark.parametrize("relax", [1.0, 1.9])
def test_tv_dual_step_matches_the_step_done_in_turn(relax):
    """finite_diff.tv_dual_step (PDHG's TV dual step with ρ folded into the projection) against the
    gradient, gridprox.core.prox's projection and the relaxation applied one after another; batched."""
    from gridprox.core.finite_diff import tv_dual_step
    from gridprox.core.prox import project_group_l2_ball
    x, x_new, y = rand((3, 9, 7)), rand((3, 9, 7)), rand((3, 2, 9, 7))   # ‖y‖ mostly above the radius
    theta, sigma, r = 0.8, 0.6, 0.5
    D = Gradient((9, 7))
    y_tilde = project_group_l2_ball(y + sigma * D.forward(x_new + theta * (x_new - x)), r, dim=1)
    y_ref = y + relax * (y_tilde - y)
    y_fused = y.clone()
    kty = tv_dual_step(y_fused, x_new, x, theta, sigma, r, relax)
    torch.testing.assert_close(y_fused, y_ref, atol=1e-13, rtol=0)
    torch.testing.assert_close(kty, D.adjoint(y_ref), atol=1e-13, rtol=0)
    with pytest.raises(ValueError):
        tv_dual_step(y, x_new[..., :8, :], x[..., :8, :], theta, sigma, r)


def test_pdhg_fused_dual_step_gives_the_same_iterates():
    """PDHG with a term's fused dual step (used between checks) and without it: the same iterates
    and duals after 37 iterations (checks at 10, 20, 30 adapt the steps in both); y0 left unchanged."""
    from gridprox.core import splitting as S
    from gridprox.core.finite_diff import tv_dual_step
    from gridprox.core.prox import project_group_l2_ball
    b, lam = rand((2, 12, 10)), 0.3
    D = Gradient((12, 10))
    conj = lambda v, t: project_group_l2_ball(v, lam, dim=1)  # noqa: E731
    fused = lambda y, xn, x, th, sg, rl: tv_dual_step(y, xn, x, th, sg, lam, rl)  # noqa: E731
    prox_f = lambda v, t: (v + t * b) / (1 + t)  # noqa: E731
    y0 = [0.1 * rand((2, 2, 12, 10))]
    keep = y0[0].clone()
    runs = [S.pdhg(prox_f, [S.ProxTerm(D, None, conj, step)], b.clone(), 0.35, 0.35, max_iter=37, tol=1e-14,
                   batch_ndim=1, y0=y0, relax=1.9) for step in (None, fused)]
    torch.testing.assert_close(runs[0].x, runs[1].x, atol=1e-12, rtol=0)
    torch.testing.assert_close(runs[0].extra["y"][0], runs[1].extra["y"][0], atol=1e-12, rtol=0)
    assert torch.equal(y0[0], keep)


def _tv_kernel():
    """The kernel's module; skips without a C compiler, fails where one is found but the kernel
    is refused (a library failing its self-test is refused, so a wrong kernel fails here)."""
    import os
    import shutil
    from gridprox.core import tv_kernel
    if shutil.which(os.environ.get("CC", "cc")) is None:
        pytest.skip("no C compiler")
    assert tv_kernel.unavailable() is None
    return tv_kernel


def _eager_tv_iterations(x, y, kty, r, d, tau, sigma, theta, relax, radius, count):
    """PDHG's plain iteration on Σ ½ d x² − r x + radius·TV(x) in torch, as splitting.pdhg runs it."""
    from gridprox.core.finite_diff import tv_dual_step
    for _ in range(count):
        x_new = torch.add(x, kty, alpha=-tau).add(r, alpha=tau).div_(tau * d + 1.0)
        kty = tv_dual_step(y, x_new, x, theta, sigma, radius, relax)
        x = torch.lerp(x, x_new, relax)
    return x, y, kty


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("threads", [1, 3])
def test_tv_kernel_matches_the_eager_iteration(dtype, threads):
    """The C kernel's iterations (tv_kernel.c) against the eager ones: a batch with r per image,
    d a pixel map, θ ≠ 1, ρ ≠ 1, duals on and off the ball; at 3 threads in bands of rows."""
    tk = _tv_kernel()
    x0, r, y0 = rand((2, 11, 9)), rand((2, 11, 9)), 0.3 * rand((2, 2, 11, 9))
    d = (rand((11, 9)) > 0).double() + 0.25
    kty0 = Gradient((11, 9)).adjoint(y0)
    args = (0.3, 0.7, 0.8, 1.7, 0.4, 4)                     # τ, σ, θ, ρ, radius, iterations
    want = _eager_tv_iterations(x0.clone(), y0.clone(), kty0.clone(), r, d, *args)
    x, y, kty = (t.to(dtype).clone() for t in (x0, y0, kty0))
    run = tk.tv_pdhg_iterations(x, r.to(dtype), d.to(dtype), args[4])
    torch.set_num_threads(threads)                           # the fixture restores the count
    assert run(x, [y], kty, *args[:4], args[5])
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for got, ref in zip((x, y, kty), want):
        torch.testing.assert_close(got.double(), ref, atol=tol, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("threads", [1, 3])
def test_tv_kernel_check_matches_the_eager_check(dtype, threads):
    """The kernel's check step (x̃, ỹ, Kᵀỹ and the residual test's squared norms per image)
    against splitting.pdhg's torch formulas; the iterates are left unchanged."""
    from gridprox.core.prox import project_group_l2_ball
    tk = _tv_kernel()
    x, r, y, kty = rand((2, 11, 9)), rand((2, 11, 9)), 0.3 * rand((2, 2, 11, 9)), rand((2, 11, 9))
    d = (rand((11, 9)) > 0).double() + 0.25
    tau, sigma, theta, radius = 0.3, 0.7, 1.0, 0.4
    D = Gradient((11, 9))
    x_new = (x - tau * kty + tau * r) / (tau * d + 1)
    kxbar = D.forward(x_new + theta * (x_new - x))
    y_new = project_group_l2_ball(y + sigma * kxbar, radius, dim=1)
    kty_new = D.adjoint(y_new)
    xi = (x - x_new) / tau - kty
    zeta, kx = (y - y_new) / sigma + kxbar, D.forward(x_new)
    sq = lambda t: (t * t).reshape(2, -1).sum(-1)  # noqa: E731
    want = torch.stack([sq(xi + kty_new), sq(xi), sq(kty_new), sq(zeta - kx), sq(zeta), sq(kx)], -1)
    args = [t.to(dtype) for t in (x, r, y, kty)]
    keep = [t.clone() for t in args]
    torch.set_num_threads(threads)                           # the fixture restores the count
    got = tk.tv_pdhg_iterations(args[0], args[1], d.to(dtype), radius).check(args[0], [args[2]], args[3], tau,
                                                                            sigma, theta)
    tol = 1e-12 if dtype == torch.float64 else 1e-5
    for g, w in zip((got[0], got[1][0], got[2]), (x_new, y_new, kty_new)):
        torch.testing.assert_close(g.double(), w, atol=tol, rtol=0)
    torch.testing.assert_close(got[3], want, rtol=1e-12 if dtype == torch.float64 else 1e-5, atol=0)
    assert all(torch.equal(a, b) for a, b in zip(args, keep))


def test_pdhg_with_the_tv_kernel_gives_the_same_iterates(monkeypatch):
    """splitting.pdhg with ``plain_iterations`` (the C kernel between checks) and without: the same
    iterates after 50 iterations (checks at 1, 2, 4, 8, 10, ..., 50 adapt the steps in both) for ROF and for
    inpainting (d a pixel map), batched; the caller's x0 and y0 left unchanged."""
    import imaging as im
    _tv_kernel()
    b = rand((2, 40, 33))
    mask = (rand((40, 33)) > -0.5).double()
    solves = {"denoise": lambda: im.denoise_tv(b, 0.3, full_output=True, tol=1e-12, max_iter=50),
              "inpaint": lambda: im.inpaint(b, mask, 0.3, full_output=True, tol=1e-12, max_iter=50)}
    import imaging.problem as P
    import warnings
    for name, solve in solves.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", im.IterationLimitWarning)
            x_kernel, prob = solve()
            assert prob.info["tv_kernel"], name
            with monkeypatch.context() as m:
                m.setattr(P, "tv_pdhg_iterations", lambda *a: None)
                x_torch, prob_torch = solve()
            assert not prob_torch.info["tv_kernel"]
        torch.testing.assert_close(x_kernel, x_torch, atol=1e-10, rtol=0)
        torch.testing.assert_close(prob.value, prob_torch.value, atol=1e-9, rtol=0)
        # the checks' residuals (the kernel's sums): what stopping and step balancing saw
        assert len(prob.result.history) == len(prob_torch.result.history) == 9
        np.testing.assert_allclose(prob.result.history, prob_torch.result.history, rtol=1e-9, atol=0)
    from gridprox.core import splitting as S
    from gridprox.core.prox import project_group_l2_ball
    from gridprox.core.tv_kernel import tv_pdhg_iterations
    x0, y0 = b.clone(), [0.1 * rand((2, 2, 40, 33))]
    keep = (x0.clone(), y0[0].clone())
    term = S.ProxTerm(Gradient((40, 33)), None, lambda v, t: project_group_l2_ball(v, 0.3, dim=1))
    S.pdhg(lambda v, t: (v + t * b) / (1 + t), [term], x0, 0.35, 0.35, max_iter=25, tol=1e-14, batch_ndim=1, y0=y0,
           relax=1.9, plain_iterations=tv_pdhg_iterations(x0, b, 1.0, 0.3))
    assert torch.equal(x0, keep[0]) and torch.equal(y0[0], keep[1])


def test_tv_kernel_falls_back_where_it_does_not_apply(monkeypatch):
    """None (PDHG stays on torch) off the CPU, for complex, autograd or 1-row images, data of
    other shapes, and with GRIDPROX_NATIVE=0; False for iterates not laid out as the kernel's."""
    import imaging as im
    tk = _tv_kernel()
    x = rand((6, 5))
    assert tk.tv_pdhg_iterations(x.to("meta"), 0.0, 1.0, 0.1) is None
    assert tk.tv_pdhg_iterations(rand((6, 5), True), 0.0, 1.0, 0.1) is None
    assert tk.tv_pdhg_iterations(x.clone().requires_grad_(), 0.0, 1.0, 0.1) is None
    assert tk.tv_pdhg_iterations(rand((1, 5)), 0.0, 1.0, 0.1) is None
    assert tk.tv_pdhg_iterations(x, rand((3, 6, 5)), 1.0, 0.1) is None
    assert tk.tv_pdhg_iterations(x, 0.0, 1.0, 0.0) is None
    run = tk.tv_pdhg_iterations(x, 0.0, 1.0, 0.1)
    y = torch.zeros(2, 5, 6).transpose(-1, -2)               # not contiguous
    assert not run(x.clone(), [y], torch.zeros(6, 5), 0.3, 0.3, 1.0, 1.0, 3)
    monkeypatch.setenv("GRIDPROX_NATIVE", "0")
    monkeypatch.setattr(tk, "_STATE", {})
    assert tk.tv_pdhg_iterations(x, 0.0, 1.0, 0.1) is None and "GRIDPROX_NATIVE" in tk.unavailable()
    _, prob = im.denoise_tv(x, 0.1, full_output=True)
    assert not prob.info["tv_kernel"] and prob.status == "optimal"
