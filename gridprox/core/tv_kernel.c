/* PDHG's plain iterations on  f(x) + radius·Σ‖∇x‖₂  with f pixel-diagonal,
 * f(x) = Σ ½ d x² − r x, fused into one sweep over the rows (tv_kernel.py says when it is used).
 *
 * State per image: x (H, W), y (2, H, W) (y[0] vertical, y[1] horizontal differences), KTy (H, W)
 * = −div y.  One iteration, the same as splitting.pdhg with finite_diff.tv_dual_step:
 *     x⁺ = (x − τ KTy + τ r) / (τ d + 1);   x̄ = x⁺ + θ(x⁺ − x);
 *     v = y + σ∇x̄;   y ← (1 − ρ) y + v · ρ·radius·rsqrt(max(‖v‖², radius²));
 *     KTy ← −div y;   x ← x + ρ(x⁺ − x).
 * Row i of y⁺ needs x̄ of rows i and i+1, row i of KTy⁺ needs y⁺ of rows i−1 and i, so one sweep
 * keeps two rows of x̄ and writes x, y and KTy in place: each array is read and written once per
 * iteration, where the eager iteration makes ~20 passes.
 *
 * Threads split the rows into bands.  A band needs x̄ of the next band's first row (computed here
 * from copies of its old x and KTy taken before the sweep) and the previous band's last y⁺ row for
 * its first KTy row (computed after the sweep); two barriers per iteration.
 *
 * tv_check is a check's step, out of place, with the sums of the residual test.
 *
 * Compiled once per precision: -DONLY_FLOAT64 gives tv_pdhg_f64 and tv_check_f64, -DONLY_FLOAT32
 * the _f32 pair.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <omp.h>

#ifdef ONLY_FLOAT32
typedef float real;
#define FN(name) name##_f32
#define SQRT sqrtf
#else
typedef double real;
#define FN(name) name##_f64
#define SQRT sqrt
#endif

typedef struct {
    int64_t H, W;
    real tau, sigma, theta, relax, radius;
    const real *r, *d;          /* NULL: the scalars r0, d0 */
    real r0, d0;
} params_t;

/* x̄ of one row from x and KTy (not written); x + ρ(x⁺ − x) into xw when given (x⁺ itself at ρ = 1) */
static inline void xbar_row(const params_t *p, const real *x, const real *k, const real *r, const real *d,
                            real *xbar, real *xw)
{
    const int64_t W = p->W;
    const real tau = p->tau, theta = p->theta, relax = p->relax;
    for (int64_t j = 0; j < W; j++) {
        const real rj = r ? r[j] : p->r0, dj = d ? d[j] : p->d0;
        const real xj = x[j];
        const real xn = (xj - tau * k[j] + tau * rj) / (tau * dj + (real)1);
        xbar[j] = xn + theta * (xn - xj);
        if (xw) xw[j] = relax == (real)1 ? xn : xj + relax * (xn - xj);
    }
}

/* one pixel of y ← (1 − ρ) y + v · ρ·radius·rsqrt(max(‖v‖², radius²)), v = y + σg (ρ = 1: y·0 = 0 exactly) */
static inline void y_pixel(real *y0, real *y1, real g0, real g1, real sigma, real keep, real r2, real scale)
{
    const real v0 = *y0 + sigma * g0, v1 = *y1 + sigma * g1;
    real n = v0 * v0 + v1 * v1;
    n = n < r2 ? r2 : n;
    const real s = scale / SQRT(n);
    *y0 = *y0 * keep + v0 * s;
    *y1 = *y1 * keep + v1 * s;
}

/* y's row from x̄ of the row and of the next one (below; NULL on the last row); the last
   column, without a horizontal difference, apart so that the loop vectorises */
static inline void y_row(const params_t *p, real *y0, real *y1, const real *xb, const real *below)
{
    const int64_t W = p->W;
    const real sigma = p->sigma, r2 = p->radius * p->radius, scale = p->relax * p->radius;
    const real keep = (real)1 - p->relax;
    for (int64_t j = 0; j < W - 1; j++)
        y_pixel(y0 + j, y1 + j, below ? below[j] - xb[j] : (real)0, xb[j + 1] - xb[j], sigma, keep, r2, scale);
    y_pixel(y0 + W - 1, y1 + W - 1, below ? below[W - 1] - xb[W - 1] : (real)0, (real)0, sigma, keep, r2, scale);
}

