"""Build one shard of atomic models.

Inputs: none. Outputs: ``sites`` (one row per atom / polygon centre) and ``models`` (one row
per model) Parquet tables. Config: ``structures`` and ``datasets.{dataset}``.
"""

from atomscope._shared.logs import configure_logging
from atomscope._shared.seeding import stage_rng
from atomscope.io import write_table
from atomscope.structures.shards import build_shard

if __name__ == "__main__":
    log = configure_logging(snakemake.log[0])  # noqa: F821 (snakemake is injected)
    cfg, dataset, shard = snakemake.params.structures, snakemake.params.dataset, int(snakemake.wildcards.shard)
    first = shard * dataset["shard_size"]
    n_models = min(dataset["shard_size"], dataset["images"] - first)
    sites, models = build_shard(cfg, n_models=n_models, first_model=first, rng=stage_rng(dataset["seed"], "structures", shard))
    log.info("built %d models, %d atoms", len(models), int((sites["kind"] == "atom").sum()))
    units = {"x": "Å", "y": "Å", "z": "Å", "cell_x": "Å", "cell_y": "Å", "radius": "Å", "mean_bond": "Å"}
    units |= {"layer_spacing": "Å", "twist": "deg", "defects": "JSON; x, y, r in Å, angle in deg"}
    write_table(sites, snakemake.output.sites, config={"structures": cfg, "dataset": dataset}, units=units)
    write_table(models, snakemake.output.models, config={"structures": cfg, "dataset": dataset}, units=units)
