"""Simulate one shard of micrographs (HRTEM focal series or ADF-STEM) with noise, artefacts and targets.

Inputs: ``sites``, ``models`` of the structures shard. Outputs: ``images`` (HDF5: images
[N,C,H,W] counts, targets [N,K,H,W], sampling [N], model [N]; attrs channel_names,
target_names) and ``table`` (Parquet: every drawn parameter per image, the defocus of each
channel). Config: ``simulation``, and params ``shard`` (the dataset's seed, the shard's first
model and number of images; see common.smk). abTEM runs on the GPU when
CuPy and CUDA are present, else on the CPU.
"""

import abtem

from atomscope.io import read_table, write_arrays, write_table
from atomscope.logs import configure_logging
from atomscope.simulation import abtem_device, shard_attrs, simulate_shard, stage_rng

UNITS = {
    "energy": "eV",
    "defocus": "Å",
    "Cs": "Å",
    "dose": "e/Å^2",
    "sampling": "Å/px",
    "requested_sampling": "Å/px",
    "astigmatism": "Å",
    "astigmatism_angle": "rad",
    "semiangle_cutoff": "mrad",
    "focal_spread": "Å",
    "angular_spread": "mrad",
    "blur": "px",
    "illumination": "1",
    "illumination_angle": "rad",
    "background": "1",
    "background_length": "Å",
    "scan_drift": "px/line",
    "scan_drift_angle": "rad",
    "scan_jitter": "px",
    "offset": "1",
}

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821
    device = abtem_device()
    abtem.config.set({"device": device, "dask.lazy": False, "num_workers": snakemake.threads})
    cfg, shard = snakemake.params.simulation, snakemake.params.shard
    sites, models = read_table(snakemake.input.sites), read_table(snakemake.input.models)
    arrays, table = simulate_shard(sites, models, cfg, stage_rng(shard["seed"], "simulation", shard["shard"]))
    attrs = shard_attrs(cfg)
    log.info("simulated %d images %s (%s) on %s", len(table), arrays["images"].shape[1:], cfg["mode"], device)
    meta = {"simulation": cfg, "shard": shard}
    write_arrays(
        snakemake.output.images,
        arrays,
        attrs=attrs,
        config=meta,
        units={"images": "e/px", "targets": "1", "sampling": "Å/px", "model": "1"},
    )
    channels = {c: "Å" for c in table.columns if c.startswith("defocus_")}
    write_table(table, snakemake.output.table, config=meta, units={**UNITS, **channels})
