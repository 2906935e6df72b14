"""Build one shard of atomic models.

Inputs: none. Outputs: ``sites`` (one row per atom / polygon centre) and ``models`` (one row
per model) Parquet tables. Config: ``structures``, and of ``datasets.{dataset}`` only what the
shard depends on (params ``shard``: seed, first model, number of images; see common.smk).
"""

from atomscope.io import write_table
from atomscope.logs import configure_logging
from atomscope.structures import build_shard, stage_rng

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
    cfg, shard = snakemake.params.structures, snakemake.params.shard
    rng = stage_rng(shard["seed"], "structures", shard["shard"])
    sites, models = build_shard(cfg, n_models=shard["images"], first_model=shard["first_model"], rng=rng)
    log.info("built %d models, %d atoms", len(models), int((sites["kind"] == "atom").sum()))
    units = {"x": "Å", "y": "Å", "z": "Å", "cell_x": "Å", "cell_y": "Å", "radius": "Å", "mean_bond": "Å"}
    units |= {"layer_spacing": "Å", "twist": "deg", "defects": "JSON; x, y, r in Å, angle in deg"}
    write_table(sites, snakemake.output.sites, config={"structures": cfg, "shard": shard}, units=units)
    write_table(models, snakemake.output.models, config={"structures": cfg, "shard": shard}, units=units)
