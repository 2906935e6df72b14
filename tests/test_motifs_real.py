"""Motifs of a real image: MoSe2 with a mirror-twin grain boundary (Dan et al. 2022's own sample)."""

from __future__ import annotations

import numpy as np
import pytest

from _mose2_motifs import bulk_sites, mose2_motifs, other_motif_fraction


@pytest.mark.realdata
def test_mose2_sublattices_and_grain_boundary_are_motifs_of_their_own(shared_data):
    _, _, sites, motifs = mose2_motifs(shared_data / "mose2_stem_grain_boundary.tif")
    bulk = bulk_sites(sites)
    other = other_motif_fraction(sites, motifs)
    label = np.full(len(sites), -1)
    label[motifs["site"].to_numpy()] = motifs["motif"].to_numpy()
    inside = bulk & (label >= 0)
    assert inside.sum() > 500  # of 1310 sites, 659 away from boundaries and image edges

    # away from the boundaries a site's three neighbours are the other species (Mo <-> Se2):
    # each motif there holds one sublattice, >= 95 % of its neighbours in another motif
    crystal = [k for k in np.unique(label[inside]) if (label[inside] == k).sum() >= 20]
    assert sum((label[inside] == k).sum() for k in crystal) >= 0.98 * inside.sum()
    for k in crystal:
        assert np.mean(other[inside & (label == k)]) >= 0.95, k

    # the boundary (a horizontal line near y = 58 Å) is a motif of its own: all off the
    # crystal, and its sites in one band a lattice constant high
    boundary = [k for k in np.unique(label[label >= 0]) if k not in crystal and (label == k).sum() >= 15]
    assert len(boundary) >= 1
    for k in boundary:
        members = label == k
        assert not (members & bulk).any()
        assert np.ptp(sites["y"][members]) < 3.29 * 1.5
