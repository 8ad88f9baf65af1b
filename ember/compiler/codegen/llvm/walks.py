"""How the LLVM renderer walks a kernel, decided from the kernel IR alone: column-tile walks
for column reductions and for rows shorter than a vector (``_column_mode``,
``_narrow_mode``, ``_tile_passes``), and the loop metadata that keeps LLVM from unrolling
outer loops or gathering strided loads of short inner ones (``_loop_metadata``).
``render.KernelRenderer`` emits the loops."""
from __future__ import annotations

import llvmlite.ir as ir

from ... import kernel_ir as K
from .rowreuse import _COSTLY

def _column_mode(k):
    """Whether ``k`` is a plain multi-column reduction better walked column-tile-wise:
    reductions (sum/max/min, reading no other reduction) followed by row-level stores,
    loads unit-stride along the last outer axis but strided along the innermost reduced
    axis."""
    if not k.inner or not k.outer:
        return False
    last = len(k.outer) - 1
    seen_store = False
    loads = []
    for st in k.body:
        if isinstance(st, K.Reduce):
            if seen_store or st.op not in ("sum", "max", "min"):
                return False
            for n in K.walk(st.value):
                if isinstance(n, (K.AccRef, K.IndexVar)):
                    return False
                if isinstance(n, K.Load):
                    loads.append(n.access.strides)
        else:
            seen_store = True
            if not K.is_row_level(k, st):
                return False
    return bool(loads) and all(s[last] in (0, 1) for s in loads) and \
        any(s[last] == 1 for s in loads) and any(s[-1] not in (0, 1) for s in loads)


_NARROW_ROW = 16


def _narrow_mode(k):
    """Whether ``k`` reduces rows shorter than one vector (cross-entropy over 10 classes:
    outer [2048] inner [10]). Walked row-wise, each row's loops are too short to vectorise
    and every exp/log in them runs scalar (160 us for the MLP's batch of 2048); walked
    column-tile-wise (``_column_tiles``) the tile of rows is the vector loop. The last
    outer axis must be long enough to fill a tile, reductions are sum/max/min, and the
    kernel computes a costly function (exp, log, ...)."""
    if not k.inner or not k.outer or K.numel(k.inner) > _NARROW_ROW or k.outer[-1] < 16:
        return False
    reduces = [st for st in k.body if isinstance(st, K.Reduce)]
    if not reduces or any(st.op not in ("sum", "max", "min") for st in reduces):
        return False
    # the gain is SIMD exp/log; plain arithmetic runs about as fast row-wise (the MLP's
    # softmax backward, (2048, 10): 20 us row-wise, 25 us tile-wise)
    return any(isinstance(n, K.Op) and n.op in _COSTLY for st in k.body
               for n in K.walk(st.value))


def _tile_passes(k):
    """The passes of a column-tile walk, in body order: ("reduce", [Reduce, ...]) runs
    reductions together until one reads an earlier one's accumulator; ("store", [Store])
    writes one non-row-level store over the row's elements. Row-level stores run after
    all passes (nothing in the kernel reads a row-level store back)."""
    passes, cur = [], []
    for st in k.body:
        if isinstance(st, K.Reduce):
            reads = {n.name for n in K.walk(st.value) if isinstance(n, K.AccRef)}
            if reads & {r.name for r in cur}:
                passes.append(("reduce", cur))
                cur = []
            cur.append(st)
        elif not K.is_row_level(k, st):
            if cur:
                passes.append(("reduce", cur))
                cur = []
            passes.append(("store", [st]))
    if cur:
        passes.append(("reduce", cur))
    return passes


_SHORT_TRIP = (8, 16)    # below 8 a vector iteration rarely runs (7x7 pooling: no gain)
_LOOP_IDS = [0]


def _strided_along(k, d):
    """Whether some load walks axis ``d`` with a stride other than 0 or +-1 (strided
    stores were measured too: the pooling gradient's fold got slower, 233 -> 269 us)."""
    return any(isinstance(n, K.Load) and n.access.strides[d] not in (0, 1, -1)
               for st in k.body for n in K.walk(st.value))


def _loop_metadata(module, latch, *attrs):
    """Attach loop attributes (``(name, value...)`` tuples) to the loop whose latch branch
    is ``latch``. Two uses:

    * ``unroll.disable`` on every loop that contains another loop: LLVM otherwise unrolls
      small outer loops fully once the inner one became a call (a 9-float row copy turns
      into memcpy, and a (16, 32, 9) transpose kernel into 512 inlined memcpys that took
      0.9 s to compile; rolled: 10 ms), with no gain at run time;
    * ``unroll.disable`` + ``vectorize.enable`` on a short innermost loop with strided
      loads (max pooling's stride-2 window reads, 14 iterations): left alone, LLVM unrolls
      it fully and the SLP vectoriser turns the strided loads into gathers; kept rolled,
      the loop vectoriser handles them as interleaved loads (CNN pooling kernel, 1
      thread: 354 -> 261 us)."""
    _LOOP_IDS[0] += 1
    nodes = [module.add_metadata([ir.MetaDataString(module, a[0])] + list(a[1:]))
             for a in attrs]
    nodes.append(module.add_metadata([ir.MetaDataString(module, f"ember.loop.{_LOOP_IDS[0]}")]))
    loop = module.add_metadata(nodes)
    loop.operands = (loop,) + tuple(loop.operands)     # a loop ID refers to itself
    latch.set_metadata("llvm.loop", loop)