/* KTy = −div y on one row, as Gradient.adjoint sums it (vertical, + y1[j−1], − y1[j]): up is
   y[0] of the row above (NULL on the first row), y0 NULL on the last */
static inline void kty_row(const params_t *p, real *k, const real *up, const real *y0, const real *y1)
{
    const int64_t W = p->W;
    k[0] = (up ? up[0] : (real)0) - (y0 ? y0[0] : (real)0) - y1[0];
    for (int64_t j = 1; j < W - 1; j++)
        k[j] = (up ? up[j] : (real)0) - (y0 ? y0[j] : (real)0) + y1[j - 1] - y1[j];
    k[W - 1] = (up ? up[W - 1] : (real)0) - (y0 ? y0[W - 1] : (real)0) + y1[W - 2];
}

/* the constant-NULL cases compiled on their own, so the row loops carry no branches */
static void xbar_rows(const params_t *p, const real *x, const real *k, const real *r, const real *d, real *xbar,
                      real *xw)
{
    if (r && d) xbar_row(p, x, k, r, d, xbar, xw);
    else if (r) xbar_row(p, x, k, r, NULL, xbar, xw);
    else if (d) xbar_row(p, x, k, NULL, d, xbar, xw);
    else xbar_row(p, x, k, NULL, NULL, xbar, xw);
}

static void y_rows(const params_t *p, real *y0, real *y1, const real *xb, const real *below)
{
    if (below) y_row(p, y0, y1, xb, below);
    else y_row(p, y0, y1, xb, NULL);
}

static void kty_rows(const params_t *p, real *k, const real *up, const real *y0, const real *y1)
{
    if (up && y0) kty_row(p, k, up, y0, y1);
    else if (up) kty_row(p, k, up, NULL, y1);
    else if (y0) kty_row(p, k, NULL, y0, y1);
    else kty_row(p, k, NULL, NULL, y1);
}

/* count iterations on n images (x, KTy: n×H×W; y: n×2×H×W; r, d: one image, n images
 * (stride H·W) or NULL for the scalars).  Returns 0, or −1 when scratch memory is short. */
