"""Recall channels. Each implements :class:`~hippodex.recall.channels.base.Channel`."""
