rule analyse_batch:
    message:
        "Analysing the samples of batch {wildcards.batch}: inference, scores, geometry, motifs and figures"
    input:
        unpack(batch_inputs),
    output:
        report(
            directory("results/batches/{batch}"),
            patterns=["{sample}/{figure}.png"],
            caption="../report/batch.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "{figure}"},
        ),
    params:
        samples=batch_samples,
        sections={name: section(name) for name in ("evaluation", "geometry", "motifs", "report")},
    log:
        "logs/analyse_batch/{batch}.log",
    benchmark:
        "benchmarks/runs/analyse_batch/{batch}.tsv"
    threads: 2
    resources:
        mem_mb=4000,
        gpu=config["inference"]["gpus"],
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/analyse_batch.py"
