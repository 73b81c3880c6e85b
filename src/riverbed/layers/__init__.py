"""Lambda layers: the batch layer recomputes views from the lake up to a cutoff, the speed layer
(the streaming pipeline) keeps them from the cutoff on, and the serving layer answers from both."""

from __future__ import annotations

from riverbed.layers.batch import BatchLayerResult, run_batch_layer
from riverbed.layers.serving import answer, end_expression, is_view, query

__all__ = ["BatchLayerResult", "answer", "end_expression", "is_view", "query", "run_batch_layer"]
