rule train:
    message:
        "Training model {wildcards.model} on the simulated train dataset"
    input:
        images=shard_paths(rules.simulate.output.images, "train"),
        sites=shard_paths(rules.structures.output.sites, "train"),
        models=shard_paths(rules.structures.output.models, "train"),
    output:
        model="results/models/{model}/model.safetensors",
        metrics="results/models/{model}/metrics.parquet",
    params:
        training=section("training"),
        preset=config.get("preset"),
    log:
        "logs/train/{model}.log",
    benchmark:
        "benchmarks/runs/train/{model}.tsv"
    threads: 8  # capped at --cores on a workstation; the CPUs a cluster job asks for
    resources:
        mem_mb=8000,
        gpu=config["training"]["gpus"],
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/train_model.py"
