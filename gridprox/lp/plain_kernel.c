/* Plain reflected-Halpern PDHG iterations for LPs, fused per block of rows (see native.py).
 *
 * One call runs `iters` iterations of, for W scenarios in column layout (row-major (rows, W)):
 *
 *     x̂ = clamp(x − τ(c − Aᵀy), l_x, u_x),  x̄ = 2x̂ − x,   x ← x0 + w(x̄ − x0)
 *     v = A x̄ − y/σ,  ŷ = σ(clamp(v, l_c, u_c) − v),     y ← y0 + w(2ŷ − y − y0)
 *
 * with w = (k+1)/(k+2) and k += 1 per iteration: the eager torch iteration of method.py
 * (step + advance).  Between the iterations of one call the Halpern x is not stored: x̄ (XB,
 * which the dual half needs anyway) and the anchor give it back, x = x0 + w_prev(x̄ − x0), so
 * only a call's first iteration reads X and only its last writes it (an n-vector read and
 * write fewer per iteration; RESULTS, "C kernel").
 * Each block's sparse products are followed at once by its rows' elementwise updates, so each
 * vector is read and written once per iteration instead of the ~11 passes of the eager
 * iteration, and the whole run stays inside one OpenMP region with a barrier between the
 * primal and the dual half.
 *
 * Matrices (A for the dual half, Aᵀ for the primal half) are in SELL-8 form: rows in chunks
 * of 8 consecutive rows, a chunk's entries stored column-major over the chunk, (k, r) at
 * ptr[chunk] + 8k + r, padded with zero entries to the chunk's longest row.  Eight rows then
 * accumulate side by side (independent sums instead of one dependent chain per short row;
 * capacity-expansion rows have 2-4 entries).  Rows longer than the chunks take (`is_long`)
 * are left out of them and summed from the CSR arrays (the capacity columns of Aᵀ, a CO2
 * row).  Threads take chunks in equal shares of `work` (a prefix sum over chunks); each
 * thread runs its chunks in tiles of TILE accumulator entries: the tile's products, then its
 * rows' updates.  At W = 1 the products are kept scalar (eight independent sums per chunk;
 * vectorised with emulated gathers they were slower) and the updates are vectorised; at W > 1
 * both vectorise over the scenarios.  Data with one column are shared by the batch (s* = 0),
 * else one column per scenario (s* = 1).
 */
#include <stdint.h>
#include <omp.h>
#if defined(__SSE__)
#include <xmmintrin.h>
/* flush denormals to zero inside the kernel's threads (restored after): iterates that decay
 * towards zero otherwise hit the slow microcoded path */
#define DENORMALS_OFF unsigned int csr_saved = _mm_getcsr(); _mm_setcsr(csr_saved | 0x8040);
#define DENORMALS_RESTORE _mm_setcsr(csr_saved);
#else
#define DENORMALS_OFF
#define DENORMALS_RESTORE
#endif

#define MAX_WIDTH 64
#define CHUNK 8
#define TILE 2048              /* entries (rows x W) of the accumulator tile */

typedef struct {
    int64_t rows;
    const int64_t *ptr;        /* (chunks + 1) entry offsets */
    const int32_t *width;      /* (chunks) entries per row of the chunk */
    const int32_t *col;        /* SELL column indices */
    const uint8_t *is_long;    /* (rows) 1: summed from the CSR arrays */
    const uint8_t *has_long;   /* (chunks) some row of the chunk is long */
    const int64_t *work;       /* (chunks + 1) prefix sum of each chunk's work */
    const int32_t *crow;       /* CSR, for the long rows */
    const int32_t *ccol;
} sell_t;

/* first chunk c with work[c] >= target */
static int64_t split(const int64_t *work, int64_t chunks, int64_t target) {
    int64_t lo = 0, hi = chunks;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (work[mid] < target) lo = mid + 1; else hi = mid;
    }
    return lo;
}

static void share(const sell_t *M, int tid, int nt, int64_t *c0, int64_t *c1) {
    int64_t chunks = (M->rows + CHUNK - 1) / CHUNK, total = M->work[chunks];
    *c0 = tid == 0 ? 0 : split(M->work, chunks, total * tid / nt);
    *c1 = tid == nt - 1 ? chunks : split(M->work, chunks, total * (tid + 1) / nt);
}

#include <string.h>
/* widest vectors the CPU has: 64 bytes with AVX-512, else 32 */
#if defined(__AVX512F__)
#define WIDEST_VECTOR 64
#else
#define WIDEST_VECTOR 32
#endif
/* acc[b..] += a v[b..] in vectors of BYTES while they fit in W (and the CPU has them) */
#define AXPY_VECTORS(VEC, BYTES)                                                                  \
    if (BYTES <= WIDEST_VECTOR)                                                                   \
        for (; b + (int64_t)(BYTES / sizeof(a)) <= W; b += BYTES / sizeof(a)) {                   \
            VEC x, y;                                                                             \
            memcpy(&x, v + b, BYTES);                                                             \
            memcpy(&y, acc + b, BYTES);                                                           \
            y += a * x;                                                                           \
            memcpy(acc + b, &y, BYTES);                                                           \
        }

