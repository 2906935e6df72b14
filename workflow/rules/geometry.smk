rule triangulate:
    message:
        "Triangulating the sites of sample {wildcards.sample}: bonds, angles, rings, g(r), defects"
    input:
        sites=rules.infer.output.sites,
        maps=rules.infer.output.maps,
    output:
        bonds="results/geometry/{sample}/bonds.parquet",
        angles="results/geometry/{sample}/angles.parquet",
        rings="results/geometry/{sample}/rings.parquet",
        adjacency="results/geometry/{sample}/adjacency.parquet",
        defects="results/geometry/{sample}/defects.parquet",
        summary="results/geometry/{sample}/summary.parquet",
    params:
        geometry=section("geometry"),
    log:
        "logs/triangulate/{sample}.log",
    benchmark:
        "benchmarks/runs/triangulate/{sample}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/triangulate_sites.py"
