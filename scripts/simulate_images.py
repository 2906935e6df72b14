"""Simulate one shard of HRTEM images with abTEM, with dose noise and target heat maps.

Inputs: ``sites``, ``models`` of the structures shard. Outputs: ``images`` (HDF5: images
[N,1,H,W] counts, targets [N,K,H,W], sampling [N]) and ``table`` (Parquet: every drawn
microscope parameter per image). Config: ``simulation`` and ``datasets.{dataset}``.
"""

import abtem

from atomscope._shared.logs import configure_logging
from atomscope._shared.seeding import stage_rng
from atomscope.io import read_table, write_arrays, write_table
from atomscope.simulation.shards import TARGET_NAMES, simulate_shard

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    abtem.config.set({"device": "cpu", "dask.lazy": False, "num_workers": snakemake.threads})
    cfg, dataset, shard = snakemake.params.simulation, snakemake.params.dataset, int(snakemake.wildcards.shard)
    sites, models = read_table(snakemake.input.sites), read_table(snakemake.input.models)
    arrays, table = simulate_shard(sites, models, cfg, stage_rng(dataset["seed"], "simulation", shard))
    log.info("simulated %d images of %s px", len(table), arrays["images"].shape[-2:])
    meta = {"simulation": cfg, "dataset": dataset}
    write_arrays(
        snakemake.output.images,
        arrays,
        attrs={"channel_names": ["hrtem"], "target_names": list(TARGET_NAMES)},
        config=meta,
        units={"images": "e/px", "targets": "1", "sampling": "Å/px", "model": "1"},
    )
    units = {"energy": "eV", "defocus": "Å", "Cs": "Å", "semiangle_cutoff": "mrad", "focal_spread": "Å", "dose": "e/Å^2", "sampling": "Å/px"}
    write_table(table, snakemake.output.table, config=meta, units=units)