/* the data arrays of both entry points, by index into their `D` (pointers) and `S` (column
   strides: 0 shared by the batch, 1 one column per scenario); the plain iterations read the
   first five (native.py's DATA) */
enum { D_C, D_LX, D_UX, D_LC, D_UC, D_DROW, D_DCOL, D_LCZ, D_UCZ, D_LXZ, D_UXZ, D_GLO, D_GHI, ND };

/* CALL(NAME, w) with w a constant for the widths compiled on their own (so their loops over the
   scenarios unroll into whole vectors and a chunk's accumulator stays in registers), else with
   the runtime W; W = 1 is dispatched before.  2-8 and 12 besides 16: a stream's tail passes
   through them (float32, 1 x 8760 h: W = 3 took 1,273 us per iteration at runtime width, 625 us
   compiled, W = 4 561 us; W = 6 1,461 -> 863, W = 12 1,445 -> 1,094); each width adds ~1.3 s
   of compiler time to the first build, so the rarer ones keep the runtime loop */
#define BY_WIDTH(W, NAME, CALL)                                                                   \
    if (W == 2) CALL(NAME, 2);                                                                    \
    else if (W == 3) CALL(NAME, 3);                                                               \
    else if (W == 4) CALL(NAME, 4);                                                               \
    else if (W == 5) CALL(NAME, 5);                                                               \
    else if (W == 6) CALL(NAME, 6);                                                               \
    else if (W == 7) CALL(NAME, 7);                                                               \
    else if (W == 8) CALL(NAME, 8);                                                               \
    else if (W == 12) CALL(NAME, 12);                                                             \
    else if (W == 16) CALL(NAME, 16);                                                             \
    else CALL(NAME, W);
#define PRODUCTS_AT(NAME, WIDTH) NAME##_products_body(WIDTH, M, sval, cval, c0, c1, v, out)
#define ITERATION_AT(NAME, WIDTH)                                                                 \
    NAME##_iteration(WIDTH, A, sval, cval, AT, svalt, cvalt, p0, p1, d0, d1, c, sc, lx, slx, ux, sux, \
                     lc, slc, uc, suc, ntau, sigma, ninv_sigma, wgt, wprev, it == 0, it == iters - 1, \
                     X, X0, XB, Y, Y0, acc)

#define CHECK_AT(NAME, WIDTH)                                                                     \
    NAME##_check_width(WIDTH, A, sval, cval, AT, svalt, cvalt, D, S, p0, p1, d0, d1, ntau, sigma,  \
                       ninv_sigma, X, Y, X0, Y0, XH, XB, YH, AXB, AXH, ATYH, sum, acc, acc2)

#define ITERATIONS_AT(NAME, WIDTH) do {                                                           \
    for (int it = 0; it < iters; ++it) {                                                          \
        for (int64_t b = 0; b < WIDTH; ++b) {                                                     \
            if (it) wprev[b] = wgt[b];   /* x from XB and X0 from it = 1 on (first: from X) */    \
            wgt[b] = (k[b] + it + 1) / (k[b] + it + 2);                                           \
        }                                                                                         \
        ITERATION_AT(NAME, WIDTH);                                                                \
    } } while (0)

#define PRIMAL_ROWS_AS(NAME, FIRST, LAST)                                                         \
    NAME##_primal_rows(W, t0 * CHUNK, j1, acc, c, sc, lx, slx, ux, sux, ntau, wgt, wprev, FIRST,     \
                       LAST, X, X0, XB)

#define CLAMP(v, lo, hi) ((v) < (lo) ? (lo) : ((v) > (hi) ? (hi) : (v)))

#define DEFINE_PLAIN(NAME, REAL)                                                                  \
typedef REAL NAME##_v64 __attribute__((vector_size(64)));                                         \
typedef REAL NAME##_v32 __attribute__((vector_size(32)));                                         \
typedef REAL NAME##_v16 __attribute__((vector_size(16)));                                         \
                                                                                                  \
/* acc[b] += a v[b], b < W, in explicit vectors, widest first (64-byte ones where the CPU has     \
   them: at W = 8 doubles a chunk's accumulator is then 8 registers instead of 16 spilled ones);  \
   left to itself the compiler vectorised the products across a chunk's rows with gathers         \
   instead, 3x slower at W = 16 on AMD Zen 3 */                                                   \
