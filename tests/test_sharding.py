"""How a dataset splits into shards: complete shards never depend on the dataset's size."""

import pytest

from atomscope._shared.sharding import shard_count, shard_span


@pytest.mark.parametrize("images, shard_size", [(1, 1), (6, 3), (7, 3), (5000, 50), (49, 50)])
def test_shards_tile_the_dataset_and_only_the_last_is_partial(images, shard_size):
    spans = [shard_span(images, shard_size, k) for k in range(shard_count(images, shard_size))]
    assert [first for first, _ in spans] == list(range(0, images, shard_size))
    assert sum(n for _, n in spans) == images
    assert all(n == shard_size for _, n in spans[:-1]) and 1 <= spans[-1][1] <= shard_size


def test_a_complete_shard_is_the_same_whatever_the_dataset_size():
    assert {shard_span(images, 3, 1) for images in (6, 7, 9, 300)} == {(3, 3)}
    assert [shard_span(images, 3, 2) for images in (7, 8, 9)] == [(6, 1), (6, 2), (6, 3)]


@pytest.mark.parametrize("shard", [-1, 3])
def test_a_shard_outside_the_dataset_names_the_range(shard):
    with pytest.raises(ValueError, match=r"`shard` must be in 0\.\.2 for 7 images in shards of 3"):
        shard_span(7, 3, shard)


def test_sizes_below_one_are_rejected():
    with pytest.raises(ValueError, match="`shard_size` must be >= 1, got 0"):
        shard_count(6, 0)
