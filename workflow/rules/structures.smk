rule structures:
    message:
        "Building atomic models of dataset {wildcards.dataset}, shard {wildcards.shard}"
    output:
        sites="results/structures/{dataset}/{shard}.parquet",
        models="results/structures/{dataset}/{shard}.models.parquet",
    params:
        structures=section("structures"),
        shard=shard_spec,
    log:
        "logs/structures/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/runs/structures/{dataset}/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/build_structures.py"