static inline __attribute__((always_inline)) void NAME##_axpy(                                    \
    const int64_t W, const REAL a, const REAL *restrict v, REAL *restrict acc)                    \
{                                                                                                 \
    int64_t b = 0;                                                                                \
    AXPY_VECTORS(NAME##_v64, 64)                                                                  \
    AXPY_VECTORS(NAME##_v32, 32)                                                                  \
    AXPY_VECTORS(NAME##_v16, 16)                                                                  \
    for (; b < W; ++b) acc[b] += a * v[b];                                                        \
}                                                                                                 \
                                                                                                  \
/* out[(c − c0)·CHUNK·W + r·W + b] = (M v)[row c·CHUNK + r, b] for chunks c0 ≤ c < c1 */          \
static inline __attribute__((always_inline)) void NAME##_products_body(                           \
    const int64_t W, const sell_t *M, const REAL *restrict sval, const REAL *restrict cval,       \
    int64_t c0, int64_t c1, const REAL *restrict v, REAL *restrict out)                           \
{                                                                                                 \
    for (int64_t c = c0; c < c1; ++c) {                                                           \
        REAL *acc = out + (c - c0) * CHUNK * W;                                                   \
        for (int64_t q = 0; q < CHUNK * W; ++q) acc[q] = 0;                                       \
        const int64_t base = M->ptr[c];                                                           \
        const int32_t width = M->width[c];                                                        \
        for (int32_t k = 0; k < width; ++k) {                                                     \
            for (int r = 0; r < CHUNK; ++r) {                                                     \
                const int64_t e = base + (int64_t)CHUNK * k + r;                                  \
                if (W == 1) acc[r] += sval[e] * v[M->col[e]];                                     \
                else NAME##_axpy(W, sval[e], v + (int64_t)M->col[e] * W, acc + r * W);            \
            }                                                                                     \
        }                                                                                         \
        if (!M->has_long[c]) continue;                                                            \
        for (int r = 0; r < CHUNK; ++r) {                                                         \
            const int64_t i = c * CHUNK + r;                                                      \
            if (i >= M->rows || !M->is_long[i]) continue;                                         \
            const int32_t p0 = M->crow[i], p1 = M->crow[i + 1];                                   \
            if (W == 1) {                   /* four partial sums: no single dependent chain */    \
                REAL s0 = 0, s1 = 0, s2 = 0, s3 = 0;                                              \
                int32_t p = p0;                                                                   \
                for (; p + 3 < p1; p += 4) {                                                      \
                    s0 += cval[p] * v[M->ccol[p]];         s1 += cval[p + 1] * v[M->ccol[p + 1]]; \
                    s2 += cval[p + 2] * v[M->ccol[p + 2]]; s3 += cval[p + 3] * v[M->ccol[p + 3]]; \
                }                                                                                 \
                for (; p < p1; ++p) s0 += cval[p] * v[M->ccol[p]];                                \
                acc[r] = (s0 + s1) + (s2 + s3);                                                   \
            } else {                                                                              \
                for (int32_t p = p0; p < p1; ++p)                                                 \
                    NAME##_axpy(W, cval[p], v + (int64_t)M->ccol[p] * W, acc + r * W);            \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
__attribute__((noinline, optimize("no-tree-vectorize", "no-tree-slp-vectorize")))                 \
static void NAME##_products_scalar(const sell_t *M, const REAL *restrict sval,                    \
                                   const REAL *restrict cval, int64_t c0, int64_t c1,             \
                                   const REAL *restrict v, REAL *restrict out)                    \
{                                                                                                 \
    NAME##_products_body(1, M, sval, cval, c0, c1, v, out);                                       \
}                                                                                                 \
                                                                                                  \
static void NAME##_products(const int64_t W, const sell_t *M, const REAL *restrict sval,          \
                            const REAL *restrict cval, int64_t c0, int64_t c1,                    \
                            const REAL *restrict v, REAL *restrict out)                           \
{                                                                                                 \
    if (W == 1) NAME##_products_scalar(M, sval, cval, c0, c1, v, out);                            \
    else { BY_WIDTH(W, NAME, PRODUCTS_AT) }                                                       \
}                                                                                                 \
                                                                                                  \
/* row j of a data array: its own W values (s = 1), or its one shared value broadcast into tmp */ \
static inline __attribute__((always_inline)) const REAL *NAME##_row(                              \
    const int64_t W, const REAL *t, int64_t s, int64_t j, REAL *tmp)                              \
{                                                                                                 \
    if (W == 1 || s) return t + j * W;                                                            \
    for (int64_t b = 0; b < W; ++b) tmp[b] = t[j];                                                \
    return tmp;                                                                                   \
}                                                                                                 \
                                                                                                  \
/* x̂, x̄ → XB and the Halpern x for rows j0 ≤ j < j1 from acc = (Aᵀy)[j0:j1] */                   \
static inline __attribute__((always_inline)) void NAME##_primal_rows(                             \
    const int64_t W, int64_t j0, int64_t j1, const REAL *restrict acc,                            \
    const REAL *c, int64_t sc, const REAL *lx, int64_t slx, const REAL *ux, int64_t sux,          \
    const REAL *restrict ntau, const REAL *restrict wgt, const REAL *restrict wprev, int first,   \
    int last, REAL *restrict X, const REAL *restrict X0, REAL *restrict XB)                       \
{                                                                                                 \
    REAL tc[MAX_WIDTH], tl[MAX_WIDTH], tu[MAX_WIDTH];                                             \
    for (int64_t j = j0; j < j1; ++j) {                                                           \
        const REAL *cj = NAME##_row(W, c, sc, j, tc), *lj = NAME##_row(W, lx, slx, j, tl);        \
        const REAL *uj = NAME##_row(W, ux, sux, j, tu), *aj = acc + (j - j0) * W;                 \
        REAL *xj = X + j * W, *xbj = XB + j * W;                                                  \
        const REAL *x0j = X0 + j * W;                                                             \
        for (int64_t b = 0; b < W; ++b) {                                                         \
            const REAL x = first ? xj[b] : x0j[b] + wprev[b] * (xbj[b] - x0j[b]);                 \
            REAL xh = x + ntau[b] * (cj[b] - aj[b]);                                              \
            xh = xh < lj[b] ? lj[b] : xh;                                                         \
            xh = xh > uj[b] ? uj[b] : xh;                                                         \
            const REAL xb = 2 * xh - x;                                                           \
            xbj[b] = xb;                                                                          \
            if (last) xj[b] = x0j[b] + wgt[b] * (xb - x0j[b]);                                    \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
/* ŷ and the Halpern y for rows i0 ≤ i < i1 from acc = (A x̄)[i0:i1] */                            \
static inline __attribute__((always_inline)) void NAME##_dual_rows(                               \
    const int64_t W, int64_t i0, int64_t i1, const REAL *restrict acc,                            \
    const REAL *lc, int64_t slc, const REAL *uc, int64_t suc, const REAL *restrict sigma,         \
    const REAL *restrict ninv_sigma, const REAL *restrict wgt, REAL *restrict Y,                  \
    const REAL *restrict Y0)                                                                      \
{                                                                                                 \
    REAL tl[MAX_WIDTH], tu[MAX_WIDTH];                                                            \
    for (int64_t i = i0; i < i1; ++i) {                                                           \
        const REAL *li = NAME##_row(W, lc, slc, i, tl), *ui = NAME##_row(W, uc, suc, i, tu);      \
        const REAL *ai = acc + (i - i0) * W, *y0i = Y0 + i * W;                                   \
        REAL *yi = Y + i * W;                                                                     \
        for (int64_t b = 0; b < W; ++b) {                                                         \
            const REAL y = yi[b], v = ai[b] + y * ninv_sigma[b];                                  \
            REAL pv = v < li[b] ? li[b] : v;                                                      \
            pv = pv > ui[b] ? ui[b] : pv;                                                         \
            const REAL yh = sigma[b] * (pv - v);                                                  \
            yi[b] = y0i[b] + wgt[b] * (2 * yh - y - y0i[b]);                                      \
        }                                                                                         \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
/* a thread's chunks of Aᵀ (p) and A (d), and −τ, −1/σ (multiplied, as in the eager step) */    \
static inline void NAME##_thread_setup(int64_t W, const sell_t *A, const sell_t *AT,              \
    const REAL *tau, const REAL *sigma, REAL *ntau, REAL *ninv_sigma, int64_t *p, int64_t *d)     \
{                                                                                                 \
    const int tid = omp_get_thread_num(), nt = omp_get_num_threads();                             \
    share(AT, tid, nt, &p[0], &p[1]);                                                             \
    share(A, tid, nt, &d[0], &d[1]);                                                              \
    for (int64_t b = 0; b < W; ++b) {                                                             \
        ntau[b] = -tau[b];                                                                        \
        ninv_sigma[b] = -1 / sigma[b];                                                            \
    }                                                                                             \
}                                                                                                 \
                                                                                                  \
static inline __attribute__((always_inline)) void NAME##_iteration(                               \
    const int64_t W, const sell_t *A, const REAL *sval, const REAL *cval,                         \
    const sell_t *AT, const REAL *svalt, const REAL *cvalt,                                       \
    int64_t p0, int64_t p1, int64_t d0, int64_t d1,                                               \
    const REAL *c, int64_t sc, const REAL *lx, int64_t slx, const REAL *ux, int64_t sux,          \
    const REAL *lc, int64_t slc, const REAL *uc, int64_t suc,                                     \
    const REAL *ntau, const REAL *sigma, const REAL *ninv_sigma, const REAL *wgt,                 \
    const REAL *wprev, int first, int last,                                                       \
    REAL *X, const REAL *X0, REAL *XB, REAL *Y, const REAL *Y0, REAL *acc)                        \
{                                                                                                 \
    const int64_t step = TILE / (CHUNK * W) > 0 ? TILE / (CHUNK * W) : 1;   /* chunks a tile */   \
    for (int64_t t0 = p0; t0 < p1; t0 += step) {                                                  \
        const int64_t t1 = t0 + step < p1 ? t0 + step : p1;                                       \
        NAME##_products(W, AT, svalt, cvalt, t0, t1, Y, acc);                                     \
        const int64_t j1 = t1 * CHUNK < AT->rows ? t1 * CHUNK : AT->rows;                         \
        /* constant first/last in each call: the row loops are compiled once per case */         \
        if (!first && !last) PRIMAL_ROWS_AS(NAME, 0, 0);                                          \
        else if (!first) PRIMAL_ROWS_AS(NAME, 0, 1);                                              \
        else if (!last) PRIMAL_ROWS_AS(NAME, 1, 0);                                               \
        else PRIMAL_ROWS_AS(NAME, 1, 1);                                                          \
    }                                                                                             \
    _Pragma("omp barrier")                                                                        \
    for (int64_t t0 = d0; t0 < d1; t0 += step) {                                                  \
        const int64_t t1 = t0 + step < d1 ? t0 + step : d1;                                       \
        NAME##_products(W, A, sval, cval, t0, t1, XB, acc);                                       \
        const int64_t i1 = t1 * CHUNK < A->rows ? t1 * CHUNK : A->rows;                           \
        NAME##_dual_rows(W, t0 * CHUNK, i1, acc, lc, slc, uc, suc, sigma, ninv_sigma, wgt, Y, Y0); \
    }                                                                                             \
    _Pragma("omp barrier")                                                                        \
}                                                                                                 \
                                                                                                  \
int NAME(int iters, int nthreads, int64_t W,                                                      \
         const sell_t *A, const REAL *sval, const REAL *cval,                                     \
         const sell_t *AT, const REAL *svalt, const REAL *cvalt,                                  \
         const REAL *const *D, const int64_t *S, const REAL *tau, const REAL *sigma, REAL *k,     \
         REAL *X, const REAL *X0, REAL *XB, REAL *Y, const REAL *Y0)                              \
{                                                                                                 \
    if (W < 1 || W > MAX_WIDTH) return -1;                                                        \
    const REAL *c = D[D_C], *lx = D[D_LX], *ux = D[D_UX], *lc = D[D_LC], *uc = D[D_UC];          \
    const int64_t sc = S[D_C], slx = S[D_LX], sux = S[D_UX], slc = S[D_LC], suc = S[D_UC];        \
    _Pragma("omp parallel num_threads(nthreads)")                                                 \
    {                                                                                             \
        int64_t p[2], d[2];                                                                       \
        REAL wgt[MAX_WIDTH], wprev[MAX_WIDTH], ntau[MAX_WIDTH], ninv_sigma[MAX_WIDTH];            \
        REAL acc[TILE > CHUNK * MAX_WIDTH ? TILE : CHUNK * MAX_WIDTH];                            \
        NAME##_thread_setup(W, A, AT, tau, sigma, ntau, ninv_sigma, p, d);                        \
        const int64_t p0 = p[0], p1 = p[1], d0 = d[0], d1 = d[1];                                 \
        DENORMALS_OFF                                                                             \
        /* the width dispatched once, outside the loop: each width's loop is compiled on its own */ \
        if (W == 1) ITERATIONS_AT(NAME, 1);                                                       \
        else { BY_WIDTH(W, NAME, ITERATIONS_AT) }                                                 \
        DENORMALS_RESTORE                                                                         \
    }                                                                                             \
    for (int64_t b = 0; b < W; ++b) k[b] += iters;                                                \
    return 0;                                                                                     \
}

/* The step of a check iteration, without the Halpern update: x̂ → XH, x̄ → XB, A x̄ → AXB, ŷ → YH,
 * A x̂ → AXH, Aᵀŷ → ATYH, and per scenario the sums of measures.py's SUMS, in its order
 * (accumulated in double; threads' partial sums added in thread order), with
 * r = A x̂ − clamp(A x̂, l_c, u_c), g = c − Aᵀŷ, g' = g − clamp(g, g_lo, g_hi):
 *   S_PRIMAL Σ (r/d_row)²   S_DUAL Σ (g'/d_col)²   S_CX Σ c x̂
 *   S_Y_BOUND Σ ŷ·(ŷ > 0 ? l_cz : u_cz)   S_G_BOUND Σ g·(g > 0 ? l_xz : u_xz)
 *   S_DX Σ (x̂ − x)²   S_DY Σ (ŷ − y)²   S_ADX_DY Σ (A x̄ − A x̂)(ŷ − y)
 *   S_DX0 Σ (x̂ − x0)²   S_DY0 Σ (ŷ − y0)²
 * `D` / `S` in the order of the D_* enum (native.py's DATA). */
enum { S_PRIMAL, S_DUAL, S_CX, S_Y_BOUND, S_G_BOUND, S_DX, S_DY, S_ADX_DY, S_DX0, S_DY0, NSUM };

#define DEFINE_CHECK(NAME, REAL)                                                                  \
static inline __attribute__((always_inline)) void NAME##_check_width(                             \
    const int64_t W, const sell_t *A, const REAL *sval, const REAL *cval,                         \
    const sell_t *AT, const REAL *svalt, const REAL *cvalt, const REAL *const *D,                 \
    const int64_t *S, int64_t p0, int64_t p1, int64_t d0, int64_t d1,                             \
    const REAL *ntau, const REAL *sigma, const REAL *ninv_sigma,                                  \
    const REAL *restrict X, const REAL *restrict Y, const REAL *restrict X0,                      \
    const REAL *restrict Y0, REAL *restrict XH, REAL *restrict XB, REAL *restrict YH,             \
    REAL *restrict AXB, REAL *restrict AXH, REAL *restrict ATYH, double *restrict out,            \
    REAL *restrict acc, REAL *restrict acc2)                                                      \
{                                                                                                 \
    REAL t0[MAX_WIDTH], t1[MAX_WIDTH], t2[MAX_WIDTH], t3[MAX_WIDTH], t4[MAX_WIDTH], t5[MAX_WIDTH]; \
    double sum[NSUM * W];                   /* local: kept in registers / L1, not stored per row */  \
    for (int64_t q = 0; q < NSUM * W; ++q) sum[q] = 0;                                            \
    const int64_t step = TILE / (CHUNK * W) > 0 ? TILE / (CHUNK * W) : 1;                         \
    for (int64_t c0 = p0; c0 < p1; c0 += step) {            /* x̂, x̄ from Aᵀy */                  \
        const int64_t c1 = c0 + step < p1 ? c0 + step : p1;                                       \
        NAME##_products(W, AT, svalt, cvalt, c0, c1, Y, acc);                                     \
        const int64_t j1 = c1 * CHUNK < AT->rows ? c1 * CHUNK : AT->rows;                         \
        for (int64_t j = c0 * CHUNK; j < j1; ++j) {                                               \
            const REAL *cj = NAME##_row(W, D[D_C], S[D_C], j, t0);                                \
            const REAL *lj = NAME##_row(W, D[D_LX], S[D_LX], j, t1);                              \
            const REAL *uj = NAME##_row(W, D[D_UX], S[D_UX], j, t2);                              \
            const REAL *aj = acc + (j - c0 * CHUNK) * W;                                          \
            for (int64_t b = 0; b < W; ++b) {                                                     \
                const int64_t e = j * W + b;                                                      \
                const REAL x = X[e];                                                              \
                const REAL xh = CLAMP(x + ntau[b] * (cj[b] - aj[b]), lj[b], uj[b]);               \
                XH[e] = xh;                                                                       \
                XB[e] = 2 * xh - x;                                                               \
                sum[S_CX * W + b] += (double)cj[b] * xh;                                             \
                sum[S_DX * W + b] += (double)(xh - x) * (xh - x);                                    \
                sum[S_DX0 * W + b] += (double)(xh - X0[e]) * (xh - X0[e]);                           \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    _Pragma("omp barrier")                                                                        \
    for (int64_t c0 = d0; c0 < d1; c0 += step) {            /* ŷ from A x̄; A x̂ */                 \
        const int64_t c1 = c0 + step < d1 ? c0 + step : d1;                                       \
        NAME##_products(W, A, sval, cval, c0, c1, XB, acc);                                       \
        NAME##_products(W, A, sval, cval, c0, c1, XH, acc2);                                      \
        const int64_t i1 = c1 * CHUNK < A->rows ? c1 * CHUNK : A->rows;                           \
        for (int64_t i = c0 * CHUNK; i < i1; ++i) {                                               \
            const REAL *li = NAME##_row(W, D[D_LC], S[D_LC], i, t0);                              \
            const REAL *ui = NAME##_row(W, D[D_UC], S[D_UC], i, t1);                              \
            const REAL *ri = NAME##_row(W, D[D_DROW], S[D_DROW], i, t2);                          \
            const REAL *lz = NAME##_row(W, D[D_LCZ], S[D_LCZ], i, t3);                            \
            const REAL *uz = NAME##_row(W, D[D_UCZ], S[D_UCZ], i, t4);                            \
            const REAL *ab = acc + (i - c0 * CHUNK) * W, *ah = acc2 + (i - c0 * CHUNK) * W;       \
            for (int64_t b = 0; b < W; ++b) {                                                     \
                const int64_t e = i * W + b;                                                      \
                const REAL y = Y[e], v = ab[b] + y * ninv_sigma[b];                               \
                const REAL yh = sigma[b] * (CLAMP(v, li[b], ui[b]) - v);                          \
                const REAL r = ah[b] - CLAMP(ah[b], li[b], ui[b]), rd = r / ri[b];                \
                YH[e] = yh;                                                                       \
                AXB[e] = ab[b];                                                                   \
                AXH[e] = ah[b];                                                                   \
                sum[S_PRIMAL * W + b] += (double)rd * rd;                                                \
                sum[S_Y_BOUND * W + b] += (double)yh * (yh > 0 ? lz[b] : uz[b]);                          \
                sum[S_DY * W + b] += (double)(yh - y) * (yh - y);                                    \
                sum[S_ADX_DY * W + b] += (double)(ab[b] - ah[b]) * (yh - y);                             \
                sum[S_DY0 * W + b] += (double)(yh - Y0[e]) * (yh - Y0[e]);                           \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    _Pragma("omp barrier")                                                                        \
    for (int64_t c0 = p0; c0 < p1; c0 += step) {            /* Aᵀŷ and the reduced costs */       \
        const int64_t c1 = c0 + step < p1 ? c0 + step : p1;                                       \
        NAME##_products(W, AT, svalt, cvalt, c0, c1, YH, acc);                                    \
        const int64_t j1 = c1 * CHUNK < AT->rows ? c1 * CHUNK : AT->rows;                         \
        for (int64_t j = c0 * CHUNK; j < j1; ++j) {                                               \
            const REAL *cj = NAME##_row(W, D[D_C], S[D_C], j, t0);                                \
            const REAL *dj = NAME##_row(W, D[D_DCOL], S[D_DCOL], j, t1);                          \
            const REAL *lz = NAME##_row(W, D[D_LXZ], S[D_LXZ], j, t2);                            \
            const REAL *uz = NAME##_row(W, D[D_UXZ], S[D_UXZ], j, t3);                            \
            const REAL *gl = NAME##_row(W, D[D_GLO], S[D_GLO], j, t4);                            \
            const REAL *gh = NAME##_row(W, D[D_GHI], S[D_GHI], j, t5);                            \
            const REAL *aj = acc + (j - c0 * CHUNK) * W;                                          \
            for (int64_t b = 0; b < W; ++b) {                                                     \
                const int64_t e = j * W + b;                                                      \
                ATYH[e] = aj[b];                                                                  \
                const REAL g = cj[b] - aj[b], gr = g - CLAMP(g, gl[b], gh[b]), gd = gr / dj[b];   \
                sum[S_DUAL * W + b] += (double)gd * gd;                                                \
                sum[S_G_BOUND * W + b] += (double)g * (g > 0 ? lz[b] : uz[b]);                            \
            }                                                                                     \
        }                                                                                         \
    }                                                                                             \
    for (int64_t q = 0; q < NSUM * W; ++q) out[q] = sum[q];                                       \
}                                                                                                 \
                                                                                                  \
int NAME##_check(int nthreads, int64_t W, const sell_t *A, const REAL *sval, const REAL *cval,    \
                 const sell_t *AT, const REAL *svalt, const REAL *cvalt,                          \
                 const REAL *const *D, const int64_t *S, const REAL *tau, const REAL *sigma,      \
                 const REAL *X, const REAL *Y, const REAL *X0, const REAL *Y0, REAL *XH,          \
                 REAL *XB, REAL *YH, REAL *AXB, REAL *AXH, REAL *ATYH, double *sums,              \
                 double *parts)                                                                   \
{                                                                                                 \
    /* parts: nthreads * NSUM * W scratch for the threads' partial sums */                        \
    if (W < 1 || W > MAX_WIDTH) return -1;                                                        \
    int used = 1;                                                                                 \
    _Pragma("omp parallel num_threads(nthreads)")                                                 \
    {                                                                                             \
        const int tid = omp_get_thread_num();                                                     \
        int64_t p[2], d[2];                                                                       \
        REAL ntau[MAX_WIDTH], ninv_sigma[MAX_WIDTH];                                              \
        REAL acc[TILE > CHUNK * MAX_WIDTH ? TILE : CHUNK * MAX_WIDTH];                            \
        REAL acc2[TILE > CHUNK * MAX_WIDTH ? TILE : CHUNK * MAX_WIDTH];                           \
        double *sum = parts + (int64_t)tid * NSUM * W;      /* written whole by _check_width */    \
        if (tid == 0) used = omp_get_num_threads();                                               \
        NAME##_thread_setup(W, A, AT, tau, sigma, ntau, ninv_sigma, p, d);                        \
        const int64_t p0 = p[0], p1 = p[1], d0 = d[0], d1 = d[1];                                 \
        DENORMALS_OFF                                                                             \
        /* restrict pointers and a constant width let the row loops vectorise over the        \
           scenarios (RESULTS, "C kernel"); a check                                               \
           comes once per 64 iterations, so the other widths keep the runtime loop (build time) */ \
        if (W == 1) CHECK_AT(NAME, 1);                                                            \
        else if (W == 2) CHECK_AT(NAME, 2);                                                       \
        else if (W == 4) CHECK_AT(NAME, 4);                                                       \
        else if (W == 8) CHECK_AT(NAME, 8);                                                       \
        else if (W == 16) CHECK_AT(NAME, 16);                                                     \
        else CHECK_AT(NAME, W);                                                                   \
        DENORMALS_RESTORE                                                                         \
    }                                                                                             \
    for (int64_t q = 0; q < NSUM * W; ++q) {                                                      \
        double total = 0;                                                                         \
        for (int t = 0; t < used; ++t) total += parts[(int64_t)t * NSUM * W + q];                 \
        sums[q] = total;                                                                          \
    }                                                                                             \
    return 0;                                                                                     \
}

/* native.py builds the two precisions as two libraries at once (-DONLY_FLOAT64 / -DONLY_FLOAT32):
   half the wall time of the first build on two cores */
#ifndef ONLY_FLOAT32
DEFINE_PLAIN(plain_f64, double)
DEFINE_CHECK(plain_f64, double)
#endif
#ifndef ONLY_FLOAT64
DEFINE_PLAIN(plain_f32, float)
DEFINE_CHECK(plain_f32, float)
#endif

/* kernel_cache.py's check that a built library loads and computes before the solver loads it
 * (run in a subprocess): one SELL-8 product, at W = 1 and W = 2, with
 * [[1 2 0] [0 3 4] [5 0 6]] (v = (1, 2, 3); the second column 2v) in each precision compiled.
 * Returns 51823 (Av = (5, 18, 23) as 5·10⁴ + 18·10² + 23) when every product is right, else -1. */
#define DEFINE_SELFTEST(NAME, REAL)                                                               \
static int NAME##_selftest(void)                                                                  \
{                                                                                                 \
    static const int64_t ptr[2] = {0, 2 * CHUNK}, work[2] = {0, 3 * CHUNK};                      \
    static const int32_t width[1] = {2}, crow[4] = {0, 2, 4, 6}, ccol[6] = {0, 1, 1, 2, 0, 2};    \
    static const int32_t col[2 * CHUNK] = {0, 1, 0, 0, 0, 0, 0, 0, 1, 2, 2, 0, 0, 0, 0, 0};        \
    static const uint8_t is_long[3] = {0, 0, 0}, has_long[1] = {0};                               \
    const REAL val[2 * CHUNK] = {1, 3, 5, 0, 0, 0, 0, 0, 2, 4, 6, 0, 0, 0, 0, 0};                \
    const REAL v1[3] = {1, 2, 3}, v2[6] = {1, 2, 2, 4, 3, 6};                                     \
    const sell_t M = {3, ptr, width, col, is_long, has_long, work, crow, ccol};                   \
    REAL out1[CHUNK], out2[CHUNK * 2];                                                            \
    NAME##_products(1, &M, val, val, 0, 1, v1, out1);                                             \
    NAME##_products(2, &M, val, val, 0, 1, v2, out2);                                             \
    const REAL want[3] = {5, 18, 23};                                                             \
    for (int r = 0; r < 3; ++r)                                                                   \
        if (out1[r] != want[r] || out2[2 * r] != want[r] || out2[2 * r + 1] != 2 * want[r]) return -1; \
    return (int)(out1[0] * 10000 + out1[1] * 100 + out1[2]);                                      \
}

#ifndef ONLY_FLOAT32
DEFINE_SELFTEST(plain_f64, double)
#endif
#ifndef ONLY_FLOAT64
DEFINE_SELFTEST(plain_f32, float)
#endif

int gridprox_selftest(void)
{
    int got = 51823;
#ifndef ONLY_FLOAT32
    if (plain_f64_selftest() != 51823) got = -1;
#endif
#ifndef ONLY_FLOAT64
    if (plain_f32_selftest() != 51823) got = -1;
#endif
    return got;
}
