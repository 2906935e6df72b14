rule report_sample:
    message:
        "Figures of sample {wildcards.sample}"
    input:
        maps=rules.infer.output.maps,
        sites=rules.infer.output.sites,
        bonds=rules.triangulate.output.bonds,
        angles=rules.triangulate.output.angles,
        rings=rules.triangulate.output.rings,
        defects=rules.triangulate.output.defects,
        summary=rules.triangulate.output.summary,
        motifs=rules.motifs.output.motifs,
        averages=rules.motifs.output.averages,
        hierarchy=rules.motifs.output.hierarchy,
    output:
        overlay=report(
            "results/report/{sample}/overlay.png",
            caption="../report/overlay.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "atoms and rings"},
        ),
        network=report(
            "results/report/{sample}/network.png",
            caption="../report/network.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "rings, defects, strain"},
        ),
        statistics=report(
            "results/report/{sample}/statistics.png",
            caption="../report/statistics.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "statistics"},
        ),
        motifs=report(
            "results/report/{sample}/motifs.png",
            caption="../report/motifs.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "motifs"},
        ),
        symmetry=report(
            "results/report/{sample}/symmetry.png",
            caption="../report/symmetry.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "motif symmetry"},
        ),
        hierarchy=report(
            "results/report/{sample}/hierarchy.png",
            caption="../report/hierarchy.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "motif hierarchy"},
        ),
        species=report(
            "results/report/{sample}/species.png",
            caption="../report/species.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "species"},
        ),
        frames=report(
            "results/report/{sample}/frames.png",
            caption="../report/frames.rst",
            category="Samples",
            subcategory="{sample}",
            labels={"sample": "{sample}", "figure": "frame by frame"},
        ),
        species_counts="results/report/{sample}/species.parquet",
        species_sites="results/report/{sample}/species_sites.parquet",
    params:
        report=section("report"),
    log:
        "logs/report_sample/{sample}.log",
    benchmark:
        "benchmarks/runs/report_sample/{sample}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
    conda:
        "../../envs/atomscope.yaml"
    script:
        "../../scripts/plot_sample.py"

