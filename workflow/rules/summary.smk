# The summary across samples, from the per-sample rules' tables or the batch jobs' folders.


rule report_summary:
    message:
        "Summary across samples: statistics, detection scores, training curve"
    input:
        unpack(summary_inputs),
        metrics=model_metrics,
    output:
        table=report(
            "results/report/samples.tsv",
            caption="../report/samples.rst",
            category="Summary",
            labels={"table": "per-sample statistics and detection scores"},
        ),
        figure=report(
            "results/report/summary.png",
            caption="../report/summary.rst",
            category="Summary",
            labels={"figure": "detection scores and training"},
        ),
    params:
        report=section("report"),
        tables=summary_tables(),
    log:
        "logs/report_summary.log",
    benchmark:
        "benchmarks/runs/report_summary.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/plot_summary.py"
