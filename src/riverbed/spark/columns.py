"""Column expressions built once per JVM and reused by every micro-batch.

Each Column made in PySpark costs py4j round trips (F.col is three or four, ~0.1-0.4 ms each on a
small machine) and a release message when Python drops it. A parse that builds its expressions
anew for every micro-batch made ~2,400 round trips per YSB micro-batch, about a tenth of a second.
Columns are unresolved expressions, bound to no DataFrame or session: one built for the first
micro-batch serves all later ones.

    >>> exprs = reusable(("my-parse", decoded), lambda: [F.col("value").cast("string")])  # doctest: +SKIP

A value that changes every micro-batch (a watermark) goes in as `batch_constant`, which keeps the
batch's generated Java the same from one micro-batch to the next.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from pyspark.sql import Column

T = TypeVar("T")

_built: dict[tuple[int, Hashable], object] = {}
_lock = threading.RLock()


def reusable(key: Hashable, build: Callable[[], T]) -> T:
    """`build()`'s result (Columns, or anything holding them) for `key`, built once per JVM gateway."""
    from pyspark import SparkContext

    full = (id(SparkContext._gateway), key)
    with _lock:
        if full not in _built:
            for stale in [k for k in _built if k[0] != full[0]]:  # a new JVM: the old objects are gone
                del _built[stale]
            _built[full] = build()
        return _built[full]  # type: ignore[return-value]


#: The type of `batch_constant`s; compare a long with one as `col.cast(BATCH_CONSTANT_TYPE)`.
BATCH_CONSTANT_TYPE = "decimal(18,0)"


def batch_constant(value: int) -> Column:
    """`value` as a constant that leaves the generated code unchanged when it changes.

    Spark writes long (and timestamp) literals into the Java it compiles for a stage, so a long that
    changes every micro-batch makes a new class every micro-batch: ~25 ms of Janino on the driver,
    then the JVM's JIT compiling the new class again (~0.7 of a core on 2 cores in YSB, found with
    -XX:+PrintCompilation). A decimal literal is passed to the class by reference instead.
    """
    from decimal import Decimal

    from pyspark.sql import functions as F

    return F.lit(Decimal(int(value))).cast(BATCH_CONSTANT_TYPE)