int FN(tv_pdhg)(int count, int nthreads, int64_t n, int64_t H, int64_t W, real *x, real *y, real *kty,
                const real *r, int64_t r_stride, real r0, const real *d, int64_t d_stride, real d0,
                real tau, real sigma, real theta, real relax, real radius)
{
    if (H < 2 || W < 2 || count < 0) return -2;
    if (nthreads < 1) nthreads = 1;
    if (nthreads > H / 2) nthreads = (int)(H / 2);
    const int64_t HW = H * W;
    /* per thread: two rows of x̄, and copies of its band's first x and KTy rows for the band above */
    real *scratch = malloc(sizeof(real) * (size_t)(4 * W) * (size_t)nthreads);
    if (!scratch) return -1;
    _Pragma("omp parallel num_threads(nthreads)")
    {
        const int nt = omp_get_num_threads(), tid = omp_get_thread_num();
        const int64_t a = H * tid / nt, b = H * (tid + 1) / nt;        /* rows [a, b) */
        real *xb0 = scratch + (size_t)(4 * W) * tid, *xb1 = xb0 + W, *hx = xb1 + W, *hk = hx + W;
        const real *next_hx = scratch + (size_t)(4 * W) * (tid + 1) + 2 * W, *next_hk = next_hx + W;
        for (int64_t img = 0; img < n && count > 0; img++) {
            real *X = x + img * HW, *Y0 = y + 2 * img * HW, *Y1 = Y0 + HW, *K = kty + img * HW;
            const real *R = r ? r + img * r_stride : NULL, *D = d ? d + img * d_stride : NULL;
            params_t p = {H, W, tau, sigma, theta, relax, radius, R, D, r0, d0};
            for (int it = 0; it < count; it++) {
                /* the band's first KTy row (deferred: it needs the band above's last y⁺ row), then
                   copies of the band's first row for the band above, before this sweep changes it */
                if (it > 0)
                    kty_rows(&p, K + a * W, a > 0 ? Y0 + (a - 1) * W : NULL, a + 1 < H ? Y0 + a * W : NULL, Y1 + a * W);
                for (int64_t j = 0; j < W; j++) {
                    hx[j] = X[a * W + j];
                    hk[j] = K[a * W + j];
                }
                _Pragma("omp barrier")
                real *cur = xb0, *nxt = xb1;
                xbar_rows(&p, X + a * W, K + a * W, R ? R + a * W : NULL, D ? D + a * W : NULL, cur, X + a * W);
                for (int64_t i = a; i < b; i++) {
                    if (i + 1 < b)
                        xbar_rows(&p, X + (i + 1) * W, K + (i + 1) * W, R ? R + (i + 1) * W : NULL,
                                  D ? D + (i + 1) * W : NULL, nxt, X + (i + 1) * W);
                    else if (i + 1 < H)
                        xbar_rows(&p, next_hx, next_hk, R ? R + (i + 1) * W : NULL, D ? D + (i + 1) * W : NULL,
                                  nxt, NULL);
                    y_rows(&p, Y0 + i * W, Y1 + i * W, cur, i + 1 < H ? nxt : NULL);
                    if (i > a)
                        kty_rows(&p, K + i * W, Y0 + (i - 1) * W, i + 1 < H ? Y0 + i * W : NULL, Y1 + i * W);
                    real *t = cur; cur = nxt; nxt = t;
                }
                _Pragma("omp barrier")
            }
            kty_rows(&p, K + a * W, a > 0 ? Y0 + (a - 1) * W : NULL, a + 1 < H ? Y0 + a * W : NULL, Y1 + a * W);
            _Pragma("omp barrier")
        }
    }
    free(scratch);
    return 0;
}

/* A check's step, out of place: x̃ = x⁺, ỹ = Π(y + σ∇x̄) (no relaxation) and Kᵀỹ, with the sums
 * of splitting.pdhg's residual test per image, in double: ‖ξ + Kᵀỹ‖², ‖ξ‖², ‖Kᵀỹ‖², ‖ζ − ∇x̃‖²,
 * ‖ζ‖², ‖∇x̃‖² (ξ = (x − x̃)/τ − Kᵀy ∈ ∂f(x̃), ζ = (y − ỹ)/σ + ∇x̄ ∈ ∂g*(ỹ)).  Three passes over the
 * rows (x̃ and x̄; ỹ; Kᵀỹ and the sums), each split across threads; the sums are added per row and
 * then in row order, so they do not depend on the thread count.  Returns 0, or −1 short of memory. */
