"""How a dataset of ``images`` splits into shards of ``shard_size``: shard k holds the images
(and models) numbered k * shard_size onwards, so a shard's content never depends on how many
images the dataset holds; only the last shard is partial."""

from __future__ import annotations

__all__ = ["shard_count", "shard_span"]


def _check_sizes(images: int, shard_size: int) -> None:
    if int(images) < 1:
        raise ValueError(f"`images` must be >= 1, got {images!r}")
    if int(shard_size) < 1:
        raise ValueError(f"`shard_size` must be >= 1, got {shard_size!r}")


def shard_count(images: int, shard_size: int) -> int:
    """Number of shards of a dataset of ``images`` in shards of ``shard_size`` (the last may be partial)."""
    _check_sizes(images, shard_size)
    return -(-int(images) // int(shard_size))


def shard_span(images: int, shard_size: int, shard: int) -> tuple[int, int]:
    """(first model, number of models) of ``shard``: ``shard_size`` models from ``shard * shard_size``,
    fewer in the last shard when ``images`` is not a multiple of ``shard_size``.

    Examples
    --------
    >>> shard_span(7, 3, 1), shard_span(7, 3, 2)
    ((3, 3), (6, 1))
    """
    count = shard_count(images, shard_size)
    if not 0 <= int(shard) < count:
        raise ValueError(
            f"`shard` must be in 0..{count - 1} for {images} images in shards of {shard_size}, got {shard!r}"
        )
    first = int(shard) * int(shard_size)
    return first, min(int(shard_size), int(images) - first)
