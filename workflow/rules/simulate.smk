rule simulate:
    message:
        "Simulating images (config simulation.mode) of dataset {wildcards.dataset}, shard {wildcards.shard}"
    input:
        sites=rules.structures.output.sites,
        models=rules.structures.output.models,
    output:
        images="results/simulations/{dataset}/{shard}.h5",
        table="results/simulations/{dataset}/{shard}.parquet",
    params:
        simulation=section("simulation"),
        shard=shard_spec,
    log:
        "logs/simulate/{dataset}/{shard}.log",
    benchmark:
        "benchmarks/runs/simulate/{dataset}/{shard}.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        gpu=config["simulation"]["gpus"],
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/simulate_images.py"


rule export_test_image:
    message:
        "Writing simulated image {wildcards.index} of {wildcards.dataset}/{wildcards.shard} as a calibrated TIFF with its true sites"
    input:
        images=rules.simulate.output.images,
        sites=rules.structures.output.sites,
        models=rules.structures.output.models,
    output:
        image="results/test_images/{dataset}/{shard}-{index}.tif",
        truth="results/test_images/{dataset}/{shard}-{index}.truth.parquet",
    log:
        "logs/export_test_image/{dataset}/{shard}-{index}.log",
    benchmark:
        "benchmarks/runs/export_test_image/{dataset}/{shard}-{index}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/export_test_image.py"
