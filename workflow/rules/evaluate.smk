rule evaluate:
    message:
        "Scoring the detections in sample {wildcards.sample} against its ground truth"
    input:
        sites=rules.infer.output.sites,
        maps=rules.infer.output.maps,
        truth=sample_truth,
    output:
        scores="results/evaluation/{sample}.parquet",
    params:
        evaluation=section("evaluation"),
    log:
        "logs/evaluate/{sample}.log",
    benchmark:
        "benchmarks/runs/evaluate/{sample}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/evaluate_detections.py"
