rule motifs:
    message:
        "Zernike features, motif layout, labels, class averages and motif-cell hierarchy of sample {wildcards.sample}"
    input:
        sites=rules.infer.output.sites,
        maps=rules.infer.output.maps,
    output:
        features="results/motifs/{sample}/features.parquet",
        motifs="results/motifs/{sample}/motifs.parquet",
        averages="results/motifs/{sample}/averages.h5",
        hierarchy="results/motifs/{sample}/hierarchy.parquet",
    params:
        motifs=section("motifs"),
    log:
        "logs/motifs/{sample}.log",
    benchmark:
        "benchmarks/runs/motifs/{sample}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/find_motifs.py"
