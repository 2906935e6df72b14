rule infer:
    message:
        "Detecting atoms and polygon centres in sample {wildcards.sample}"
    input:
        image=sample_image,
        model=sample_model,
        monolayer_model=sample_monolayer_model,
    output:
        maps="results/inference/{sample}/maps.h5",
        sites="results/inference/{sample}/sites.parquet",
    params:
        inference=sample_inference,
        pixel_size=sample_pixel_size,
    log:
        "logs/infer/{sample}.log",
    benchmark:
        "benchmarks/runs/infer/{sample}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        gpu=config["inference"]["gpus"],
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/infer_sites.py"