int FN(tv_check)(int nthreads, int64_t n, int64_t H, int64_t W, const real *x, const real *y, const real *kty,
                 const real *r, int64_t r_stride, real r0, const real *d, int64_t d_stride, real d0,
                 real tau, real sigma, real theta, real radius, real *xn, real *yn, real *kn, double *sums)
{
    if (H < 2 || W < 2) return -2;
    if (nthreads < 1) nthreads = 1;
    const int64_t HW = H * W;
    real *xbar = malloc(sizeof(real) * (size_t)HW);
    double *rows = malloc(sizeof(double) * 6 * (size_t)H);
    if (!xbar || !rows) { free(xbar); free(rows); return -1; }
    for (int64_t img = 0; img < n; img++) {
        const real *X = x + img * HW, *Y0 = y + 2 * img * HW, *Y1 = Y0 + HW, *K = kty + img * HW;
        real *XN = xn + img * HW, *N0 = yn + 2 * img * HW, *N1 = N0 + HW, *KN = kn + img * HW;
        const real *R = r ? r + img * r_stride : NULL, *D = d ? d + img * d_stride : NULL;
        /* relax 1: x⁺ itself; radius as the projection's scale */
        params_t p = {H, W, tau, sigma, theta, 1, radius, R, D, r0, d0};
        _Pragma("omp parallel for num_threads(nthreads) schedule(static)")
        for (int64_t i = 0; i < H; i++)
            xbar_rows(&p, X + i * W, K + i * W, R ? R + i * W : NULL, D ? D + i * W : NULL, xbar + i * W, XN + i * W);
        _Pragma("omp parallel for num_threads(nthreads) schedule(static)")
        for (int64_t i = 0; i < H; i++) {
            for (int64_t j = 0; j < W; j++) { N0[i * W + j] = Y0[i * W + j]; N1[i * W + j] = Y1[i * W + j]; }
            y_rows(&p, N0 + i * W, N1 + i * W, xbar + i * W, i + 1 < H ? xbar + (i + 1) * W : NULL);
        }
        _Pragma("omp parallel for num_threads(nthreads) schedule(static)")
        for (int64_t i = 0; i < H; i++) {
            kty_rows(&p, KN + i * W, i > 0 ? N0 + (i - 1) * W : NULL, i + 1 < H ? N0 + i * W : NULL, N1 + i * W);
            double s[6] = {0, 0, 0, 0, 0, 0};
            for (int64_t j = 0; j < W; j++) {
                const int64_t q = i * W + j;
                const real xi = (X[q] - XN[q]) / tau - K[q];
                const real pr = xi + KN[q];
                const real gb0 = i + 1 < H ? xbar[q + W] - xbar[q] : (real)0, gb1 = j + 1 < W ? xbar[q + 1] - xbar[q] : (real)0;
                const real gx0 = i + 1 < H ? XN[q + W] - XN[q] : (real)0, gx1 = j + 1 < W ? XN[q + 1] - XN[q] : (real)0;
                const real z0 = (Y0[q] - N0[q]) / sigma + gb0, z1 = (Y1[q] - N1[q]) / sigma + gb1;
                s[0] += (double)pr * pr;
                s[1] += (double)xi * xi;
                s[2] += (double)KN[q] * KN[q];
                s[3] += (double)(z0 - gx0) * (z0 - gx0) + (double)(z1 - gx1) * (z1 - gx1);
                s[4] += (double)z0 * z0 + (double)z1 * z1;
                s[5] += (double)gx0 * gx0 + (double)gx1 * gx1;
            }
            for (int c = 0; c < 6; c++) rows[6 * i + c] = s[c];
        }
        for (int c = 0; c < 6; c++) {
            double t = 0;
            for (int64_t i = 0; i < H; i++) t += rows[6 * i + c];
            sums[6 * img + c] = t;
        }
    }
    free(xbar);
    free(rows);
    return 0;
}

/* a 3×4 image, two iterations: weighted sums of x, y and KTy, against the eager iteration's */
#define SELFTEST_X 36.1639253179153
#define SELFTEST_Y 5.263221712933434
#define SELFTEST_K (-0.11206944046342926)
static int FN(tv_selftest)(void)
{
    real x[12], y[24], k[12], r[12];
    for (int i = 0; i < 12; i++) { x[i] = r[i] = (real)((i * 7) % 5) / 4; }
    for (int i = 0; i < 24; i++) y[i] = 0;
    for (int i = 0; i < 12; i++) k[i] = 0;
    if (FN(tv_pdhg)(2, 1, 1, 3, 4, x, y, k, r, 0, 0, NULL, 0, 1, (real)0.3, (real)0.4, 1, (real)1.5, (real)0.2))
        return -1;
    double sx = 0, sy = 0, sk = 0;
    for (int i = 0; i < 12; i++) { sx += x[i] * (i + 1); sk += k[i] * (i + 1); }
    for (int i = 0; i < 24; i++) sy += y[i] * (i + 1);
    return fabs(sx - SELFTEST_X) < 1e-4 && fabs(sy - SELFTEST_Y) < 1e-4 && fabs(sk - SELFTEST_K) < 1e-4 ? 0 : -1;
}

int gridprox_selftest(void)
{
    return FN(tv_selftest)() == 0 ? 29317 : -1;
}
