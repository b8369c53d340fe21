"""Semantic memory: facts and entities distilled from episodes, and their life.

:mod:`.consolidate` decides what a new claim does to what is known,
:mod:`.decay` says how strong a memory still is, :mod:`.graph` ranks by
personalized PageRank, :mod:`.learn` runs extraction over new episodes and
:mod:`.sleep` is the offline pass behind :meth:`hippodex.Memory.consolidate`.
"""
